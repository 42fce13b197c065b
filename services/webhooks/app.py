"""The webhooks service: ``create_app(settings)`` builds it; run it with ``python -m services.webhooks``.

Every pulled ``AlertMatched`` whose alert has a webhook is POSTed to it, signed (shared/webhooks.py),
each delivery in its own task with its own deadline, so a slow endpoint holds one slot for at most
``timeout_s`` and never the others. The answer settles the message:

* 2xx: acked, delivered;
* a timeout, a connection failure, 408, 429 or 5xx: nacked with the back-off delay, so the retry
  waits in JetStream and holds nothing here; after ``max_deliver`` attempts, a dead letter;
* any other 4xx, or a target the address guard refuses (shared/guarded_http.py): a dead letter now,
  with the reason (``http_404``, ``blocked_address``).

An alert deleted (or its webhook removed) since it fired is acked without a delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict

import httpx
from faststream import FastStream
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import NotFoundError, OpenSearchException
from pydantic import ValidationError

from services.webhooks.settings import WebhooksSettings
from shared import __version__
from shared.errors import PermanentError
from shared.guarded_http import AddressPolicy, guarded_transport
from shared.health import HealthServer
from shared.logging import configure_logging, get_logger
from shared.messages import AlertMatched, FailureKind
from shared.metrics import ERRORS, MESSAGES_IN, MESSAGES_OUT
from shared.nats import broker_for, ensure_stream
from shared.search.alerts import SavedSearch
from shared.search.client import async_client
from shared.stage.dead_letters import DeadLetters
from shared.stage.delivery import Delivery
from shared.stage.keep_alive import kept_alive
from shared.topology import Topology
from shared.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

STAGE = "webhooks"
log = get_logger("newsflow.webhooks")
RETRIED_STATUSES = frozenset({408, 425, 429})


class DeliveryFailed(Exception):
    """An attempt that may succeed later (timeout, connection, 5xx, 429)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class AlertDirectory:
    """The alerts' webhook URLs and secrets, read from the alerts index and kept ``ttl_s`` seconds."""

    def __init__(self, client: AsyncOpenSearch, alias: str, ttl_s: float) -> None:
        self.client, self.alias, self.ttl_s = client, alias, ttl_s
        self.cache: dict[str, tuple[float, SavedSearch | None]] = {}

    async def get(self, alert_id: str) -> SavedSearch | None:
        cached = self.cache.get(alert_id)
        if cached and time.monotonic() - cached[0] < self.ttl_s:
            return cached[1]
        try:
            found = await self.client.get(index=self.alias, id=alert_id)
            alert: SavedSearch | None = SavedSearch.model_validate(found["_source"]["alert"])
        except NotFoundError:
            alert = None
        self.cache[alert_id] = (time.monotonic(), alert)
        return alert


class WebhookSender:
    def __init__(self, settings: WebhooksSettings) -> None:
        self.timeout_s = settings.timeout_s
        policy = AddressPolicy.from_strings(settings.allowed_networks)
        self.client = httpx.AsyncClient(
            transport=guarded_transport(policy, httpx.Limits(max_connections=settings.concurrency)),
            follow_redirects=False,  # a redirect could lead past the guard's choice of target
            trust_env=False,
            timeout=httpx.Timeout(settings.timeout_s),
            headers={"User-Agent": f"newsflow-webhooks/{__version__}", "Content-Type": "application/json"},
        )

    async def post(self, alert: SavedSearch, event: AlertMatched, body: bytes) -> None:
        """One signed attempt; returns when the endpoint accepted it, else raises why not."""
        assert alert.webhook_url is not None and alert.webhook_secret is not None
        timestamp = int(time.time())
        headers = {
            SIGNATURE_HEADER: sign(alert.webhook_secret, timestamp, body),
            TIMESTAMP_HEADER: str(timestamp),
            DELIVERY_HEADER: f"{event.alert_id}:{event.article_id}",
        }
        try:
            async with asyncio.timeout(self.timeout_s):
                response = await self.client.post(alert.webhook_url, content=body, headers=headers)
        except TimeoutError as error:
            raise DeliveryFailed("timeout", f"no answer within {self.timeout_s} s") from error
        except httpx.TransportError as error:
            raise DeliveryFailed("connection", repr(error)) from error
        status = response.status_code
        if status < 300:
            return
        if status >= 500 or status in RETRIED_STATUSES:
            raise DeliveryFailed(f"http_{status}", f"{alert.webhook_url} answered {status}")
        raise PermanentError(f"http_{status}", f"{alert.webhook_url} answered {status}")

    async def close(self) -> None:
        await self.client.aclose()


