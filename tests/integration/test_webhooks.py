"""Webhook delivery against the real nats-server and OpenSearch, to receivers on 127.0.0.1 (allowed
by the operator allow-list, as a test must): signed, retried, dead-lettered, never held back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import nats
import pytest
from aiohttp import web
from faststream import FastStream

from services.webhooks.app import create_app
from services.webhooks.settings import WebhooksSettings
from shared.localhost import free_port
from shared.messages import AlertMatched, Source
from shared.search.alerts import AlertStore, SavedSearch
from shared.settings import OpenSearchSettings
from shared.topology import Topology
from shared.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.conftest import Servers
from tests.support import dead_letters, running, wait_until

pytestmark = pytest.mark.integration
Handler = Callable[[web.Request], Awaitable[web.Response]]


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1 that answers with ``statuses`` in turn (then 200)."""

    statuses: list[int] = field(default_factory=list)
    hang: asyncio.Event | None = None  # when set: never answer until this is set
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    accepted: list[bytes] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.calls.append((dict(request.headers), body))
        if self.hang is not None:
            await self.hang.wait()
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200:
            self.accepted.append(body)
        return web.Response(status=status)


@contextlib.asynccontextmanager
async def serving(*receivers: Receiver) -> AsyncIterator[None]:
    runners = []
    for receiver in receivers:
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
        runners.append(runner)
    try:
        yield
    finally:
        for receiver in receivers:
            if receiver.hang is not None:
                receiver.hang.set()
        for runner in runners:
            await runner.cleanup()


def webhooks(servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, **overrides: Any) -> FastStream:
    chosen: dict[str, Any] = {"allowed_networks": ["127.0.0.1/32"], "retry_backoff_s": [0.2], "timeout_s": 2.0}
    settings = WebhooksSettings(
        nats_url=servers.nats_url, namespace=namespace, opensearch=opensearch_settings, **{**chosen, **overrides}
    )
    return create_app(settings)


def matched(alert_id: str, article: str) -> AlertMatched:
    return AlertMatched(
        alert_id=alert_id,
        alert_name=alert_id,
        article_id=article,
        story_id=article,
        title=f"Article {article}",
        url=f"https://news.example.test/{article}",
        source=Source(name="Example"),
        matched={"topic_keys": ["science"]},
    )


async def publish(servers: Servers, topology: Topology, *events: AlertMatched) -> None:
    client = await nats.connect(servers.nats_url)
    js = client.jetstream()  # the webhooks service made the stream when it started
    for event in events:
        headers = {"Nats-Msg-Id": f"alert:{event.alert_id}:{event.article_id}"}
        await js.publish(topology.alert_matched_subject, event.model_dump_json().encode(), headers=headers)
    await client.close()


def add(store: AlertStore, alert_id: str, receiver: Receiver) -> SavedSearch:
    return store.add(SavedSearch(alert_id=alert_id, name=alert_id, more_in="science", webhook_url=receiver.url))


