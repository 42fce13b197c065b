"""The query module against the real OpenSearch, on a small corpus written for this test whose
answers are known: facet counts, highlights, more-on, more-in, related, trending and stories."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.messages import ArticleLinked, Entity
from shared.search.client import sync_client
from shared.search.queries import Searcher, SearchRequest, parse_entity_names
from shared.settings import OpenSearchSettings
from tests.conftest import Servers
from tests.factories import entity, handed_on, ids, index_worker, linked, signature
from tests.support import remove_indices

pytestmark = pytest.mark.integration

QUERYING_DOC = Path(__file__).resolve().parents[3] / "docs" / "querying.md"
DOCUMENTED = re.compile(
    r"<!-- example: (?P<name>[\w-]+) -->\n```\n(?P<method>GET|POST) articles/(?P<endpoint>\S+)\n(?P<body>.*?)\n```",
    re.S,
)

PORT = entity("nf:loc:port-calder", "Port Calder", "portcalder", kind="LOC")
UNION = entity("nf:org:calder-dockworkers", "Calder Dockworkers Union", "calderdockers")
ACME = entity("Q9000010", "Acme Chips", "acmechips")
BANK = entity("Q9000020", "Global Bank", "globalbank")
TESSERA = entity("Q9000030", "Tessera rover", "tessera", kind="PRODUCT")
UNITED = entity("nf:org:calder-united", "Calder United", "calderunited")

HARBOUR_BODY = (
    "Dockworkers at Port Calder walked out on Monday, leaving cranes idle and container ships queuing offshore. "
    "The union says the port authority broke a promise on night-shift pay. Shipping lines warned that the "
    "strike could delay deliveries of containers for weeks."
)
TRENDING_AS_OF = datetime(2026, 11, 24, 12, tzinfo=UTC)
TRENDING_WINDOW = timedelta(days=3)


def day(month: int, date: int, hour: int = 9) -> datetime:
    return datetime(2026, month, date, hour, tzinfo=UTC)


def article(
    article_id: str,
    entities: tuple[Entity, ...],
    topics: tuple[str, ...],
    salient: str | None = None,
    enrichments: dict[str, Any] | None = None,
    **fields: Any,
) -> ArticleLinked:
    """An article of the corpus; the ``salient`` entity is what the article is mostly about."""
    entities = tuple(e.model_copy(update={"salience": 0.8}) if e.id == salient else e for e in entities)
    written = linked(article_id, entities=entities, topics=topics, **fields)
    return written.model_copy(update={"enrichments": enrichments or {}})


CORPUS = [
    # One story told three times: the original and two outlets crediting it, one of them earlier.
    article(
        "harbour-original",
        (PORT, UNION, BANK),
        ("business/transport", "business"),
        title="Port Calder dockworkers strike over night-shift pay",
        body=HARBOUR_BODY,
        source="Calder Gazette",
        published_at=day(11, 20, 8),
        sentiment="negative",
        story_signature=signature(1),
    ),
    article(
        "harbour-digest",
        (PORT, UNION),
        ("business/transport", "business"),
        title="Strike halts Port Calder",
        body=HARBOUR_BODY + " Digest readers can follow updates through the day.",
        source="Wire Digest",
        published_at=day(11, 20, 7),
        original_source="Calder Gazette",
        sentiment="negative",
        story_signature=signature(1, differing=40, variant=1),
    ),
    article(
        "harbour-roundup",
        (PORT, UNION),
        ("business/transport", "business"),
        title="Roundup: Port Calder strike enters second day",
        body=HARBOUR_BODY + " The strike entered its second day with no talks planned.",
        source="Daily Roundup",
        published_at=day(11, 21, 9),
        original_source="calder-gazette",
        sentiment="negative",
        story_signature=signature(1, differing=60, variant=2),
    ),
    # A second story, told twice.
    article(
        "rover-weekly",
        (TESSERA,),
        ("science/space", "science"),
        title="Tessera rover passes its landing drop test",
        body="Engineers dropped the Tessera rover from a crane to test its landing legs, which held.",
        source="Space Weekly",
        published_at=day(11, 22, 10),
        sentiment="positive",
        story_signature=signature(2),
    ),
    article(
        "rover-orbit",
        (TESSERA,),
        ("science/space", "science"),
        title="Landing legs of the Tessera rover hold in drop test",
        body="The Tessera rover survived a drop test of its landing legs, engineers said.",
        source="Orbit News",
        published_at=day(11, 23, 10),
        sentiment="positive",
        story_signature=signature(2, differing=30, variant=1),
    ),
    # Stand-alone stories.
    article(
        "acme-export",
        (ACME, BANK),
        ("technology/semiconductors", "technology"),
        title="Acme Chips wins export licence for its accelerator",
        body="Acme Chips said regulators granted a licence to export its accelerator chips to three countries.",
        source="Tech Ledger",
        published_at=day(11, 23, 12),
        sentiment="positive",
        story_signature=signature(3),
    ),
    article(
        "acme-model",
        (ACME, BANK),
        ("technology/artificial-intelligence", "technology"),
        title="Acme Chips releases a language model tuned for its accelerator",
        body="Acme Chips released a language model that runs on its own accelerator chips, trained on public text.",
        source="Tech Ledger",
        published_at=day(11, 24, 8),
        sentiment="neutral",
        story_signature=signature(4),
        salient=ACME.id,
    ),
    article(
        "acme-benchmark",
        (ACME,),
        ("technology/artificial-intelligence", "technology"),
        title="Independent benchmark ranks Acme language model first on chips",
        body="An independent benchmark ranked the Acme language model first among models that run on small chips.",
        source="Byte Report",
        published_at=day(11, 24, 9),
        sentiment="positive",
        story_signature=signature(5),
    ),
    article(
        "united-win",
        (UNITED,),
        ("sport/football", "sport"),
        title="Calder United win the derby",
        body="Calder United scored twice in the second half to win the derby in front of a full stadium.",
        source="Sports Desk",
        published_at=day(11, 10),
        sentiment="positive",
        language="de",
        story_signature=signature(6),
    ),
    article(
        "tennis-final",
        (),
        ("sport/tennis", "sport"),
        title="Qualifier reaches the final",
        body="A qualifier reached the final of the indoor tournament after saving three match points.",
        source="Sports Desk",
        published_at=day(11, 5),
        language="fr",
    ),
    article(
        "acme-earnings",
        (ACME, BANK),
        ("business/markets", "business"),
        title="Acme Chips shares rise after earnings",
        body="Acme Chips shares rose after quarterly earnings beat forecasts, Global Bank analysts said.",
        source="Market Watcher",
        published_at=day(10, 20),
    ),
    article(
        "shipping-rates",
        (BANK, PORT),
        ("business/markets", "business"),
        title="Shipping rates climb as port strikes slow containers",
        body="Container shipping rates climbed as strikes by dockworkers at several ports left cranes idle "
        "and ships queuing offshore, Global Bank said.",
        source="Market Watcher",
        published_at=day(10, 25),
        sentiment="negative",
    ),
    article(
        "bank-rates",
        (BANK,),
        ("politics",),
        title="Global Bank urges rate cuts",
        body="Global Bank economists urged central banks to cut interest rates before the new year.",
        source="Policy Post",
        published_at=day(11, 1),
    ),
    article(
        "bank-report",
        (BANK,),
        ("politics",),
        title="Global Bank report on public debt",
        body="A Global Bank report said public debt in large economies would stabilise next year.",
        source="Policy Post",
        published_at=day(11, 15),
        enrichments={"claims": {"stance": "supportive", "count": 2}},
    ),
    # Written in French and German, dated before the trending baseline: each found by its own language's analysis.
    article(
        "hopitaux-fr",
        (),
        ("health",),
        title="Les hôpitaux publics manquent d'infirmières",
        body="Les hôpitaux publics de la région signalent des urgences saturées ; les syndicats nationaux "
        "réclament des embauches avant l'hiver.",
        source="Courrier du Soir",
        published_at=day(8, 12),
        language="fr",
    ),
    article(
        "wahlen-de",
        (),
        ("politics",),
        title="Bürgermeisterinnen gewinnen die Wahlen in drei Städten",
        body="In drei Städten haben Bürgermeisterinnen die Wahlen gewonnen; die Häuser der Verwaltung bleiben "
        "bis Montag geschlossen.",
        source="Abendblatt",
        published_at=day(8, 14),
        language="de",
    ),
]
BY_ID = {item.article_id: item for item in CORPUS}


@dataclass
class Indexed:
    searcher: Searcher
    settings: OpenSearchSettings


@pytest.fixture(scope="module")
async def indexed(servers: Servers) -> AsyncIterator[Indexed]:
    """The corpus, indexed once for this module's read-only tests."""
    settings = OpenSearchSettings(url=servers.opensearch_url, alias=f"tsearch{datetime.now(UTC):%H%M%S%f}-articles")
    async with index_worker(settings) as worker:
        assert handed_on(await worker.process_batch(CORPUS)) == ids(CORPUS)
        assert worker.client is not None
        await worker.client.indices.refresh(index=settings.alias)
    client = sync_client(settings)
    try:
        yield Indexed(Searcher(client, settings.alias), settings)
    finally:
        client.close()
        await remove_indices(settings, settings.alias)