class WebhookConsumer:
    """The pull loop: messages held in hand up to ``max_ack_pending``, at most ``concurrency`` requests in
    flight, at most ``endpoint_concurrency`` of them to any one URL; each message settled on its own.

    A message waiting for its endpoint holds no request slot (its ack timer is kept reset meanwhile),
    so a hanging endpoint ties up only its own few slots, each for at most ``timeout_s``."""

    def __init__(
        self,
        settings: WebhooksSettings,
        topology: Topology,
        js: JetStreamContext,
        directory: AlertDirectory,
        sender: WebhookSender,
    ) -> None:
        self.settings, self.topology, self.js = settings, topology, js
        self.dead_letters = DeadLetters(STAGE, self._publish_to_stream, topology)
        self.directory, self.sender = directory, sender
        self.stopping = asyncio.Event()
        self.in_flight: set[asyncio.Task[None]] = set()
        self.requests = asyncio.Semaphore(settings.concurrency)
        self.endpoints: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.endpoint_concurrency)
        )

    async def subscribe(self) -> JetStreamContext.PullSubscription:
        config = ConsumerConfig(
            durable_name=self.topology.durable(STAGE),
            filter_subject=self.topology.alert_matched_subject,
            ack_policy=AckPolicy.EXPLICIT,
            # Unbounded on the server: this consumer counts the attempts and dead-letters itself.
            max_deliver=-1,
            ack_wait=self.settings.ack_wait_s,
            max_ack_pending=self.settings.max_ack_pending,
        )
        return await self.js.pull_subscribe(
            self.topology.alert_matched_subject,
            durable=self.topology.durable(STAGE),
            stream=self.topology.stream,
            config=config,
        )

    async def run(self, subscription: JetStreamContext.PullSubscription) -> None:
        while not self.stopping.is_set():
            free = self.settings.max_ack_pending - len(self.in_flight)
            if free <= 0:
                await asyncio.wait(self.in_flight, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                messages = await subscription.fetch(min(free, self.settings.batch_size), timeout=1.0)
            except (TimeoutError, NatsTimeoutError):
                continue
            except Exception as error:  # NATS restarting: the client reconnects, unacked messages come back
                log.warning("fetch_failed", stage=STAGE, error=repr(error))
                await asyncio.sleep(1)
                continue
            for message in messages:
                task = asyncio.create_task(self.handle(message))
                self.in_flight.add(task)
                task.add_done_callback(self.in_flight.discard)
        await asyncio.gather(*self.in_flight, return_exceptions=True)

    async def handle(self, message: Msg) -> None:
        MESSAGES_IN.labels(STAGE).inc()
        attempt = int(message.metadata.num_delivered)
        try:
            event = AlertMatched.model_validate_json(message.data)
            alert = await self.directory.get(event.alert_id)
            if alert is None or not alert.webhook_url:
                log.info("no_webhook", stage=STAGE, alert_id=event.alert_id, article_id=event.article_id)
                await message.ack_sync()
                return
            held = kept_alive([Delivery(message)], self.settings.ack_wait_s / 3)
            async with held, self.endpoints[alert.webhook_url], self.requests:
                await self.sender.post(alert, event, message.data)
        except ValidationError as error:
            await self.dead_letter(message, "validation", str(error)[:2000], "permanent")
        except PermanentError as error:
            await self.dead_letter(message, error.reason, error.detail, "permanent")
        except OpenSearchException as error:  # the alert could not be read: nothing is known of the endpoint
            await message.nak(delay=self.backoff(attempt))
            log.warning("alert_unreadable", stage=STAGE, error=repr(error))
        except DeliveryFailed as error:
            ERRORS.labels(STAGE, "transient").inc()
            if attempt >= self.settings.max_deliver:
                await self.dead_letter(message, error.reason, str(error), "exhausted")
            else:
                await message.nak(delay=self.backoff(attempt))
                log.warning("delivery_retrying", stage=STAGE, attempt=attempt, error=str(error))
        else:
            await message.ack_sync()
            MESSAGES_OUT.labels(STAGE).inc()
            log.info("delivered", stage=STAGE, alert_id=event.alert_id, article_id=event.article_id, attempt=attempt)

    def backoff(self, attempt: int) -> float:
        delays = self.settings.retry_backoff_s
        return delays[min(attempt - 1, len(delays) - 1)]

    async def dead_letter(self, message: Msg, reason: str, detail: str, kind: FailureKind) -> None:
        await self.dead_letters.send(Delivery(message), reason, detail, kind)
        log.warning("dead_lettered", stage=STAGE, reason=reason, kind=kind, error=detail[:300])

    async def _publish_to_stream(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        await self.js.publish(subject, payload, stream=self.topology.stream, headers=headers)


class WebhooksService:
    """The consumer's lifecycle inside a FastStream app: health, clients, the pull loop, a graceful drain."""

    def __init__(self, settings: WebhooksSettings, topology: Topology) -> None:
        self.settings, self.topology = settings, topology
        self.broker = broker_for(settings)
        self.health: HealthServer | None = None
        self.search = async_client(settings.opensearch)
        self.sender = WebhookSender(settings)
        self.consumer: WebhookConsumer | None = None
        self.subscription: JetStreamContext.PullSubscription | None = None
        self.task: asyncio.Task[None] | None = None

    def healthy(self) -> bool:
        """Connected to NATS and still pulling."""
        return self.task is not None and not self.task.done() and self.broker.connection.is_connected

    async def start(self) -> None:
        if self.settings.metrics_port is not None:
            self.health = await HealthServer.start(self.settings.metrics_host, self.settings.metrics_port, self.healthy)
        js = self.broker.connection.jetstream()
        await ensure_stream(js, self.topology)
        directory = AlertDirectory(self.search, self.settings.opensearch.alerts_alias, self.settings.alert_cache_s)
        self.consumer = WebhookConsumer(self.settings, self.topology, js, directory, self.sender)
        self.subscription = await self.consumer.subscribe()
        self.task = asyncio.create_task(self.consumer.run(self.subscription), name="webhooks-pull")
        log.info("stage_started", stage=STAGE, inbox=self.topology.alert_matched_subject)

    async def stop(self) -> None:
        if self.consumer is not None and self.task is not None:
            self.consumer.stopping.set()  # deliveries in flight finish (each within timeout_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.task, self.settings.graceful_timeout_s)
        if self.subscription is not None:
            await self.subscription.unsubscribe()
        await self.sender.close()
        await self.search.close()
        if self.health is not None:
            await self.health.stop()


def create_app(settings: WebhooksSettings | None = None, topology: Topology | None = None) -> FastStream:
    settings = settings or WebhooksSettings()
    configure_logging(settings.log_level)
    service = WebhooksService(settings, topology or settings.topology)
    app = FastStream(service.broker)
    app.after_startup(service.start)
    app.on_shutdown(service.stop)
    return app
