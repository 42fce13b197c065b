"""The index stage's worker against the real OpenSearch: versions, per-item settlement,
enrichment fields picked up by the dynamic templates, and story clusters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.index.documents import document_version
from shared.errors import PermanentError, TransientError
from shared.messages import ArticleLinked
from shared.opensearch import async_client
from shared.settings import OpenSearchSettings
from tests.unit.index.factories import index_worker, linked, signature

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


async def _documents(settings: OpenSearchSettings) -> dict[str, dict[str, Any]]:
    client = async_client(settings)
    try:
        await client.indices.refresh(index=settings.alias)
        response = await client.search(index=settings.alias, body={"size": 1000, "version": True})
    finally:
        await client.close()
    return {hit["_id"]: {**hit["_source"], "_version": hit["_version"]} for hit in response["hits"]["hits"]}


async def test_a_newer_version_replaces_and_a_late_older_one_is_acked_as_a_duplicate(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    first = linked("versioned", title="First telling", ingested_at=T0)
    second = linked("versioned", title="Corrected telling", ingested_at=T0 + timedelta(minutes=5))
    async with index_worker(opensearch_settings) as worker:
        assert await worker.process_batch([first]) == [[]]
        assert await worker.process_batch([second]) == [[]]
        assert await worker.process_batch([first]) == [[]]  # 409 from OpenSearch: already superseded
    document = (await _documents(opensearch_settings))["versioned"]
    assert document["title"] == "Corrected telling"
    assert document["_version"] == document_version(second)


async def test_each_item_settles_on_its_own_result(opensearch_settings: OpenSearchSettings, isolated: None) -> None:
    async with index_worker(opensearch_settings) as worker:
        assert await worker.process_batch([_with(linked("numeric"), {"score": 5})]) == [[]]
        outcomes = await worker.process_batch(
            [
                _with(linked("fine-1"), {"score": 6}),
                _with(linked("rejected"), {"score": "not a number"}),
                _with(linked("fine-2"), {"score": 7}),
            ]
        )
    assert outcomes[0] == [] and outcomes[2] == []
    rejected = outcomes[1]
    assert isinstance(rejected, PermanentError)
    assert rejected.reason == "mapping_rejected"
    assert "mapper_parsing_exception" in rejected.detail
    assert set(await _documents(opensearch_settings)) == {"numeric", "fine-1", "fine-2"}


async def test_an_unreachable_opensearch_makes_every_item_transient(namespace: str) -> None:
    unreachable = OpenSearchSettings(url="http://127.0.0.1:9", alias=f"{namespace}-articles", request_timeout_s=1)
    async with index_worker(unreachable) as worker:
        outcomes = await worker.process_batch([linked("a"), linked("b", story_signature=signature(1))])
    assert len(outcomes) == 2 and all(isinstance(outcome, TransientError) for outcome in outcomes)


async def test_a_new_enrichments_fields_are_searchable_and_facetable_without_a_mapping_edit(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    def claims(stance: str, count: int | float, label: str) -> dict[str, Any]:
        return {
            "claims": {
                "stance": stance,
                "count": count,
                "checked_at": "2026-11-01T10:00:00Z",
                "detail": {"label": label},
                "quotes": [{"speaker": "minister", "weight": 1}],
            }
        }

    batch = [
        _with(linked("c1"), claims("supportive", 2, "verified statistics on harbours")),
        _with(linked("c2"), claims("supportive", 0.5, "an unverified rumour")),
        _with(linked("c3"), claims("sceptical", 3, "verified budget figures")),
    ]
    async with index_worker(opensearch_settings) as worker:
        assert await worker.process_batch(batch) == [[], [], []]
    await _documents(opensearch_settings)  # refreshes
    client = async_client(opensearch_settings)
    try:
        mapping = await client.indices.get_field_mapping(
            index=opensearch_settings.alias,
            fields=["enrichments.claims.*", "enrichments.claims.detail.label", "enrichments.claims.quotes.*"],
        )
        response = await client.search(
            index=opensearch_settings.alias,
            body={
                "size": 10,
                "query": {"match": {"enrichments.claims.detail.label.text": "verify"}},  # English stemming
                "aggs": {
                    "stance": {"terms": {"field": "enrichments.claims.stance"}},
                    "speakers": {"terms": {"field": "enrichments.claims.quotes.speaker"}},
                    "below_one": {"filter": {"range": {"enrichments.claims.count": {"lt": 1}}}},
                    "checked": {
                        "date_histogram": {"field": "enrichments.claims.checked_at", "calendar_interval": "day"}
                    },
                },
            },
        )
    finally:
        await client.close()
    fields = {
        name: next(iter(details["mapping"].values()))["type"]
        for index in mapping.values()
        for name, details in index["mappings"].items()
    }
    assert fields["enrichments.claims.stance"] == "keyword"
    assert fields["enrichments.claims.count"] == "double"  # an integer first, so a later 0.5 is not truncated
    assert fields["enrichments.claims.checked_at"] == "date"
    assert fields["enrichments.claims.detail.label"] == "keyword"
    assert fields["enrichments.claims.quotes.speaker"] == "keyword"
    assert {hit["_id"] for hit in response["hits"]["hits"]} == {"c1", "c3"}  # "unverified" is another word
    aggregations = response["aggregations"]
    assert {b["key"]: b["doc_count"] for b in aggregations["stance"]["buckets"]} == {"supportive": 1, "sceptical": 1}
    assert aggregations["speakers"]["buckets"][0] == {"key": "minister", "doc_count": 2}
    assert aggregations["checked"]["buckets"][0]["doc_count"] == 2


async def test_near_duplicates_join_one_cluster_within_a_batch_across_batches_and_before_a_refresh(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    async with index_worker(opensearch_settings) as worker:
        await worker.process_batch(
            [linked("seed", story_signature=signature(1)), linked("alone", story_signature=signature(2))]
        )
        # The next batch comes before the index refreshes: the worker's memory of what it wrote finds the seed.
        await worker.process_batch(
            [
                linked("retold", story_signature=signature(1, differing=60, variant=1)),
                linked("retold-in-batch", story_signature=signature(1, differing=100, variant=2)),
                linked("other-story", story_signature=signature(3)),
            ]
        )
    await _documents(opensearch_settings)
    # A fresh worker has no memory: it finds the cluster through the band query alone.
    async with index_worker(opensearch_settings) as worker:
        await worker.process_batch(
            [
                linked("found-by-search", story_signature=signature(1, differing=80, variant=3)),
                # Shares the last bands with "alone" but only 42/192 of its MinHash: below the threshold.
                linked("too-different", story_signature=signature(2, differing=150, variant=4)),
            ]
        )
    clusters = {article_id: doc["cluster_id"] for article_id, doc in (await _documents(opensearch_settings)).items()}
    assert clusters == {
        "seed": "seed",
        "retold": "seed",
        "retold-in-batch": "seed",
        "found-by-search": "seed",
        "alone": "alone",
        "other-story": "other-story",
        "too-different": "too-different",
    }


async def test_a_reingested_article_keeps_its_cluster(opensearch_settings: OpenSearchSettings, isolated: None) -> None:
    async with index_worker(opensearch_settings) as worker:
        await worker.process_batch(
            [linked("first-seen", ingested_at=T0), linked("story", story_signature=signature(4))]
        )
        await _documents(opensearch_settings)
        # A newer version now has a signature that matches "story", but the article stays where it was.
        newer = linked("first-seen", ingested_at=T0 + timedelta(hours=1), story_signature=signature(4, 10, 1))
        assert await worker.process_batch([newer]) == [[]]
    assert (await _documents(opensearch_settings))["first-seen"]["cluster_id"] == "first-seen"


async def test_a_rejected_article_attracts_no_near_duplicate(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    async with index_worker(opensearch_settings) as worker:
        await worker.process_batch([_with(linked("typed"), {"score": 1})])
        rejected = _with(linked("rejected", story_signature=signature(5)), {"score": "text"})
        assert isinstance((await worker.process_batch([rejected]))[0], PermanentError)
        await worker.process_batch([linked("next", story_signature=signature(5, differing=10, variant=1))])
    assert (await _documents(opensearch_settings))["next"]["cluster_id"] == "next"


def _with(article: ArticleLinked, enrichments: dict[str, Any]) -> ArticleLinked:
    return article.model_copy(update={"enrichments": enrichments})