async def test_deliveries_are_signed_with_the_alerts_secret(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, store: AlertStore
) -> None:
    receiver = Receiver()
    alert = add(store, "signed", receiver)
    assert alert.webhook_secret
    topology = Topology(namespace)
    async with serving(receiver), running(webhooks(servers, namespace, opensearch_settings)):
        await publish(servers, topology, matched("signed", "a1"), matched("signed", "a2"))
        await wait_until(lambda: _has(receiver.accepted, 2), 30, "two deliveries")
    for headers, body in receiver.calls:
        assert verify(alert.webhook_secret, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify("another secret", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert not verify(alert.webhook_secret, headers[TIMESTAMP_HEADER], body + b" ", headers[SIGNATURE_HEADER])
    delivered = sorted(AlertMatched.model_validate_json(body).article_id for body in receiver.accepted)
    assert delivered == ["a1", "a2"]
    assert sorted(headers[DELIVERY_HEADER] for headers, _ in receiver.calls) == ["signed:a1", "signed:a2"]


async def test_an_endpoint_failing_three_times_gets_the_delivery_once(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, store: AlertStore
) -> None:
    receiver = Receiver(statuses=[500, 500, 500])
    add(store, "flaky", receiver)
    topology = Topology(namespace)
    async with serving(receiver), running(webhooks(servers, namespace, opensearch_settings)):
        await publish(servers, topology, matched("flaky", "b1"))
        await wait_until(lambda: _has(receiver.accepted, 1), 30, "the delivery after three failures")
        await wait_until(lambda: settled(servers, topology), 30, "nothing left to deliver")
    assert len(receiver.calls) == 4 and len(receiver.accepted) == 1
    assert len({headers[DELIVERY_HEADER] for headers, _ in receiver.calls}) == 1
    assert await dead_letters(servers.nats_url, topology, "webhooks") == []


async def test_an_endpoint_that_keeps_failing_is_dead_lettered_with_the_reason(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, store: AlertStore
) -> None:
    failing, gone = Receiver(statuses=[503] * 10), Receiver(statuses=[404])
    add(store, "failing", failing)
    add(store, "gone", gone)
    topology = Topology(namespace)
    app = webhooks(servers, namespace, opensearch_settings, max_deliver=3)
    async with serving(failing, gone), running(app):
        await publish(servers, topology, matched("failing", "c1"), matched("gone", "c2"))
        await wait_until(lambda: _letters(servers, topology, 2), 30, "two dead letters")
    letters = {letter.article_id: letter for letter in await dead_letters(servers.nats_url, topology, "webhooks")}
    assert (letters["c1"].reason, letters["c1"].kind, letters["c1"].attempts) == ("http_503", "exhausted", 3)
    assert (letters["c2"].reason, letters["c2"].kind, letters["c2"].attempts) == ("http_404", "permanent", 1)
    assert len(failing.calls) == 3 and len(gone.calls) == 1


async def test_a_loopback_target_is_refused_without_the_allow_list(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, store: AlertStore
) -> None:
    receiver = Receiver()
    add(store, "inside", receiver)
    topology = Topology(namespace)
    app = webhooks(servers, namespace, opensearch_settings, allowed_networks=[])
    async with serving(receiver), running(app):
        await publish(servers, topology, matched("inside", "d1"))
        await wait_until(lambda: _letters(servers, topology, 1), 30, "a dead letter")
    [letter] = await dead_letters(servers.nats_url, topology, "webhooks")
    assert letter.reason == "blocked_address" and receiver.calls == []


async def test_a_hanging_endpoint_does_not_hold_back_another_alert(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, store: AlertStore
) -> None:
    hanging, healthy = Receiver(hang=asyncio.Event()), Receiver()
    add(store, "hanging", hanging)
    add(store, "healthy", healthy)
    topology = Topology(namespace)
    # Fewer request slots than hanging deliveries: only the per-endpoint limit leaves one for the other alert.
    app = webhooks(servers, namespace, opensearch_settings, timeout_s=30.0, concurrency=4, endpoint_concurrency=2)
    async with serving(hanging, healthy), running(app):
        await publish(servers, topology, *(matched("hanging", f"h{n}") for n in range(5)))
        await wait_until(lambda: _has(hanging.calls, 2), 30, "the hanging endpoint called")
        await publish(servers, topology, matched("healthy", "e1"))
        await wait_until(lambda: _has(healthy.accepted, 1), 30, "the healthy endpoint's delivery")
        # The hanging endpoint got only its own two slots, and is still answering none of them.
        assert len(hanging.calls) == 2 and hanging.accepted == []
        assert hanging.hang is not None
        hanging.hang.set()


async def test_a_deleted_alert_is_not_delivered(
    servers: Servers, namespace: str, opensearch_settings: OpenSearchSettings, store: AlertStore
) -> None:
    receiver, witness = Receiver(), Receiver()
    add(store, "deleted", receiver)
    add(store, "kept", witness)
    store.remove("deleted")
    topology = Topology(namespace)
    async with serving(receiver, witness), running(webhooks(servers, namespace, opensearch_settings)):
        await publish(servers, topology, matched("deleted", "f1"), matched("kept", "f2"))
        await wait_until(lambda: _has(witness.accepted, 1), 30, "the kept alert's delivery")
        await wait_until(lambda: settled(servers, topology), 30, "nothing left to deliver")
    assert receiver.calls == []


async def _has(items: list[object], count: int) -> bool:
    return len(items) >= count


async def settled(servers: Servers, topology: Topology) -> bool:
    """The webhooks consumer holds nothing: every message acked or terminated."""
    client = await nats.connect(servers.nats_url)
    try:
        info = await client.jetstream().consumer_info(topology.stream, topology.durable("webhooks"))
    finally:
        await client.close()
    return info.num_pending == 0 and info.num_ack_pending == 0 and info.num_redelivered == 0


async def _letters(servers: Servers, topology: Topology, count: int) -> bool:
    return len(await dead_letters(servers.nats_url, topology, "webhooks")) >= count
