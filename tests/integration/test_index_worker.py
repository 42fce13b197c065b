"""The index stage's worker against the real OpenSearch: versions, per-item settlement,
enrichment fields picked up by the dynamic templates, story clusters, an index that disappears,
and answers of an unexpected shape (spoiled by a proxy in front of the real server)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from services.index.app import bulk_body, bulk_outcomes
from services.index.documents import document_version
from shared.errors import DependencyUnavailable, PermanentError, TransientError
from shared.messages import ArticleLinked
from shared.search.client import async_client
from shared.search.failures import IndexMissing
from shared.search.indices import TEMPLATE_FILE, template_name
from shared.settings import OpenSearchSettings
from tests.factories import handed_on, ids, index_worker, linked, signature
from tests.support import wait_until

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
        assert handed_on(await worker.process_batch([first])) == [["versioned"]]
        assert handed_on(await worker.process_batch([second])) == [["versioned"]]
        # 409 from OpenSearch: already superseded. The alerts stage reads the stored (newer) version.
        assert handed_on(await worker.process_batch([first])) == [["versioned"]]
    document = (await _documents(opensearch_settings))["versioned"]
    assert document["title"] == "Corrected telling"
    assert document["_version"] == document_version(second)


async def test_each_item_settles_on_its_own_result(opensearch_settings: OpenSearchSettings, isolated: None) -> None:
    async with index_worker(opensearch_settings) as worker:
        assert handed_on(await worker.process_batch([_with(linked("numeric"), {"score": 5})])) == [["numeric"]]
        outcomes = await worker.process_batch(
            [
                _with(linked("fine-1"), {"score": 6}),
                _with(linked("rejected"), {"score": "not a number"}),
                _with(linked("fine-2"), {"score": 7}),
            ]
        )
    assert handed_on([outcomes[0], outcomes[2]]) == [["fine-1"], ["fine-2"]]
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
        assert handed_on(await worker.process_batch(batch)) == ids(batch)
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
        assert handed_on(await worker.process_batch([newer])) == ids([newer])
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


async def test_a_deleted_index_holds_the_batch_and_comes_back_with_the_template(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    """As after an OpenSearch restart without its data: the index, its alias and the template are gone."""
    alias = opensearch_settings.alias
    async with index_worker(opensearch_settings) as worker:
        assert handed_on(await worker.process_batch([linked("before")])) == ids([linked("before")])
        client = async_client(opensearch_settings)
        try:
            await client.indices.delete(index=f"{alias}-v*")
            await client.indices.delete_index_template(name=template_name(alias))
            held = await worker.process_batch([linked("during-1"), linked("during-2")])
            # Held (not dead-lettered, no attempt spent): the runtime retries the batch with back-off.
            assert len(held) == 2 and all(isinstance(outcome, DependencyUnavailable) for outcome in held)
            during = [linked("during-1"), linked("during-2")]
            assert handed_on(await worker.process_batch(during)) == ids(during)
            mapping = await client.indices.get_mapping(index=alias)
        finally:
            await client.close()
    # Recreated from the template behind the alias, not auto-created with dynamic mappings.
    (index, details), *others = mapping.items()
    assert not others and index == f"{alias}-v1"
    template = json.loads(TEMPLATE_FILE.read_text())["template"]["mappings"]["properties"]
    assert details["mappings"]["properties"]["entities"] == template["entities"]
    assert set(await _documents(opensearch_settings)) == {"during-1", "during-2"}


async def test_opensearchs_answer_to_a_write_into_a_missing_alias_holds_the_messages(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    """The race the search cannot see: the index disappears between the batch's _msearch and its _bulk."""
    article = linked("late")
    client = async_client(opensearch_settings)
    try:
        answer = await client.bulk(
            body=bulk_body(opensearch_settings.alias, [article], [article.article_id]), require_alias=True
        )
        exists = await client.indices.exists(index=opensearch_settings.alias)
    finally:
        await client.close()
    (outcome,) = bulk_outcomes(answer, 1)
    assert isinstance(outcome, IndexMissing) and isinstance(outcome, DependencyUnavailable)
    assert not exists  # require_alias: no bare index named like the alias was auto-created


