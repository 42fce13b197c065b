"""The query module's request bodies and response parsing, and the choice of a story's original."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import typer

from cli.search_commands import parse_duration
from shared.search.indices import LOCALIZED_LANGUAGES, TEMPLATE_FILE
from shared.search.queries import (
    RECENCY,
    SearchRequest,
    StoryKey,
    choose_original,
    entity_filter,
    entity_names_body,
    parse_entity_names,
    parse_response,
    parse_story_sizes,
    related_body,
    search_body,
    story_members_body,
    story_of,
    story_sizes_body,
    topic_filter,
    trending_body,
)


def test_more_on_takes_a_handle_or_an_entity_id() -> None:
    assert entity_filter("@DeepSeek") == {"term": {"entity_handles": "DeepSeek"}}  # the field's normalizer folds case
    assert entity_filter("Q42") == {"term": {"entity_ids": "Q42"}}
    assert entity_filter("nf:org:acme") == {"term": {"entity_ids": "nf:org:acme"}}


def test_more_in_covers_the_topic_and_its_subtopics() -> None:
    clauses = topic_filter("#technology")["bool"]["should"]
    assert {"term": {"topic_keys": "technology"}} in clauses
    assert {"prefix": {"topic_keys": "technology/"}} in clauses


def test_a_text_search_ranks_by_relevance_and_keeps_every_article() -> None:
    body = search_body(SearchRequest(text="harbour strike", filters={"source": ["A", "B"], "language": []}))
    assert "sort" not in body and "collapse" not in body
    assert body["query"]["bool"]["filter"] == [{"terms": {"source.name": ["A", "B"]}}]
    assert body["query"]["bool"]["must"][0]["multi_match"]["query"] == "harbour strike"
    assert set(body["aggs"]) >= {"topic", "source", "entity", "sentiment", "language", "published", "stories"}
    assert set(body["highlight"]["fields"]) >= {"title", "summary", "body", "localized.fr.body", "localized.de.title"}


def test_full_text_searches_each_localized_copy_the_template_analyses() -> None:
    template = json.loads(TEMPLATE_FILE.read_text())["template"]["mappings"]["properties"]["localized"]["properties"]
    fields = search_body(SearchRequest(text="hôpitaux"))["query"]["bool"]["must"][0]["multi_match"]["fields"]
    for language in LOCALIZED_LANGUAGES:
        assert template[language]["properties"]["body"]["analyzer"] != "english"
        assert {f"localized.{language}.title^3", f"localized.{language}.body"} <= set(fields)
    assert set(template) == set(LOCALIZED_LANGUAGES)


def test_a_match_in_a_localized_copy_is_shown_as_a_match_in_the_field_readers_know() -> None:
    response: dict[str, Any] = {
        "hits": {
            "total": {"value": 1},
            "hits": [
                {
                    "_id": "a",
                    "_source": {"title": "T"},
                    "highlight": {
                        "body": ["les <em>hôpitaux</em>"],
                        "localized.fr.body": ["les <em>hôpitaux</em> <em>nationaux</em>"],
                        "localized.fr.title": ["<em>Hôpital</em>"],
                    },
                }
            ],
        },
    }
    highlight = parse_response(response).hits[0]["highlight"]
    assert highlight == {"body": ["les <em>hôpitaux</em> <em>nationaux</em>"], "title": ["<em>Hôpital</em>"]}


def test_more_on_lists_stories_newest_first() -> None:
    since = datetime(2026, 11, 1, tzinfo=UTC)
    body = search_body(SearchRequest(more_on="@acme", since=since))
    assert body["sort"] == RECENCY
    assert body["collapse"] == {"field": "story_id"}
    assert {"range": {"dated_at": {"gte": "2026-11-01T00:00:00+00:00"}}} in body["query"]["bool"]["filter"]


def test_an_empty_query_lists_the_newest_articles() -> None:
    body = search_body(SearchRequest())
    assert body["sort"] == RECENCY
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]


def test_parse_response_reads_hits_facets_and_story_count() -> None:
    response: dict[str, Any] = {
        "hits": {"total": {"value": 7}, "hits": [{"_id": "a", "_score": 1.5, "_source": {"title": "T"}}]},
        "aggregations": {
            "topic": {"buckets": [{"key": "sport", "doc_count": 4}]},
            "published": {"buckets": [{"key": 1, "key_as_string": "2026-11-01T00:00:00.000Z", "doc_count": 7}]},
            "stories": {"value": 5},
        },
    }
    result = parse_response(response)
    assert (result.total, result.stories) == (7, 5)
    assert result.hits == [{"title": "T", "_id": "a", "_score": 1.5, "highlight": {}}]
    assert result.facets == {"topic": [("sport", 4)], "published": [("2026-11-01T00:00:00.000Z", 7)]}


def test_story_sizes_are_asked_once_per_story() -> None:
    body = story_sizes_body(["c2", "c1", "c2"])
    assert body["query"] == {"terms": {"story_id": ["c1", "c2"]}}
    assert body["aggs"]["sizes"]["terms"]["size"] == 2
    response = {"aggregations": {"sizes": {"buckets": [{"key": "c1", "doc_count": 3}, {"key": "c2", "doc_count": 1}]}}}
    assert parse_story_sizes(response) == {"c1": 3, "c2": 1}


def test_entity_names_come_from_the_newest_article_naming_each_id() -> None:
    body = entity_names_body(["Q2", "Q1", "Q2"])
    assert body["aggs"]["ids"]["terms"]["include"] == ["Q1", "Q2"]
    assert body["aggs"]["ids"]["aggs"]["newest"]["top_hits"]["sort"] == [{"dated_at": {"order": "desc"}}]

    def bucket(key: str, entities: list[dict[str, str]]) -> dict[str, object]:
        return {"key": key, "newest": {"hits": {"hits": [{"_source": {"entities": entities}}]}}}

    buckets = [
        bucket("Q1", [{"id": "Q9", "name": "Other"}, {"id": "Q1", "name": "Acme"}]),
        bucket("Q2", [{"id": "Q9", "name": "Other"}]),  # the id is not among the article's entities: no name
    ]
    assert parse_entity_names({"aggregations": {"ids": {"buckets": buckets}}}) == {"Q1": "Acme"}


def test_trending_compares_the_window_with_a_baseline_that_contains_it() -> None:
    as_of = datetime(2026, 11, 24, 12, tzinfo=UTC)
    body = trending_body(as_of, timedelta(hours=24), timedelta(days=30), size=5, min_doc_count=2)
    window = body["query"]["bool"]["filter"][0]["range"]["dated_at"]
    assert window == {"gt": "2026-11-23T12:00:00+00:00", "lte": "2026-11-24T12:00:00+00:00"}
    for name, field in (("entities", "entity_ids"), ("topics", "topic_keys")):
        terms = body["aggs"][name]["significant_terms"]
        assert (terms["field"], terms["size"], terms["min_doc_count"]) == (field, 5, 2)
        assert terms["background_filter"]["range"]["dated_at"]["gt"] == "2026-10-25T12:00:00+00:00"


def member(article_id: str, source: str, published: str | None = None, credits: str | None = None) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "source": {"name": source},
        "published_at": published,
        "ingested_at": "2026-11-20T00:00:00Z",
        "original_source": {"name": credits} if credits else None,
    }


def test_the_credited_outlet_is_the_original_even_when_published_later() -> None:
    members = [
        member("copy", "Aggregator", "2026-11-10T08:00:00Z", credits="Morning Herald"),
        member("herald", "morning-herald", "2026-11-10T09:00:00Z"),
        member("other", "Elsewhere", "2026-11-10T07:00:00Z"),
    ]
    assert choose_original(members)["article_id"] == "herald"


def test_a_page_crediting_an_outlet_is_not_that_outlets_report_even_under_its_name() -> None:
    members = [
        member("relabelled", "Morning Herald", "2026-11-10T08:00:00Z", credits="Morning Herald"),
        member("plain", "unknown"),
    ]
    assert choose_original(members)["article_id"] == "plain"


def test_without_attribution_the_earliest_published_wins_and_undated_come_last() -> None:
    members = [
        member("undated", "A"),
        member("late", "B", "2026-11-10T10:00:00+02:00"),
        member("early", "C", "2026-11-10T09:00:00Z"),  # 09:00 UTC is after 08:00 UTC (10:00+02:00)
    ]
    assert choose_original(members)["article_id"] == "late"


def test_a_story_lists_the_original_first_then_the_others_in_order() -> None:
    members = [
        member("first", "A", "2026-11-10T07:00:00Z", credits="Source"),
        member("second", "B", "2026-11-10T08:00:00Z", credits="Source"),
        member("source", "Source", "2026-11-10T09:00:00Z"),
    ]
    story = story_of(StoryKey("cluster_id", ("c1",)), members)
    assert [m["article_id"] for m in story.members] == ["source", "first", "second"]
    assert story.original["article_id"] == "source"
    assert (story.story_id, story.outlets) == ("c1", ["Source", "A", "B"])


def test_the_stories_stage_s_original_and_headline_win_and_merged_ids_are_members_too() -> None:
    members = [
        {**member("early", "A", "2026-11-10T07:00:00Z"), "_id": "early", "title": "Early"},
        {**member("chosen", "B", "2026-11-10T08:00:00Z"), "_id": "chosen", "title": "Chosen"},
        {**member("again", "B", "2026-11-10T09:00:00Z"), "_id": "again", "title": "Again"},
    ]
    document = {"story_id": "s1", "original_article_id": "chosen", "headline": "Chosen"}
    key = StoryKey("story_id", ("s1", "s0"), document)
    story = story_of(key, members)
    assert story.original["_id"] == "chosen" and story.headline == "Chosen"
    assert (story.story_id, story.merged_ids, story.outlets) == ("s1", ["s0"], ["A", "B"])
    assert story_members_body(key)["query"] == {"bool": {"filter": [{"terms": {"story_id": ["s1", "s0"]}}]}}
    assert related_body("x", key)["query"]["bool"]["must_not"] == [{"terms": {"story_id": ["s1", "s0"]}}]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), ("24h", timedelta(hours=24)), ("7d", timedelta(days=7)), ("2w", timedelta(14))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "7", "d7", "1y", "1.5h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_duration(text)
