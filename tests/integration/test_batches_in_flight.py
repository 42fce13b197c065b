"""Several batches in flight against the real server: the next batch is worked on while the last one
waits on its server, and a stop still drains every batch in hand."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import nats
import pytest

from shared.messages import ArticleLinked, Source
from shared.nats import ensure_stream
from shared.settings import ServiceSettings
from shared.stage import Outcome, PerItemWorker, create_stage_app
from shared.topology import Topology
from tests.conftest import Servers
from tests.support import running, wait_until

pytestmark = pytest.mark.integration


class WaitingWorker(PerItemWorker):
    """Each batch waits on a 'server' until released; records how many batches it held at once."""

    def __init__(self) -> None:
        self.holding = 0
        self.most_held = 0
        self.done: list[str] = []
        self.release = asyncio.Event()

    async def process_batch(self, items: Sequence[Any]) -> list[Outcome]:
        self.holding += 1
        self.most_held = max(self.most_held, self.holding)
        await self.release.wait()
        self.holding -= 1
        self.done += [item.article_id for item in items]
        return [[] for _ in items]


@pytest.mark.parametrize("batches_in_flight", [1, 2])
async def test_batches_are_worked_on_together_up_to_the_setting(
    servers: Servers, namespace: str, isolated: None, batches_in_flight: int
) -> None:
    topology = Topology(namespace)
    client = await nats.connect(servers.nats_url)
    js = client.jetstream()
    await ensure_stream(js, topology)
    for number in range(3):
        article = ArticleLinked(article_id=f"a{number}", title="T", body="B.", source=Source(name="test"))
        await js.publish(topology.inbox("index"), article.model_dump_json().encode())
    settings = ServiceSettings(
        nats_url=servers.nats_url, namespace=namespace, batch_size=1, batches_in_flight=batches_in_flight
    )
    worker = WaitingWorker()
    async with running(create_stage_app(settings, "index", worker)):

        async def holding_all_it_may() -> bool:
            return worker.holding == batches_in_flight

        await wait_until(holding_all_it_may, 10, f"{batches_in_flight} batches in hand")
        await asyncio.sleep(0.5)  # a third batch would have been fetched by now
        assert worker.most_held == batches_in_flight
        worker.release.set()

        async def all_done() -> bool:
            return sorted(worker.done) == ["a0", "a1", "a2"]

        await wait_until(all_done, 10, "every batch done")
    info = await js.consumer_info(topology.stream, topology.durable("index"))
    assert info.num_ack_pending == 0 and info.num_pending == 0
    await client.close()