def _expected_facets(articles: list[ArticleLinked]) -> dict[str, Counter[str]]:
    def count(values: Iterator[str]) -> Counter[str]:
        return Counter(values)

    return {
        "topic": count(key.key for item in articles for key in item.topics),
        "source": count(item.source.name for item in articles),
        "entity": count(entity_id for item in articles for entity_id in {e.id for e in item.entities}),
        "sentiment": count(item.sentiment.label for item in articles if item.sentiment),
        "language": count(item.language for item in articles if item.language),
        "published": count(f"{item.published_at:%Y-%m-%d}T00:00:00.000Z" for item in articles if item.published_at),
    }


def test_facet_counts_over_the_whole_index(indexed: Indexed) -> None:
    result = indexed.searcher.search(SearchRequest(size=len(CORPUS)))
    assert result.total == len(CORPUS)
    assert result.stories == len(CORPUS) - 2 - 1  # the harbour story has three articles, the rover story two
    for name, expected in _expected_facets(CORPUS).items():
        assert dict(result.facets[name]) == dict(expected), name
    assert result.entity_names["Q9000010"] == "Acme Chips"
    assert [hit["_id"] for hit in result.hits[:2]] == ["acme-benchmark", "acme-model"]  # no text: newest first


def test_filters_narrow_the_hits_and_the_facets(indexed: Indexed) -> None:
    result = indexed.searcher.search(SearchRequest(filters={"source": ["Tech Ledger"], "sentiment": ["positive"]}))
    assert [hit["_id"] for hit in result.hits] == ["acme-export"]
    assert dict(result.facets["topic"]) == {"technology": 1, "technology/semiconductors": 1}


