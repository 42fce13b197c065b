"""The queries the API added to the query module: cursor pages, entity pages, exports (bodies only)."""

from datetime import UTC, datetime

import pytest

from shared.search.queries import (
    RECENCY,
    RELEVANCE,
    Cursor,
    SearchRequest,
    entity_body,
    export_body,
    paged,
    parse_entity_page,
    search_body,
)

FIRST_PAGE_AT = datetime(2026, 11, 24, 12, tzinfo=UTC)


def test_a_cursor_survives_its_round_trip_and_refuses_anything_else() -> None:
    cursor = Cursor([1763978400000, "article-7"], FIRST_PAGE_AT)
    assert Cursor.decode(cursor.encode()) == cursor
    for forged in ("", "not base64!", "e30", Cursor([{"script": 1}], FIRST_PAGE_AT).encode()):  # e30 is {}
        with pytest.raises(ValueError):
            Cursor.decode(forged)


def test_a_first_page_fixes_its_moment_and_asks_one_hit_more() -> None:
    request = paged(SearchRequest(text="chips", size=10), None, now=FIRST_PAGE_AT)
    body = search_body(request)
    assert body["size"] == 11
    assert body["sort"] == RELEVANCE and "search_after" not in body
    assert {"range": {"indexed_at": {"lte": "2026-11-24T12:00:00+00:00"}}} in body["query"]["bool"]["filter"]


def test_a_later_page_starts_after_the_cursor_within_the_first_pages_moment() -> None:
    cursor = Cursor([1763978400000, "article-7"], FIRST_PAGE_AT)
    body = search_body(paged(SearchRequest(size=10), cursor))
    assert body["sort"] == RECENCY
    assert body["search_after"] == [1763978400000, "article-7"]
    assert {"range": {"indexed_at": {"lte": "2026-11-24T12:00:00+00:00"}}} in body["query"]["bool"]["filter"]


def test_story_filters_include_and_exclude_stories() -> None:
    query = search_body(SearchRequest(stories=["s1"], exclude_stories=["s2"]))["query"]["bool"]
    assert {"terms": {"story_id": ["s1"]}} in query["filter"]
    assert query["must_not"] == [{"terms": {"story_id": ["s2"]}}]


def test_an_export_page_reads_a_point_in_time_newest_first() -> None:
    body = export_body(SearchRequest(filters={"language": ["en"]}), "pit-1", "2m", 500, ["x", "y"])
    assert body["pit"] == {"id": "pit-1", "keep_alive": "2m"}
    assert body["sort"] == RECENCY and body["search_after"] == ["x", "y"] and body["size"] == 500
    assert body["_source"] == {"excludes": ["signature"]}
    assert "aggs" not in body


def test_an_entity_page_asks_for_daily_counts_and_its_neighbours() -> None:
    body = entity_body("@acme", size=5, co_occurring=3)
    assert body["query"]["bool"]["filter"] == [{"term": {"entity_handles": "acme"}}]
    assert body["aggs"]["co_occurring"]["terms"]["size"] == 4  # the entity itself is one of the buckets
    assert body["aggs"]["per_day"]["date_histogram"]["min_doc_count"] == 0


def test_an_entity_page_names_the_entity_and_leaves_it_out_of_its_neighbours() -> None:
    acme = {"id": "Q1", "name": "Acme", "type": "ORG", "handle": "Acme"}
    response = {
        "hits": {
            "total": {"value": 2},
            "hits": [{"_id": "a", "_source": {"entities": [{"id": "Q2", "handle": "bank"}, acme]}}],
        },
        "aggregations": {
            "per_day": {"buckets": [{"key": 0, "key_as_string": "2026-11-01T00:00:00.000Z", "doc_count": 2}]},
            "co_occurring": {"buckets": [{"key": "Q1", "doc_count": 2}, {"key": "Q2", "doc_count": 1}]},
        },
    }
    page = parse_entity_page("@acme", response)
    assert page is not None
    assert page.entity == acme
    assert page.per_day == [("2026-11-01", 2)]
    assert page.co_occurring == [("Q2", 1)]
    empty = {"hits": {"total": {"value": 0}, "hits": []}, "aggregations": {}}
    assert parse_entity_page("@nobody", empty) is None