class TamperingProxy:
    """An HTTP proxy to the real OpenSearch that spoils the answers to one kind of request."""

    def __init__(self, upstream: str, path_suffix: str, spoil: Callable[[bytes], tuple[bytes, str]]) -> None:
        self.upstream = upstream.rstrip("/")
        self.path_suffix = path_suffix
        self.spoil = spoil
        self.session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        assert self.session is not None
        async with self.session.request(
            request.method,
            f"{self.upstream}{request.rel_url}",
            data=await request.read(),
            headers={"Content-Type": request.headers.get("Content-Type", "application/json")},
        ) as upstream:
            body = await upstream.read()
            content_type = upstream.headers.get("Content-Type", "application/json").split(";")[0]
        if request.path.endswith(self.path_suffix):
            body, content_type = self.spoil(body)
        return web.Response(body=body, content_type=content_type)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.session = aiohttp.ClientSession()
        try:
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            yield f"http://127.0.0.1:{port}"
        finally:
            await self.session.close()
            await runner.cleanup()


def _edited(edit: Callable[[dict[str, Any]], None]) -> Callable[[bytes], tuple[bytes, str]]:
    def spoil(body: bytes) -> tuple[bytes, str]:
        answer = json.loads(body)
        edit(answer)
        return json.dumps(answer).encode(), "application/json"

    return spoil


SPOILED_ANSWERS: dict[str, tuple[str, Callable[[bytes], tuple[bytes, str]]]] = {
    "bulk without items": ("/_bulk", _edited(lambda answer: answer.pop("items"))),
    "bulk items without a status": (
        "/_bulk",
        _edited(lambda answer: [i["index"].pop("status") for i in answer["items"]]),
    ),
    "bulk answer in plain text": ("/_bulk", lambda _: (b"upstream hiccup", "text/plain")),
    "bulk answer not JSON": ("/_bulk", lambda _: (b"{not json", "application/json")),
    "msearch without responses": ("/_msearch", _edited(lambda answer: answer.pop("responses"))),
    "msearch hits without hits": ("/_msearch", _edited(lambda answer: [r.pop("hits") for r in answer["responses"]])),
    "msearch answer not JSON": ("/_msearch", lambda _: (b"<html>", "application/json")),
}


@pytest.mark.parametrize("case", sorted(SPOILED_ANSWERS))
async def test_an_answer_of_an_unexpected_shape_is_a_transient_error_never_an_escaping_exception(
    case: str, opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    path_suffix, spoil = SPOILED_ANSWERS[case]
    batch = [linked("one", story_signature=signature(21)), linked("two")]
    async with index_worker(opensearch_settings) as direct:
        assert handed_on(await direct.process_batch([linked("seed")])) == ids([linked("seed")])
        async with TamperingProxy(opensearch_settings.url, path_suffix, spoil).running() as proxy_url:
            proxied = opensearch_settings.model_copy(update={"url": proxy_url})
            async with index_worker(proxied) as worker:
                outcomes = await worker.process_batch(batch)
        assert len(outcomes) == 2
        assert all(isinstance(outcome, TransientError) for outcome in outcomes), outcomes
        assert not any(isinstance(outcome, DependencyUnavailable) for outcome in outcomes)
        # The retry, with OpenSearch answering properly, settles them (a write that did land is a 409 duplicate).
        assert handed_on(await direct.process_batch(batch)) == ids(batch)


def _with(article: ArticleLinked, enrichments: dict[str, Any]) -> ArticleLinked:
    return article.model_copy(update={"enrichments": enrichments})


async def test_a_small_batch_is_searchable_at_once_and_a_backlog_waits_for_the_interval(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    alias = opensearch_settings.alias
    async with index_worker(opensearch_settings, prompt_refresh_below=4, prompt_refresh_gap_s=0) as worker:
        client = worker.client
        assert client is not None

        async def searchable() -> int:  # what a search sees now, without refreshing first
            return int((await client.count(index=alias))["count"])

        # With the index's own refresh off, only the worker's refresh can make anything searchable.
        await client.indices.put_settings(index=alias, body={"index": {"refresh_interval": "-1"}})
        backlog = [linked(f"backlog-{number}") for number in range(4)]
        assert handed_on(await worker.process_batch(backlog)) == ids(backlog)
        await asyncio.sleep(0.5)
        assert await searchable() == 0
        assert handed_on(await worker.process_batch([linked("trickle")])) == [["trickle"]]
        await wait_until(lambda: _equals(searchable(), 5), 10, "the small batch made searchable")


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected
