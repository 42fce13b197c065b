"""The services as separate processes; one is SIGKILLed mid-run and restarted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest

from cli.publish import publish_submissions
from shared.nats import ensure_stream
from shared.search.client import async_client
from shared.settings import OpenSearchSettings
from shared.topology import Topology
from tests.conftest import Servers
from tests.support import numbered_records, service_processes, wait_until

pytestmark = pytest.mark.e2e
ARTICLES = 400


async def _indexed_ids(search: OpenSearchSettings) -> list[str]:
    client = async_client(search)
    try:
        await client.indices.refresh(index=search.alias)
        response = await client.search(
            index=search.alias, body={"size": ARTICLES * 2, "_source": ["url"], "query": {"match_all": {}}}
        )
    except Exception:
        return []
    finally:
        await client.close()
    return [hit["_source"]["url"] for hit in response["hits"]["hits"]]


async def test_sigkilled_enrich_loses_and_duplicates_nothing(
    servers: Servers,
    namespace: str,
    service_env: dict[str, str],
    opensearch_settings: OpenSearchSettings,
    isolated: None,
    tmp_path: Path,
) -> None:
    topology = Topology(namespace)
    records = numbered_records(ARTICLES, prefix="crash")
    async with service_processes(
        ["ingest", "enrich", "entity_link", "stories", "index"], service_env, tmp_path
    ) as services:
        client = await nats.connect(servers.nats_url)
        await ensure_stream(client.jetstream(), topology)
        await publish_submissions(client.jetstream(), topology.entry_subject, records)
        await client.close()

        async def some_indexed() -> bool:
            return len(await _indexed_ids(opensearch_settings)) >= 20

        await wait_until(some_indexed, 90, "the first articles to be indexed")
        services["enrich"].kill()
        await asyncio.sleep(1)
        services["enrich"].start()

        async def all_indexed() -> bool:
            return len(await _indexed_ids(opensearch_settings)) >= ARTICLES

        await wait_until(all_indexed, 120, f"{ARTICLES} indexed articles", every_s=1)
        await asyncio.sleep(2)  # anything duplicated late would show up now
        urls = await _indexed_ids(opensearch_settings)
        exit_codes = {name: process.terminate() for name, process in services.items()}
    assert len(urls) == ARTICLES
    assert sorted(urls) == sorted(str(record.hints["url"]) for record in records)
    assert exit_codes == dict.fromkeys(exit_codes, 0), "SIGTERM drains and exits cleanly"
