"""Shards and replicas from the settings reach the real index: `newsflow setup` sets the replicas of
the live index (a dynamic setting), `newsflow reindex` builds the next one with the new shard count."""

from __future__ import annotations

import pytest

from cli.setup import apply_index
from shared.search.client import async_client, sync_client
from shared.search.reindex import reindex
from shared.settings import OpenSearchSettings

pytestmark = pytest.mark.integration


async def _shape(settings: OpenSearchSettings, index: str) -> tuple[int, int]:
    client = async_client(settings)
    try:
        found = await client.indices.get_settings(index=index)
    finally:
        await client.close()
    values = found[index]["settings"]["index"]
    return int(values["number_of_shards"]), int(values["number_of_replicas"])


async def test_setup_and_reindex_apply_the_configured_shards_and_replicas(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    first = await apply_index(opensearch_settings)
    assert await _shape(opensearch_settings, first) == (1, 0)  # the template file's counts

    # A second node joined: one replica for the live index, without a reindex.
    with_replica = opensearch_settings.model_copy(update={"replicas": 1})
    assert await apply_index(with_replica) == first
    assert await _shape(opensearch_settings, first) == (1, 1)

    # More shards need a new index: reindex builds it from the template with the new count.
    resharded = opensearch_settings.model_copy(update={"shards": 2, "replicas": 0})
    with sync_client(resharded) as client:
        report = reindex(client, resharded.alias, shards=resharded.shards, replicas=resharded.replicas)
    assert await _shape(opensearch_settings, report.target) == (2, 0)
