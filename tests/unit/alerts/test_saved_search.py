"""Saved searches: the same filter language as ``newsflow search``, and what a match reports."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from shared.search.alerts import ALERTS_TEMPLATE_FILE, AlertSpec, SavedSearch, alerts_index_template, matched_fields
from shared.search.indices import index_template
from shared.search.queries import SearchRequest, search_body

DOCUMENT = {
    "article_id": "a1",
    "title": "Chip exports tighten",
    "topic_keys": ["technology/semiconductors", "business"],
    "entity_ids": ["Q123", "Q9"],
    "entity_handles": ["TSMC", "nvidia"],
    "sentiment": {"label": "negative", "score": -0.4},
    "source": {"name": "Harbour Wire", "verified": True},
    "language": "en",
}


def test_the_percolator_query_is_the_search_query_for_the_same_filters() -> None:
    alert = SavedSearch(name="chips", text="export rules", filters={"language": ["en"]}, more_in="technology")
    request = SearchRequest(text="export rules", filters={"language": ["en"]}, more_in="technology")
    assert alert.percolator_query() == search_body(request)["query"]


def test_a_verified_source_is_one_more_filter() -> None:
    query = SavedSearch(name="verified", more_on="@tsmc", verified_source=True).percolator_query()
    assert {"term": {"source.verified": True}} in query["bool"]["filter"]
    assert {"term": {"entity_handles": "tsmc"}} in query["bool"]["filter"]


def test_matched_fields_name_the_values_that_satisfied_each_condition() -> None:
    alert = SavedSearch(
        name="bad chip news",
        filters={"sentiment": ["negative"], "entity": ["Q9", "Q404"]},
        more_on="@tsmc",
        more_in="technology",
        verified_source=True,
    )
    assert matched_fields(alert, DOCUMENT) == {
        "sentiment.label": ["negative"],
        "entity_ids": ["Q9"],
        "entity_handles": ["TSMC"],
        "topic_keys": ["technology/semiconductors"],
        "source.verified": ["true"],
    }


def test_a_text_only_alert_reports_no_filter_fields() -> None:
    assert matched_fields(SavedSearch(name="t", text="chips"), DOCUMENT) == {}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://example.test/", "http:///no-host", "example.test"])
def test_a_webhook_must_be_an_http_url_with_a_host(url: str) -> None:
    with pytest.raises(ValidationError):
        SavedSearch(name="w", webhook_url=url)


@pytest.mark.parametrize("alert_id", ["", "has space", "a.b", "x" * 65, "ü"])
def test_an_alert_id_fits_message_ids_and_kv_keys(alert_id: str) -> None:
    with pytest.raises(ValidationError):
        SavedSearch(alert_id=alert_id, name="n")


def test_a_webhook_gets_a_secret_and_listing_hides_it() -> None:
    alert = AlertSpec(name="w", webhook_url="https://hooks.example.test/x").saved()
    assert alert.webhook_secret and len(alert.webhook_secret) >= 32
    assert alert.public()["webhook_secret"] == "***"
    assert alert.saved().webhook_secret == alert.webhook_secret  # kept, not rotated
    assert alert.saved().alert_id == alert.alert_id and alert.saved().created_at == alert.created_at
    assert AlertSpec(name="no hook").saved().webhook_secret is None
    assert AlertSpec(name="a").saved().alert_id != AlertSpec(name="a").saved().alert_id


def test_an_at_sign_in_the_entity_filter_is_a_handle_as_in_search() -> None:
    alert = AlertSpec(name="h", filters={"entity": ["@deepseek", "Q95"], "handle": ["openai"]}).saved()
    assert alert.filters == {"entity": ["Q95"], "handle": ["openai", "deepseek"]}
    only_handles = AlertSpec(name="h", filters={"entity": ["@deepseek"]}).saved()
    assert only_handles.filters == {"handle": ["deepseek"]}
    assert {"terms": {"entity_handles": ["deepseek"]}} in only_handles.percolator_query()["bool"]["filter"]


def test_the_alerts_mapping_is_the_article_mapping_plus_a_percolator() -> None:
    articles = index_template("news")["template"]
    alerts = alerts_index_template("news", "watch")
    own = json.loads(ALERTS_TEMPLATE_FILE.read_text())["mappings"]["properties"]
    assert alerts["index_patterns"] == ["watch-v*"]
    assert alerts["template"]["settings"] == articles["settings"]
    assert alerts["template"]["mappings"]["properties"] == {**articles["mappings"]["properties"], **own}
    assert own["query"] == {"type": "percolator"}