def test_full_text_is_english_analysed_and_highlighted(indexed: Indexed) -> None:
    result = indexed.searcher.search(SearchRequest(text="dockworker striking"))
    found = [hit["_id"] for hit in result.hits]
    assert set(found) == {"harbour-original", "harbour-digest", "harbour-roundup", "shipping-rates"}
    shipping = next(hit for hit in result.hits if hit["_id"] == "shipping-rates")
    assert any("<em>dockworkers</em>" in fragment for fragment in shipping["highlight"]["body"])
    assert all(hit["story_size"] == (3 if hit["_id"].startswith("harbour") else 1) for hit in result.hits)


@pytest.mark.parametrize(
    ("text", "found", "marked"),
    [
        # Neither "hôpital" nor "nationale" is an English stem of what the article says ("hôpitaux", "nationaux").
        ("hôpital nationale", "hopitaux-fr", "<em>hôpitaux</em>"),
        ("Bürgermeisterin Wahl Haus", "wahlen-de", "<em>Häuser</em>"),
    ],
)
def test_full_text_analyses_each_article_in_its_own_language(
    indexed: Indexed, text: str, found: str, marked: str
) -> None:
    result = indexed.searcher.search(SearchRequest(text=text))
    assert [hit["_id"] for hit in result.hits] == [found]
    assert any(marked in fragment for fragment in result.hits[0]["highlight"]["body"])
    assert "localized" not in result.hits[0]  # a results list leaves the copy out, like the body


@pytest.mark.parametrize("subject", ["@AcmeChips", "Q9000010"])
def test_more_on_an_entity_lists_its_stories_newest_first(indexed: Indexed, subject: str) -> None:
    result = indexed.searcher.search(SearchRequest(more_on=subject))
    assert [hit["_id"] for hit in result.hits] == ["acme-benchmark", "acme-model", "acme-export", "acme-earnings"]
    assert (result.total, result.stories) == (4, 4)


def test_more_on_counts_a_retold_story_once(indexed: Indexed) -> None:
    result = indexed.searcher.search(SearchRequest(more_on="@portcalder"))
    assert (result.total, result.stories) == (4, 2)  # three tellings of the strike, and the shipping-rates piece
    assert [hit["_id"] for hit in result.hits] == ["harbour-roundup", "shipping-rates"]
    assert result.hits[0]["story_size"] == 3


def test_more_in_a_topic_includes_its_subtopics(indexed: Indexed) -> None:
    technology = indexed.searcher.search(SearchRequest(more_in="technology"))
    assert [hit["_id"] for hit in technology.hits] == ["acme-benchmark", "acme-model", "acme-export"]
    science = indexed.searcher.search(SearchRequest(more_in="#science"))
    assert [hit["_id"] for hit in science.hits] == ["rover-orbit"]
    assert (science.total, science.stories) == (2, 1)
    subtopic = indexed.searcher.search(SearchRequest(more_in="technology/artificial-intelligence"))
    assert subtopic.total == 2


def test_related_leaves_out_the_articles_own_story_and_shows_each_story_once(indexed: Indexed) -> None:
    related = indexed.searcher.related("harbour-digest")
    ids = [hit["_id"] for hit in related]
    assert ids[0] == "shipping-rates"
    assert not {"harbour-original", "harbour-roundup", "harbour-digest"} & set(ids)
    assert len({hit["cluster_id"] for hit in related}) == len(related)
    assert indexed.searcher.related("acme-model")[0]["_id"] == "acme-benchmark"


