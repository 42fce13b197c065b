"""The stages up to the index in this process, against the real nats-server and OpenSearch."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import nats
import pytest
from faststream import FastStream

from cli.publish import publish_submissions
from services.index.app import create_app as index_app
from services.index.settings import IndexSettings
from shared.messages import ArticleLinked, DeadLettered, Source
from shared.search.client import async_client
from shared.search.queries import SearchRequest, parse_response, search_body
from shared.settings import OpenSearchSettings
from shared.topology import Topology
from tests.conftest import Servers
from tests.support import (
    STAGES_TO_INDEX,
    CuttableProxy,
    dead_letters,
    numbered_records,
    running,
    stage_apps,
    wait_until,
)

pytestmark = pytest.mark.integration


def _stage_apps(servers: Servers, namespace: str, search: OpenSearchSettings) -> list[FastStream]:
    return stage_apps(STAGES_TO_INDEX, nats_url=servers.nats_url, namespace=namespace, opensearch=search)


async def _count(search: OpenSearchSettings) -> int:
    client = async_client(search)
    try:
        await client.indices.refresh(index=search.alias)
        return int((await client.count(index=search.alias))["count"])
    except Exception:
        return 0
    finally:
        await client.close()


async def test_submitted_articles_become_searchable_with_facets(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    records = numbered_records(25)
    async with running(*_stage_apps(servers, namespace, opensearch_settings)):
        client = await nats.connect(servers.nats_url)
        await publish_submissions(client.jetstream(), Topology(namespace).entry_subject, records)
        await client.close()
        await wait_until(lambda: _has_count(opensearch_settings, 25), 60, "25 indexed articles")

    search = async_client(opensearch_settings)
    response = await search.search(index=opensearch_settings.alias, body=search_body(SearchRequest(text="striker")))
    result = parse_response(response)
    await search.close()
    assert result.total == 5  # one record in five is about sport
    assert all("sport" in hit["title"] for hit in result.hits)
    assert sum(count for _, count in result.facets["source"]) == 5
    assert ("Q956", 5) in result.facets["entity"]  # every record mentions Beijing
    first = result.hits[0]
    assert [stamp["service"] for stamp in first["provenance"]["stamps"]] == [
        "ingest",
        "enrich",
        "entity_link",
        "stories",
        "index",
    ]
    assert first["language"] == "en" and first["word_count"] > 10


async def _has_count(search: OpenSearchSettings, expected: int) -> bool:
    return await _count(search) == expected


async def test_invalid_message_is_dead_lettered_and_the_next_ones_still_arrive(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    topology = Topology(namespace)
    async with running(*_stage_apps(servers, namespace, opensearch_settings)):
        client = await nats.connect(servers.nats_url)
        js = client.jetstream()
        await js.publish(topology.entry_subject, b'{"schema_version": 1, "kind": "record"}')
        await js.publish(topology.entry_subject, b"\xff\xfe not json at all")
        await publish_submissions(js, topology.entry_subject, numbered_records(3, prefix="after"))
        await client.close()
        await wait_until(lambda: _has_count(opensearch_settings, 3), 60, "the valid articles after the bad ones")
    letters = await dead_letters(servers.nats_url, topology, "ingest")
    assert len(letters) == 2
    assert {letter.reason for letter in letters} == {"validation"}
    assert any("submission_id" in letter.error for letter in letters)
    assert all(letter.kind == "permanent" and letter.attempts == 1 for letter in letters)
    assert any(letter.original.startswith('{"schema_version"') for letter in letters)


def _linked(number: int, enrichments: dict[str, Any]) -> ArticleLinked:
    return ArticleLinked(
        article_id=f"mapping-{number}",
        title=f"Mapping test {number}",
        body="A body that is long enough to index.",
        source=Source(name="test"),
        enrichments=enrichments,
    )


async def test_mapping_rejection_is_dead_lettered_with_opensearch_reason(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    topology = Topology(namespace)
    app = index_app(IndexSettings(nats_url=servers.nats_url, namespace=namespace, opensearch=opensearch_settings))
    async with running(app):
        client = await nats.connect(servers.nats_url)
        js = client.jetstream()
        await js.publish(topology.inbox("index"), _linked(1, {"score": 5}).model_dump_json().encode())
        await wait_until(lambda: _has_count(opensearch_settings, 1), 30, "the first document")
        # The dynamic template made enrichments.score a long; a string cannot go there.
        await js.publish(topology.inbox("index"), _linked(2, {"score": "not a number"}).model_dump_json().encode())
        await js.publish(topology.inbox("index"), _linked(3, {"score": 7}).model_dump_json().encode())
        await client.close()
        await wait_until(lambda: _has_count(opensearch_settings, 2), 30, "the third document")
        letters: list[DeadLettered] = []

        async def dead_lettered() -> bool:
            letters[:] = await dead_letters(servers.nats_url, topology, "index")
            return len(letters) == 1

        await wait_until(dead_lettered, 20, "a dead letter for the rejected document")
    assert letters[0].reason == "mapping_rejected"
    assert "mapper_parsing_exception" in letters[0].error
    assert json.loads(letters[0].original)["article_id"] == "mapping-2"


async def test_an_opensearch_outage_holds_the_backlog_and_it_drains_when_opensearch_returns(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    """The index reaches OpenSearch through a port that answers only after a while: an outage and a return."""
    topology = Topology(namespace)
    opensearch_port = urlsplit(servers.opensearch_url).port or 9200
    proxy = CuttableProxy("127.0.0.1", opensearch_port)  # cut until restored: OpenSearch "down"
    through_proxy = opensearch_settings.model_copy(update={"url": proxy.url, "request_timeout_s": 2})
    # Few attempts and short back-off: an outage that spent attempts would dead-letter at once.
    settings = IndexSettings(
        nats_url=servers.nats_url,
        namespace=namespace,
        opensearch=through_proxy,
        max_deliver=2,
        retry_backoff_s=[0.1],
    )
    async with running(index_app(settings)):
        client = await nats.connect(servers.nats_url)
        for number in range(5):
            await client.jetstream().publish(topology.inbox("index"), _linked(number, {}).model_dump_json().encode())
        await client.close()
        await asyncio.sleep(8)  # OpenSearch "down": several retry rounds pass
        assert await dead_letters(servers.nats_url, topology, "index") == []
        await proxy.restore()
        await wait_until(lambda: _has_count(opensearch_settings, 5), 60, "the held backlog to be indexed")
    await proxy.cut()
    assert await dead_letters(servers.nats_url, topology, "index") == []
