"""Dead letters against the real server: list, replay after a fix (idempotently), purge; messages whose
worker breaks its contract or whose process keeps dying are dead-lettered, never abandoned."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext

from cli.dlq import purge, read_letters, replay
from services.index.app import create_app as index_app
from services.index.settings import IndexSettings
from shared.messages import ArticleLinked, DeadLettered, Source
from shared.nats import ensure_stream
from shared.search.client import async_client
from shared.settings import OpenSearchSettings, ServiceSettings
from shared.stage import Outcome, PerItemWorker, consumer_config, create_stage_app
from shared.topology import Topology
from tests.conftest import Servers
from tests.support import AlwaysFailing, running, wait_until

pytestmark = pytest.mark.integration


@dataclass
class Stream:
    topology: Topology
    js: JetStreamContext


@pytest.fixture
async def stream(servers: Servers, namespace: str, isolated: None) -> AsyncIterator[Stream]:
    """The test namespace's stream, created (and removed afterwards by ``isolated``)."""
    client = await nats.connect(servers.nats_url)
    topology = Topology(namespace)
    await ensure_stream(client.jetstream(), topology)
    yield Stream(topology, client.jetstream())
    await client.close()


async def _wait_for_letters(stream: Stream, count: int) -> None:
    async def arrived() -> bool:
        return len(await read_letters(stream.js, stream.topology)) == count

    await wait_until(arrived, 30, f"{count} dead letters")


def _article(number: int) -> bytes:
    article = ArticleLinked(
        article_id=f"dlq-{number}", title=f"Dead letter {number}", body="Body.", source=Source(name="test")
    )
    return article.model_dump_json().encode()


async def test_letters_of_a_buggy_stage_are_replayed_once_after_the_fix(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, stream: Stream
) -> None:
    topology, js = stream.topology, stream.js
    buggy = ServiceSettings(nats_url=servers.nats_url, namespace=namespace, max_deliver=2, retry_backoff_s=[0.1])
    async with running(create_stage_app(buggy, "index", AlwaysFailing())):
        for number in range(3):
            await js.publish(topology.inbox("index"), _article(number))

        await _wait_for_letters(stream, 3)
    letters = await read_letters(js, topology, "index")
    assert {item.letter.article_id for item in letters} == {"dlq-0", "dlq-1", "dlq-2"}
    assert all(item.letter.kind == "exhausted" and item.letter.attempts == 2 for item in letters)
    assert all(item.letter.reason == "RuntimeError" for item in letters)  # the exception's name

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


class RaisingWorker(AlwaysFailing):
    """A worker whose whole batch call raises instead of returning one outcome per message."""

    async def process_batch(self, items: Sequence[Any]) -> list[Outcome]:
        raise RuntimeError("the batch call itself failed")


async def test_a_message_whose_worker_raises_for_the_whole_batch_is_retried_then_dead_lettered(
    servers: Servers, namespace: str, stream: Stream
) -> None:
    topology, js = stream.topology, stream.js
    settings = ServiceSettings(nats_url=servers.nats_url, namespace=namespace, max_deliver=3, retry_backoff_s=[0.1])
    async with running(create_stage_app(settings, "index", RaisingWorker())):
        await js.publish(topology.inbox("index"), _article(1))

        await _wait_for_letters(stream, 1)
    [item] = await read_letters(js, topology, "index")
    assert (item.letter.kind, item.letter.attempts, item.letter.article_id) == ("exhausted", 3, "dlq-1")
    assert "the batch call itself failed" in item.letter.error


async def test_a_message_that_was_never_settled_is_dead_lettered_without_running_it_again(
    servers: Servers, namespace: str, stream: Stream
) -> None:
    """The process died holding it, max_deliver times (a poison that kills its worker): the next delivery
    goes to the dead letters as ``unsettled`` and the worker never sees it."""
    topology, js = stream.topology, stream.js
    settings = ServiceSettings(nats_url=servers.nats_url, namespace=namespace, max_deliver=2, ack_wait_s=0.5)
    await js.publish(topology.inbox("index"), _article(7))
    dying = await js.pull_subscribe(
        topology.inbox("index"),
        durable=topology.durable("index"),
        stream=topology.stream,
        config=consumer_config(settings, topology, "index"),
    )
    for _ in range(settings.max_deliver):  # taken and never settled, as by a process that is killed
        [held] = await dying.fetch(1, timeout=5)
    assert held.metadata.num_delivered == settings.max_deliver
    await dying.unsubscribe()
    async with running(create_stage_app(settings, "index", AlwaysFailing())):
        await _wait_for_letters(stream, 1)
    [item] = await read_letters(js, topology, "index")
    assert (item.letter.reason, item.letter.kind) == ("unsettled", "exhausted")
    assert item.letter.attempts == settings.max_deliver + 1 and item.letter.article_id == "dlq-7"


class SlowWorker(PerItemWorker):
    """Takes several ack_waits over one message, as the linker might over a huge article."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def process(self, item: Any) -> list[Any]:
        self.calls += 1
        time.sleep(self.seconds)
        return []


async def test_a_message_worked_on_longer_than_ack_wait_is_not_redelivered_to_another_replica(
    servers: Servers, namespace: str, stream: Stream
) -> None:
    topology, js = stream.topology, stream.js
    settings = ServiceSettings(nats_url=servers.nats_url, namespace=namespace, ack_wait_s=1.0)
    worker = SlowWorker(seconds=4 * settings.ack_wait_s)
    async with running(create_stage_app(settings, "index", worker)):
        await js.publish(topology.inbox("index"), _article(3))

        async def started() -> bool:
            return worker.calls == 1

        await wait_until(started, 30, "the slow worker started")
        other_replica = await js.pull_subscribe(
            topology.inbox("index"), durable=topology.durable("index"), stream=topology.stream
        )
        with pytest.raises(TimeoutError):  # the message is still held, so nothing is redelivered
            await other_replica.fetch(1, timeout=2.5 * settings.ack_wait_s)
        await other_replica.unsubscribe()

        async def settled() -> bool:
            info = await js.consumer_info(topology.stream, topology.durable("index"))
            return info.num_ack_pending == 0 and info.num_pending == 0

        await wait_until(settled, 30, "the slow message acked")
    assert worker.calls == 1


async def test_purge_removes_only_the_named_stages_letters(servers: Servers, namespace: str, stream: Stream) -> None:
    topology, js = stream.topology, stream.js
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