def test_trending_finds_what_rose_in_the_window(indexed: Indexed) -> None:
    trending = indexed.searcher.trending(TRENDING_AS_OF, TRENDING_WINDOW, timedelta(days=60), min_doc_count=2)
    window_start = TRENDING_AS_OF - TRENDING_WINDOW
    in_window = [item for item in CORPUS if item.published_at and item.published_at > window_start]
    assert trending.articles == len(in_window) == 5
    entities = {term.key: term for term in trending.entities}
    # Acme: 3 of the window's 5 articles against 4 of the baseline's 14; the rover: 2 of 5 against 2 of 14.
    assert set(entities) == {ACME.id, TESSERA.id}
    assert (entities[ACME.id].count, entities[ACME.id].baseline_count) == (3, 4)
    assert entities[ACME.id].label == "Acme Chips"
    # Global Bank is in 2 of the window's 5 articles but in 7 of the baseline's 14: falling, not rising.
    assert BANK.id not in entities
    topics = {term.key for term in trending.topics}
    assert {"technology", "science", "technology/artificial-intelligence", "science/space"} <= topics
    assert not {"business", "politics", "sport"} & topics


def test_a_story_lists_the_credited_original_first(indexed: Indexed) -> None:
    for member in ("harbour-digest", "harbour-roundup", "harbour-original"):
        story = indexed.searcher.story(member)
        assert [item["_id"] for item in story.members] == ["harbour-original", "harbour-digest", "harbour-roundup"]
    rover = indexed.searcher.story("rover-orbit")
    assert [item["_id"] for item in rover.members] == ["rover-weekly", "rover-orbit"]  # no credit: earliest first
    assert [item["_id"] for item in indexed.searcher.story("tennis-final").members] == ["tennis-final"]


def test_an_unknown_article_is_a_lookup_error(indexed: Indexed) -> None:
    with pytest.raises(LookupError):
        indexed.searcher.story("no-such-article")


def test_every_query_in_the_querying_doc_runs_and_answers(indexed: Indexed) -> None:
    examples = {match["name"]: match for match in DOCUMENTED.finditer(QUERYING_DOC.read_text())}
    assert len(examples) >= 12

    def run(name: str) -> dict[str, Any]:
        example = examples[name]
        path = f"/{indexed.settings.alias}/{example['endpoint']}"
        answer: dict[str, Any] = indexed.searcher.client.transport.perform_request(
            example["method"], path, body=json.loads(example["body"])
        )
        return answer

    def ids(name: str) -> list[str]:
        return [hit["_id"] for hit in run(name)["hits"]["hits"]]

    assert ids("full-text")[0] == "acme-export"
    assert set(ids("exact-phrase")) == {"rover-weekly", "rover-orbit"}
    facets = run("facets")
    assert facets["hits"]["total"]["value"] == 3 and facets["aggregations"]["stories"]["value"] == 1
    assert parse_entity_names(run("entity-names")) == {ACME.id: "Acme Chips", PORT.id: "Port Calder"}
    details = run("entity-details")["hits"]["hits"]
    assert [hit["_id"] for hit in details] == ["acme-benchmark", "acme-model", "acme-export", "acme-earnings"]
    assert all({"handle", "salience"} == set(e) for hit in details for e in hit["_source"]["entities"])
    assert ids("more-on") == ["acme-benchmark", "acme-model", "acme-export", "acme-earnings"]
    assert ids("more-in") == ["acme-benchmark", "acme-model", "acme-export"]
    sizes = run("cluster-sizes")["aggregations"]["sizes"]["buckets"]
    assert {b["key"]: b["doc_count"] for b in sizes} == {"harbour-original": 3, "acme-model": 1}
    assert ids("story-members") == ["harbour-digest", "harbour-original", "harbour-roundup"]
    assert ids("related")[0] == "shipping-rates"
    trending = run("trending")["aggregations"]  # the 48 h to 2026-11-24T12:00: three of four articles on Acme
    assert [bucket["key"] for bucket in trending["entities"]["buckets"]] == [ACME.id]
    enrichment = run("enrichment")
    assert [hit["_id"] for hit in enrichment["hits"]["hits"]] == ["bank-report"]
    assert enrichment["aggregations"]["stance"]["buckets"] == [{"key": "supportive", "doc_count": 1}]
    assert set(examples) == {
        "full-text",
        "exact-phrase",
        "facets",
        "entity-names",
        "entity-details",
        "more-on",
        "more-in",
        "cluster-sizes",
        "story-members",
        "related",
        "trending",
        "enrichment",
    }
