"""Dead letters against the real server: list, replay after a fix (idempotently), purge."""

from __future__ import annotations

import nats
import pytest

from cli.dlq import purge, read_letters, replay
from services.index.app import create_app as index_app
from services.index.settings import IndexSettings
from shared.messages import ArticleLinked, DeadLettered, Source
from shared.nats import ensure_stream
from shared.opensearch import async_client
from shared.settings import OpenSearchSettings, ServiceSettings
from shared.stage import create_stage_app
from shared.topology import Topology
from tests.conftest import Servers
from tests.support import AlwaysFailing, running, wait_until

pytestmark = pytest.mark.integration


def _article(number: int) -> bytes:
    article = ArticleLinked(
        article_id=f"dlq-{number}", title=f"Dead letter {number}", body="Body.", source=Source(name="test")
    )
    return article.model_dump_json().encode()


async def test_letters_of_a_buggy_stage_are_replayed_once_after_the_fix(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    topology = Topology(namespace)
    client = await nats.connect(servers.nats_url)
    js = client.jetstream()
    await ensure_stream(js, topology)
    buggy = ServiceSettings(nats_url=servers.nats_url, namespace=namespace, max_deliver=2, retry_backoff_s=[0.1])
    async with running(create_stage_app(buggy, "index", AlwaysFailing())):
        for number in range(3):
            await js.publish(topology.inbox("index"), _article(number))

        async def three_letters() -> bool:
            return len(await read_letters(js, topology)) == 3

        await wait_until(three_letters, 30, "three dead letters")
    letters = await read_letters(js, topology, "index")
    assert {item.letter.article_id for item in letters} == {"dlq-0", "dlq-1", "dlq-2"}
    assert all(item.letter.kind == "exhausted" and item.letter.attempts == 2 for item in letters)

    healthy = IndexSettings(nats_url=servers.nats_url, namespace=namespace, opensearch=opensearch_settings)
    async with running(index_app(healthy)):
        assert await replay(js, topology, stage="index", reason=None) == 3
        assert await replay(js, topology, stage="index", reason=None) == 0  # nothing left to send twice
        search = async_client(opensearch_settings)

        async def indexed() -> bool:
            await search.indices.refresh(index=opensearch_settings.alias)
            return int((await search.count(index=opensearch_settings.alias))["count"]) == 3

        await wait_until(indexed, 30, "the replayed articles in the index")
        await search.close()
    assert await read_letters(js, topology) == []
    await client.close()


async def test_purge_removes_only_the_named_stages_letters(servers: Servers, namespace: str, isolated: None) -> None:
    topology = Topology(namespace)
    client = await nats.connect(servers.nats_url)
    js = client.jetstream()
    await ensure_stream(js, topology)
    for stage in ("ingest", "enrich", "enrich"):
        letter = DeadLettered(
            stage=stage,
            subject=topology.inbox(stage),
            reason="r",
            error="e",
            kind="permanent",
            attempts=1,
            original="{}",
        )
        await js.publish(topology.dead_letter_subject(stage), letter.model_dump_json().encode())
    assert await purge(js, topology, "enrich") == 2
    remaining = await read_letters(js, topology)
    assert [item.letter.stage for item in remaining] == ["ingest"]
    await client.close()
