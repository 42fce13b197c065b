"""``newsflow reindex`` against the real OpenSearch: a new versioned index with the current
mappings, the alias swapped, nothing lost while the index stage keeps writing, no failed read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from opensearchpy import AsyncOpenSearch

from shared.search.client import async_client, sync_client
from shared.search.reindex import reindex
from shared.settings import OpenSearchSettings
from tests.factories import handed_on, ids, index_worker, linked

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


async def _create_old_index(client: AsyncOpenSearch, alias: str) -> None:
    """A first index made before today's template: its titles are keywords, not English text."""
    await client.indices.create(
        index=f"{alias}-v1",
        body={
            "mappings": {"properties": {"title": {"type": "keyword"}, "cluster_id": {"type": "keyword"}}},
            "aliases": {alias: {"is_write_index": True}},
        },
    )


async def _title_matches(client: AsyncOpenSearch, alias: str, words: str) -> int:
    response = await client.count(index=alias, body={"query": {"match": {"title": words}}})
    return int(response["count"])


async def test_reindex_swaps_the_alias_to_the_current_mapping_while_writes_and_reads_go_on(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    alias = opensearch_settings.alias
    client = async_client(opensearch_settings)
    await _create_old_index(client, alias)
    written: list[str] = []
    read_failures: list[str] = []
    lowest_count_seen: list[int] = []
    stop = asyncio.Event()

    async with index_worker(opensearch_settings) as worker:

        async def write_batch() -> None:
            batch = [
                linked(f"doc-{len(written) + n}", title=f"Harbour report number {len(written) + n}", ingested_at=T0)
                for n in range(5)
            ]
            assert handed_on(await worker.process_batch(batch)) == ids(batch)
            written.extend(article.article_id for article in batch)

        async def keep_writing() -> None:
            while not stop.is_set():
                await write_batch()
                await asyncio.sleep(0.02)

        async def keep_reading() -> None:
            while not stop.is_set():
                try:
                    lowest_count_seen.append(int((await client.count(index=alias))["count"]))
                except Exception as error:  # any failed read is downtime
                    read_failures.append(repr(error))
                await asyncio.sleep(0.01)

        for _ in range(40):
            await write_batch()
        await client.indices.refresh(index=alias)
        before = len(written)
        assert await _title_matches(client, alias, "harbour") == 0  # a keyword title matches whole titles only

        background = [asyncio.create_task(keep_writing()), asyncio.create_task(keep_reading())]
        with sync_client(opensearch_settings) as admin:
            report = await asyncio.to_thread(reindex, admin, alias)
        stop.set()
        await asyncio.gather(*background)
        await write_batch()  # after the swap, writes land in the new index

    try:
        await client.indices.refresh(index=alias)
        aliases = await client.indices.get_alias(name=alias)
        count = int((await client.count(index=alias))["count"])
        titled = await _title_matches(client, alias, "harbour")
        old_still_there = await client.indices.exists(index=f"{alias}-v1")
    finally:
        await client.close()
    assert (report.source, report.target) == (f"{alias}-v1", f"{alias}-v2")
    assert list(aliases) == [f"{alias}-v2"]
    assert len(written) > before + 5, "the writer should have kept writing during the reindex"
    assert count == len(set(written))
    assert titled == count  # English-analysed titles now
    assert not read_failures
    assert min(lowest_count_seen) >= before
    assert old_still_there


async def test_reindex_keeps_versions_and_can_drop_the_old_index(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    alias = opensearch_settings.alias
    older = linked("story", title="First version", ingested_at=T0)
    newer = linked("story", title="Second version", ingested_at=T0 + timedelta(hours=1))
    async with index_worker(opensearch_settings) as worker:
        assert handed_on(await worker.process_batch([newer])) == ids([newer])
        with sync_client(opensearch_settings) as admin:
            first = await asyncio.to_thread(reindex, admin, alias, swap_grace_s=0)
            second = await asyncio.to_thread(reindex, admin, alias, delete_old=True, swap_grace_s=0)
        # The late older version is still refused by the copy's external version.
        assert handed_on(await worker.process_batch([older])) == ids([older])
    client = async_client(opensearch_settings)
    try:
        document = await client.get(index=alias, id="story")
        v2_exists = await client.indices.exists(index=f"{alias}-v2")
    finally:
        await client.close()
    assert (first.target, second.source, second.target) == (f"{alias}-v2", f"{alias}-v2", f"{alias}-v3")
    assert document["_index"] == f"{alias}-v3"
    assert document["_source"]["title"] == "Second version"
    assert not v2_exists
