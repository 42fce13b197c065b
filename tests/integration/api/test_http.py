"""The API over HTTP (in process, FastAPI's test client) against the real OpenSearch, on the sample
corpus as the pipeline's own stage code makes it: counts are computed from that output, not typed in."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from services.api.access import key_hash
from services.api.settings import ApiSettings
from shared.localhost import free_port
from shared.search.client import sync_client
from shared.search.queries import Cursor
from shared.settings import OpenSearchSettings
from tests.factories import linked
from tests.integration.api.conftest import SampleIndex, api_client, index_articles
from tests.support import SAMPLE

pytestmark = pytest.mark.integration

EXPECTED = json.loads((SAMPLE / "expected.json").read_text())
(STORY,) = EXPECTED["story_clusters"].values()


def facet(page: dict, name: str) -> dict[str, int]:
    return {bucket["key"]: bucket["count"] for bucket in page["facets"][name]}


def assert_top_counts(shown: dict[str, int], counts: Counter[str], limit: int = 20) -> None:
    """A facet lists the ``limit`` commonest values with their exact counts (ties at its last place in any order)."""
    assert shown and all(shown[key] == counts[key] for key in shown)
    left_out = [count for key, count in counts.items() if key not in shown]
    assert min(shown.values()) >= max(left_out, default=0)
    assert len(shown) == min(len(counts), limit)


def test_facet_counts_are_exact_over_the_whole_corpus(api: TestClient, sample_index: SampleIndex) -> None:
    articles = sample_index.articles.values()
    page = api.get("/v1/articles", params={"size": 1}).json()
    assert page["total"] == len(articles) == sum(EXPECTED["counts_by_topic"].values())
    assert_top_counts(facet(page, "topic"), Counter(key for a in articles for key in {t.key for t in a.topics}))
    assert_top_counts(facet(page, "source"), Counter(a.source.name for a in articles))
    assert_top_counts(facet(page, "entity"), Counter(e for a in articles for e in {e.id for e in a.entities}))
    assert facet(page, "sentiment") == Counter(a.sentiment.label for a in articles if a.sentiment)
    assert facet(page, "language") == Counter(a.language for a in articles)
    # As many stories as the stories stage made of the corpus (how well it groups: bench/stories_*.py).
    assert page["stories"] == len({a.story_id for a in articles})


def test_filters_narrow_the_hits_and_the_facets(api: TestClient, sample_index: SampleIndex) -> None:
    articles = sample_index.articles.values()
    technology = [a for a in articles if "technology" in {t.key for t in a.topics}]
    page = api.get("/v1/articles", params={"topic": "technology", "sentiment": ["positive", "negative"]}).json()
    chosen = [a for a in technology if a.sentiment and a.sentiment.label != "neutral"]
    assert page["total"] == len(chosen)
    assert facet(page, "sentiment") == Counter(a.sentiment.label for a in chosen if a.sentiment)
    assert facet(page, "topic")["technology"] == len(chosen)


def test_an_entity_filter_takes_an_id_or_a_handle(api: TestClient, sample_index: SampleIndex) -> None:
    original = sample_index.articles[STORY["original"]]
    named = original.entities[0]
    by_id = api.get("/v1/articles", params={"entity": named.id, "size": 50}).json()
    by_handle = api.get("/v1/articles", params={"entity": f"@{named.handle.upper()}", "size": 50}).json()
    mentioning = {a.article_id for a in sample_index.articles.values() if named.id in {e.id for e in a.entities}}
    assert {hit["id"] for hit in by_id["articles"]} == mentioning
    assert {hit["id"] for hit in by_handle["articles"]} == mentioning


def test_full_text_is_highlighted_and_ranked(api: TestClient) -> None:
    page = api.get("/v1/articles", params={"q": "trillion parameters", "size": 5}).json()
    assert page["total"] >= len(STORY["retellings"]) + 1
    assert all("<em>" in json.dumps(hit["highlight"]) for hit in page["articles"])
    scores = [hit["score"] for hit in page["articles"]]
    assert scores == sorted(scores, reverse=True)


def test_the_sample_story_lists_the_original_first(api: TestClient, sample_index: SampleIndex) -> None:
    retelling = sample_index.id_of(STORY["retellings"][-1])
    story_id = api.get(f"/v1/articles/{retelling}").json()["story_id"]
    story = api.get(f"/v1/stories/{story_id}").json()
    tellings = {sample_index.id_of(name) for name in [STORY["original"], *STORY["retellings"]]}
    assert story["original"]["id"] == sample_index.id_of(STORY["original"])
    assert {member["id"] for member in story["members"]} == tellings
    assert story["size"] == len(tellings) == len(story["outlets"])
    dates = [member["dated_at"] for member in story["timeline"]]
    assert dates == sorted(dates) and (story["first_seen"], story["last_seen"]) == (dates[0], dates[-1])
    filtered = api.get("/v1/articles", params={"story": story_id, "size": 20}).json()
    assert {hit["id"] for hit in filtered["articles"]} == tellings


def test_an_article_comes_with_its_body_and_story_size(api: TestClient, sample_index: SampleIndex) -> None:
    original = sample_index.articles[STORY["original"]]
    found = api.get(f"/v1/articles/{original.article_id}").json()
    assert found["title"] == original.title and found["body"] == original.body
    assert found["story_size"] == len(STORY["retellings"]) + 1
    assert "signature" not in found


def test_an_entity_has_its_articles_daily_counts_and_neighbours(api: TestClient, sample_index: SampleIndex) -> None:
    named = sample_index.articles[STORY["original"]].entities[0]
    mentioning = [a for a in sample_index.articles.values() if named.id in {e.id for e in a.entities}]
    page = api.get(f"/v1/entities/@{named.handle}").json()
    assert page["entity"]["id"] == named.id and page["total"] == len(mentioning)
    assert sum(day["count"] for day in page["mentions_per_day"]) == len(mentioning)
    together = Counter(key for a in mentioning for key in {e.id for e in a.entities} - {named.id})
    assert_top_counts({n["key"]: n["count"] for n in page["co_occurring"]}, together, limit=10)
    assert all(n["label"] for n in page["co_occurring"])


def test_a_topic_lists_one_article_per_story_with_its_subtopics(api: TestClient, sample_index: SampleIndex) -> None:
    technology = [a for a in sample_index.articles.values() if "technology" in {t.key for t in a.topics}]
    page = api.get("/v1/topics/technology", params={"size": 50}).json()
    assert page["total"] == len(technology)
    assert len(page["articles"]) == page["stories"] == len(technology) - len(STORY["retellings"])
    assert all(sub["key"].startswith("technology/") for sub in page["subtopics"]) and page["subtopics"]


def test_related_leaves_out_the_story_itself(api: TestClient, sample_index: SampleIndex) -> None:
    original = sample_index.id_of(STORY["original"])
    tellings = {sample_index.id_of(name) for name in [STORY["original"], *STORY["retellings"]]}
    related = api.get(f"/v1/related/{original}").json()["related"]
    assert related and not {hit["id"] for hit in related} & tellings
    assert api.get("/v1/related/no-such-article").status_code == 404


def test_trending_as_of_the_newest_article(api: TestClient) -> None:
    newest = api.get("/v1/articles", params={"sort": "date", "size": 1}).json()["articles"][0]["dated_at"]
    trending = api.get("/v1/trending", params={"window": "30d", "baseline": "365d", "as_of": newest}).json()
    assert trending["articles"] > 0 and trending["window_end"].startswith(newest[:10])


def test_export_streams_every_match_with_its_body(sample_index: SampleIndex) -> None:
    # Pages of 4 articles: the export crosses many point-in-time pages.
    settings = ApiSettings(opensearch=sample_index.settings, export_page_size=4)
    with api_client(settings) as client, client.stream("GET", "/v1/export") as response:
        assert response.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert sorted(line["id"] for line in lines) == sorted(a.article_id for a in sample_index.articles.values())
    assert all(line["body"] for line in lines)
    with api_client(settings) as client:
        subset = [json.loads(line) for line in client.get("/v1/export", params={"topic": "sport"}).iter_lines() if line]
    assert len(subset) == sum(1 for a in sample_index.articles.values() if "sport" in {t.key for t in a.topics})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"size": 1000}, "size"),
        ({"sentiment": "happy"}, "sentiment"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"since": "2026-11-02", "until": "2026-11-01"}, "until"),
        ({"sort": "popularity"}, "sort"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(api: TestClient, params: dict, field: str) -> None:
    response = api.get("/v1/articles", params=params)
    assert response.status_code == 422
    assert {error["loc"][1] for error in response.json()["detail"]} == {field}


def test_a_bad_trending_window_is_a_422_naming_it(api: TestClient) -> None:
    response = api.get("/v1/trending", params={"window": "soon"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "window"]


def test_oversized_requests_are_refused(api: TestClient) -> None:
    assert api.get("/v1/articles", params={"q": "x" * 5000}).status_code == 414
    assert api.get("/v1/articles", params={"q": "x" * 600}).status_code == 422  # one value over its bound


def test_unknown_things_are_404s(api: TestClient) -> None:
    for path in ("/v1/articles/nope", "/v1/stories/nope", "/v1/entities/@nobody-at-all", "/articles/nope"):
        assert api.get(path).status_code == 404


def test_opensearch_down_is_a_503_with_retry_after_and_no_traceback() -> None:
    nowhere = OpenSearchSettings(url=f"http://127.0.0.1:{free_port()}", request_timeout_s=2)
    with api_client(ApiSettings(opensearch=nowhere, retry_after_s=7)) as client:
        for path in ("/v1/articles", "/v1/stories/x", "/v1/export", "/", "/articles/x"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert response.headers["retry-after"] == "7"
            assert "Traceback" not in response.text and "opensearchpy" not in response.text
        assert client.get("/healthz").status_code == 503


def test_an_api_key_is_required_when_configured_and_pages_stay_public(sample_index: SampleIndex) -> None:
    settings = ApiSettings(opensearch=sample_index.settings, key_hashes=[key_hash("s3cret")])
    with api_client(settings) as client:
        assert client.get("/v1/articles").status_code == 401
        assert client.get("/v1/articles", headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.get("/v1/articles", headers={"X-API-Key": "s3cret"}).status_code == 200
        assert client.get("/").status_code == 200


def test_each_key_has_its_own_rate(sample_index: SampleIndex) -> None:
    settings = ApiSettings(opensearch=sample_index.settings, rate_burst=2, rate_per_minute=1)
    with api_client(settings) as client:
        codes = [client.get("/v1/trending", headers={"X-API-Key": "a"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        limited = client.get("/v1/trending", headers={"X-API-Key": "a"})
        assert int(limited.headers["retry-after"]) >= 1
        assert client.get("/v1/trending", headers={"X-API-Key": "b"}).status_code == 200


def test_cors_is_off_unless_configured(sample_index: SampleIndex) -> None:
    origin = {"Origin": "https://reader.example"}
    with api_client(ApiSettings(opensearch=sample_index.settings)) as client:
        assert "access-control-allow-origin" not in client.get("/v1/trending", headers=origin).headers
    configured = ApiSettings(opensearch=sample_index.settings, cors_origins=["https://reader.example"])
    with api_client(configured) as client:
        allowed = client.get("/v1/trending", headers=origin).headers
        assert allowed["access-control-allow-origin"] == "https://reader.example"


def test_health_and_metrics(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    api.get("/v1/articles/nope")
    metrics = api.get("/metrics").text
    assert 'newsflow_api_requests_total{route="/v1/articles/{article_id}",status="404"}' in metrics


async def test_pages_show_untrusted_text_as_text(own_alias: OpenSearchSettings) -> None:
    hostile = linked(
        "hostile-1",
        title="<img src=x onerror=alert(1)> Harbour report",
        body="Before.\n\n<script>alert('body')</script>\n\nAfter the <b>tag</b>.",
        source='Outlet "><script>alert(2)</script>',
    ).model_copy(update={"url": "javascript:alert(3)"})
    await index_articles(own_alias, [hostile])
    with api_client(ApiSettings(opensearch=own_alias)) as client:
        for path in ("/articles/hostile-1", "/stories/hostile-1", "/search?q=harbour", "/"):
            html = client.get(path).text
            assert "<script>alert" not in html and "<img src=x" not in html, path
        page = client.get("/articles/hostile-1").text
        assert "&lt;script&gt;alert(&#39;body&#39;)&lt;/script&gt;" in page
        assert "After the &lt;b&gt;tag&lt;/b&gt;." in page
        assert "javascript:" not in page


async def test_pages_never_repeat_or_skip_while_articles_are_indexed(
    own_alias: OpenSearchSettings, sample_index: SampleIndex
) -> None:
    """Between every two pages, articles arrive dated all over the range (before and after the cursor):
    each pass returns exactly what matched at its first page, each article once."""
    first = list(sample_index.articles.values())
    await index_articles(own_alias, first)
    present = {article.article_id for article in first}
    arrived = 0
    # By relevance, the arrivals change every score: the pages read one point in time.
    passes = [{"sort": "date", "size": 7}, {"q": "trillion parameters open model", "sort": "relevance", "size": 3}]
    with api_client(ApiSettings(opensearch=own_alias, rate_burst=10_000)) as client:
        for params in passes:
            matching_at_start = {
                hit["id"] for hit in client.get("/v1/articles", params={**params, "size": 100}).json()["articles"]
            }
            seen: list[str] = []
            cursor: str | None = None
            while True:
                body = client.get("/v1/articles", params={**params, **({"cursor": cursor} if cursor else {})}).json()
                seen += [hit["id"] for hit in body["articles"]]
                arrivals = [
                    article.model_copy(
                        update={
                            "article_id": f"late-{arrived + n}",
                            "published_at": (article.published_at or article.ingested_at) + timedelta(minutes=n),
                        }
                    )
                    for n, article in enumerate(first[arrived % len(first) :: 9][:3])
                ]
                arrived += len(arrivals)
                await index_articles(own_alias, arrivals)
                present |= {article.article_id for article in arrivals}
                cursor = body["next_cursor"]
                if cursor is None:
                    break
            assert len(seen) == len(set(seen)), f"{params}: an article came twice"
            assert set(seen) == matching_at_start, f"{params}: articles skipped or added"
            assert len(seen) > params["size"], "the pass must cross pages"
    assert len(present) == len(first) + arrived


def test_a_point_in_time_that_is_gone_fails_its_cursor_but_not_new_searches(sample_index: SampleIndex) -> None:
    params = {"q": "trillion parameters", "size": 2}
    with api_client(ApiSettings(opensearch=sample_index.settings)) as api:
        cursor = api.get("/v1/articles", params=params).json()["next_cursor"]
        snapshot = Cursor.decode(cursor).snapshot
        assert snapshot is not None
        client = sync_client(sample_index.settings)
        try:
            client.delete_pit(body={"pit_id": [snapshot]})  # this app's own, as a node restart would
        finally:
            client.close()
        response = api.get("/v1/articles", params={**params, "cursor": cursor})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "cursor"]
        fresh = api.get("/v1/articles", params=params)
        assert fresh.status_code == 200 and Cursor.decode(fresh.json()["next_cursor"]).snapshot != snapshot
