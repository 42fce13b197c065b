"""The runtime every pipeline stage shares.

A stage is a durable JetStream pull consumer on its inbox subject. For each
pulled batch it validates the messages against the contract, hands the valid
ones to the stage's ``StageWorker``, publishes the results to the next
stage's inbox (waiting for JetStream's ack, with ``Nats-Msg-Id`` for
idempotency), and only then acks each original. Failures are settled one
message at a time, so one bad message never takes its batch down:

* invalid or oversized message, or ``PermanentError`` -> dead letter now;
* any other exception -> nack with back-off, dead letter once
  ``max_deliver`` attempts are spent.

FastStream's default for a raising handler is to discard; this runtime acks
by hand (``AckPolicy.MANUAL``) and never lets the handler raise.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from faststream import FastStream
from faststream.nats import ConsumerConfig, NatsBroker
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoRespondersError, NotJSMessageError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy as ServerAckPolicy
from nats.js.errors import ServiceUnavailableError
from pydantic import ValidationError

from shared import __version__
from shared.errors import DependencyUnavailable, PermanentError
from shared.health import HealthServer
from shared.logging import configure_logging, get_logger
from shared.messages import (
    MAX_MESSAGE_BYTES,
    ArticleFields,
    DeadLettered,
    FailureKind,
    Model,
    Provenance,
)
from shared.metrics import BATCH_SIZE, DEAD_LETTERS, ERRORS, HANDLER_SECONDS, MESSAGES_IN, MESSAGES_OUT
from shared.nats import broker_for, ensure_stream
from shared.settings import ServiceSettings
from shared.topology import StageSpec, Topology

# The longest wait between retries of a batch whose server is down.
MAX_DEPENDENCY_WAIT_S = 15.0
# A dead letter must fit in the stream like any message (headers need a little room too).
MAX_LETTER_BYTES = MAX_MESSAGE_BYTES - 64 * 1024

# What one message became: the articles to publish downstream (possibly none),
# or the exception that stopped it.
Outcome = list[ArticleFields] | Exception


class StageWorker(Protocol):
    """The stage's own work, free of any broker code."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def process_batch(self, items: Sequence[Any]) -> list[Outcome]: ...


class PerItemWorker:
    """A worker whose work is a pure function of one message (most stages)."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def process(self, item: Any) -> list[ArticleFields]:
        raise NotImplementedError

    async def process_batch(self, items: Sequence[Any]) -> list[Outcome]:
        # In a thread, so that the event loop stays free to keep the batch's messages alive
        # (in_progress) and to answer health checks while a long article is being worked on.
        return await asyncio.to_thread(self._process_each, items)

    def _process_each(self, items: Sequence[Any]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for item in items:
            try:
                outcomes.append(self.process(item))
            except Exception as error:  # settled per message by the runtime
                outcomes.append(error)
        return outcomes


@dataclass
class Delivery:
    """One pulled message and what we know of its delivery."""

    raw: Msg

    @property
    def attempt(self) -> int:
        try:
            return int(self.raw.metadata.num_delivered)
        except NotJSMessageError:  # a core-NATS message has exactly one delivery
            return 1

    @property
    def stream_sequence(self) -> int | None:
        try:
            return int(self.raw.metadata.sequence.stream)
        except NotJSMessageError:
            return None

    @property
    def is_jetstream(self) -> bool:
        return self.stream_sequence is not None

    async def ack(self) -> None:
        if self.is_jetstream:
            # ackAck waits for the server to confirm, so an ack lost on the way is seen here.
            await self.raw.ack_sync()

    async def nak(self, delay_s: float) -> None:
        if self.is_jetstream:
            await self.raw.nak(delay=delay_s)

    async def in_progress(self) -> None:
        """Reset the ack timer of a message we still hold."""
        if self.is_jetstream:
            await self.raw.in_progress()

    async def term(self) -> None:
        if self.is_jetstream:
            await self.raw.term()


@dataclass
class StageRuntime:
    settings: ServiceSettings
    spec: StageSpec
    worker: StageWorker
    broker: NatsBroker
    topology: Topology

    def __post_init__(self) -> None:
        self._stopping = asyncio.Event()
        self.log = get_logger(f"newsflow.{self.spec.name}")
        self.outbox = self.topology.outbox(self.spec.name)

    # -- the pull loop ----------------------------------------------------------
    # Our own loop rather than FastStream's batch subscriber: in faststream 0.7.8
    # a plain asyncio.TimeoutError from nats-py's fetch escapes its loop and drops
    # the messages fetched so far until ack_wait redelivers them.
    def start(self, subscription: JetStreamContext.PullSubscription) -> None:
        self._subscription = subscription
        self._task = asyncio.create_task(self._consume(subscription), name=f"{self.spec.name}-pull")

    def healthy(self) -> bool:
        """Connected to NATS and still pulling."""
        task = getattr(self, "_task", None)
        return bool(task is not None and not task.done() and self.broker.connection.is_connected)

    async def stop(self, timeout_s: float) -> None:
        """Stop fetching and let the batch in hand finish (graceful drain on SIGTERM)."""
        self._stopping.set()
        try:
            await asyncio.wait_for(self._task, timeout_s)
        except TimeoutError:
            self._task.cancel()
            self.log.warning("drain_timeout", stage=self.spec.name, timeout_s=timeout_s)
        # Unsubscribing the inbox lets the broker's connection drain at once; unacked
        # messages stay with the durable consumer for the next process.
        await self._subscription.unsubscribe()

    async def _consume(self, subscription: JetStreamContext.PullSubscription) -> None:
        slots = asyncio.Semaphore(self.settings.batches_in_flight)
        in_flight: set[asyncio.Task[None]] = set()
        while not self._stopping.is_set():
            await slots.acquire()
            raws = await self._fetch(subscription)
            if not raws:
                slots.release()
                continue
            task = asyncio.create_task(self._handle_guarded(raws))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            task.add_done_callback(lambda _: slots.release())
        await asyncio.gather(*in_flight)  # drain: the batches in hand finish before the stage stops

    async def _fetch(self, subscription: JetStreamContext.PullSubscription) -> list[Msg]:
        try:
            return await subscription.fetch(self.settings.batch_size, timeout=self.settings.batch_timeout_s)
        except TimeoutError:  # nothing to do (nats.errors.TimeoutError is one too)
            return []
        except (ConnectionClosedError, NoRespondersError, ServiceUnavailableError) as error:
            # NATS restarting: the client reconnects by itself; unacked messages come back.
            self.log.warning("fetch_failed", stage=self.spec.name, error=repr(error))
            await asyncio.sleep(1)
            return []

    async def _handle_guarded(self, raws: list[Msg]) -> None:
        try:
            await self.handle_batch(raws)
        except Exception as error:  # never let the loop die: unsettled messages are redelivered
            self.log.exception("batch_failed", stage=self.spec.name, error=repr(error))
            await asyncio.sleep(1)

    # -- the batch handler ---------------------------------------------------
    async def handle_batch(self, raws: Sequence[Msg]) -> None:
        started = time.perf_counter()
        stage = self.spec.name
        MESSAGES_IN.labels(stage).inc(len(raws))
        BATCH_SIZE.labels(stage).observe(len(raws))
        valid: list[tuple[Delivery, Model]] = []
        for raw in raws:
            delivery = Delivery(raw)
            if delivery.attempt > self.settings.max_deliver:
                await self._give_up_unsettled(delivery)
                continue
            try:
                valid.append((delivery, self._decode(raw.data)))
            except PermanentError as error:
                await self._fail(delivery, error)
        async with self._kept_alive([delivery for delivery, _ in valid]):
            outcomes = await self._process_while_dependencies_recover(valid) if valid else []
        per_message_ms = (time.perf_counter() - started) * 1000 / max(1, len(raws))
        settlements = (
            self._settle(delivery, item, outcome, per_message_ms)
            for (delivery, item), outcome in zip(valid, outcomes, strict=True)
        )
        await asyncio.gather(*settlements)
        HANDLER_SECONDS.labels(stage).observe(time.perf_counter() - started)

    async def _process_while_dependencies_recover(self, valid: list[tuple[Delivery, Model]]) -> list[Outcome]:
        """Run the worker; re-run the messages it could not do because a server was down, until it is back."""
        outcomes: list[Outcome] = [DependencyUnavailable("not processed yet")] * len(valid)
        delay_s = 1.0
        while True:
            waiting = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, DependencyUnavailable)]
            results = await self._run_worker([valid[i][1] for i in waiting])
            for i, result in zip(waiting, results, strict=True):
                outcomes[i] = result
            still = sum(1 for outcome in outcomes if isinstance(outcome, DependencyUnavailable))
            if not still or self._stopping.is_set():
                return outcomes  # on shutdown, what is still waiting is nacked and comes back
            # Meanwhile _kept_alive keeps the batch's messages in progress, so none is redelivered.
            self.log.warning("dependency_unavailable", stage=self.spec.name, waiting=still, retry_in_s=delay_s)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay_s)
            delay_s = min(delay_s * 2, MAX_DEPENDENCY_WAIT_S)

    async def _run_worker(self, items: list[Model]) -> list[Outcome]:
        """The worker's outcomes; a worker that breaks its contract fails each message, to be retried."""
        try:
            results = await self.worker.process_batch(items)
        except Exception as error:
            self.log.exception("worker_failed", stage=self.spec.name, error=repr(error))
            return [error] * len(items)
        if len(results) != len(items):
            broken = RuntimeError(f"{self.spec.name} worker gave {len(results)} outcomes for {len(items)} messages")
            return [broken] * len(items)
        return results

    @contextlib.asynccontextmanager
    async def _kept_alive(self, deliveries: list[Delivery]) -> AsyncIterator[None]:
        """Reset the ack timer of the messages in hand while they are worked on, however long that takes."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(self.settings.ack_wait_s / 3)
                await asyncio.gather(*(delivery.in_progress() for delivery in deliveries), return_exceptions=True)

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _decode(self, data: bytes) -> Model:
        if len(data) > MAX_MESSAGE_BYTES:
            raise PermanentError("oversized", f"{len(data)} bytes > {MAX_MESSAGE_BYTES}")
        try:
            return self.spec.consumes.model_validate_json(data)
        except ValidationError as error:
            raise PermanentError("validation", _short(str(error))) from error

    async def _settle(self, delivery: Delivery, item: Model, outcome: Outcome, duration_ms: float) -> None:
        article_id = getattr(item, "article_id", None)
        outcome_name = "published"
        if isinstance(outcome, Exception):
            outcome_name = await self._fail(delivery, outcome)
        else:
            try:
                await self._publish(outcome)
            except Exception as error:  # NATS down or slow: retry later
                outcome_name = await self._fail(delivery, error)
            else:
                await delivery.ack()
                MESSAGES_OUT.labels(self.spec.name).inc(len(outcome) if self.outbox else 1)
                outcome_name = "published" if outcome or not self.outbox else "dropped"
        # The canonical log line: one per message.
        self.log.info(
            "message",
            stage=self.spec.name,
            article_id=article_id,
            attempt=delivery.attempt,
            duration_ms=round(duration_ms, 2),
            outcome=outcome_name,
        )

    async def _fail(self, delivery: Delivery, error: Exception) -> str:
        try:
            if isinstance(error, PermanentError):
                await self._dead_letter(delivery, error.reason, error.detail, "permanent")
                return "dead_lettered"
            if delivery.attempt >= self.settings.max_deliver and not isinstance(error, DependencyUnavailable):
                await self._dead_letter(delivery, type(error).__name__, _short(repr(error)), "exhausted")
                return "dead_lettered"
        except Exception as letter_error:  # the dead letter itself failed (NATS down): try again later
            self.log.exception("dead_letter_failed", stage=self.spec.name, error=repr(letter_error))
        ERRORS.labels(self.spec.name, "transient").inc()
        backoff = self.settings.retry_backoff_s
        delay = backoff[min(delivery.attempt - 1, len(backoff) - 1)]
        await delivery.nak(delay)
        self.log.warning("retrying", stage=self.spec.name, attempt=delivery.attempt, delay_s=delay, error=repr(error))
        return "retry"

    async def _give_up_unsettled(self, delivery: Delivery) -> None:
        """Dead-letter, without running it again, a message past ``max_deliver`` whose earlier attempts never
        settled: the process died while holding it (perhaps because of it) or its ack was lost."""
        try:
            detail = f"delivered {delivery.attempt} times, never settled"
            await self._dead_letter(delivery, "unsettled", detail, "exhausted")
        except Exception as error:  # NATS down: it comes back once more (the server allows two extra deliveries)
            self.log.exception("dead_letter_failed", stage=self.spec.name, error=repr(error))

    async def _publish(self, articles: list[ArticleFields]) -> None:
        if not self.outbox or not articles:
            return
        following = self.topology.next_stage(self.spec.name)
        assert following is not None
        await asyncio.gather(
            *(
                self.broker.publish(
                    article.model_dump_json().encode(),
                    self.outbox,
                    headers={"Nats-Msg-Id": f"{article.article_id}:{following.name}"},
                    stream=self.topology.stream,
                )
                for article in articles
            )
        )

    async def _dead_letter(self, delivery: Delivery, reason: str, detail: str, kind: FailureKind) -> None:
        """Publish the dead letter durably, then TERM the original so it is never redelivered."""
        raw = delivery.raw
        letter = DeadLettered(
            stage=self.spec.name,
            subject=raw.subject,
            reason=reason,
            error=detail,
            kind=kind,
            attempts=delivery.attempt,
            article_id=_article_id_of(raw.data),
            original="",
            original_headers={k: v for k, v in (raw.headers or {}).items()},
        )
        encoded = _with_original(letter, raw.data)
        key = delivery.stream_sequence or hashlib.blake2b(raw.data, digest_size=8).hexdigest()
        await self.broker.publish(
            encoded,
            self.topology.dead_letter_subject(self.spec.name),
            headers={"Nats-Msg-Id": f"dlq:{self.spec.name}:{key}"},
            stream=self.topology.stream,
        )
        await delivery.term()
        DEAD_LETTERS.labels(self.spec.name, reason).inc()
        ERRORS.labels(self.spec.name, kind).inc()
        self.log.warning("dead_lettered", stage=self.spec.name, reason=reason, kind=kind, error=detail[:300])


def _with_original(letter: DeadLettered, data: bytes) -> bytes:
    """The encoded letter with as much of the original as fits in one message.

    JSON escaping can multiply a hostile original's size, so the cut is made on
    the encoded letter, halving the kept head until it fits.
    """
    kept = len(data)
    while True:
        letter.original = data[:kept].decode("utf-8", errors="replace")
        letter.original_truncated = kept < len(data)
        encoded = letter.model_dump_json().encode()
        if len(encoded) <= MAX_LETTER_BYTES:
            return encoded
        kept //= 2


def stamp(article: ArticleFields, service: str) -> None:
    """Append this stage's provenance stamp."""
    article.provenance.append(Provenance(service=service, version=__version__))


def _short(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _article_id_of(data: bytes) -> str | None:
    """The article id of a message that failed validation, if one can be read from it at all."""
    try:
        value = json.loads(data)
        found = value.get("article_id") if isinstance(value, dict) else None
        # A lone surrogate decodes but cannot be written back out as JSON.
        return found if isinstance(found, str) and found.encode("utf-8") else None
    except (ValueError, RecursionError, UnicodeError):
        return None


def consumer_config(settings: ServiceSettings, topology: Topology, stage: str) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=topology.durable(stage),
        filter_subject=topology.inbox(stage),
        ack_policy=ServerAckPolicy.EXPLICIT,
        # The server's limit sits above ours so that a message whose last attempt
        # crashed the process still comes back once more to be dead-lettered.
        max_deliver=settings.max_deliver + 2,
        ack_wait=settings.ack_wait_s,
        max_ack_pending=settings.max_ack_pending,
    )


def create_stage_app(
    settings: ServiceSettings, stage: str, worker: StageWorker, topology: Topology | None = None
) -> FastStream:
    """Build a stage's FastStream app: broker, durable pull consumer, health and metrics, lifecycle.

    ``topology`` defaults to the project's pipeline; tests pass another one (e.g. with a new stage inserted).
    """
    configure_logging(settings.log_level)
    topology = topology or settings.topology
    spec = topology.stage(stage)
    broker = broker_for(settings)
    runtime = StageRuntime(settings=settings, spec=spec, worker=worker, broker=broker, topology=topology)
    app = FastStream(broker)
    health: HealthServer | None = None

    @app.after_startup
    async def start_consuming() -> None:
        nonlocal health
        if settings.metrics_port is not None:
            health = await HealthServer.start(settings.metrics_host, settings.metrics_port, runtime.healthy)
        await worker.start()
        js = broker.connection.jetstream()
        await ensure_stream(js, topology)
        # Binds to the durable consumer if it exists (other replicas share it), else creates it.
        subscription = await js.pull_subscribe(
            topology.inbox(stage),
            durable=topology.durable(stage),
            stream=topology.stream,
            config=consumer_config(settings, topology, stage),
        )
        runtime.start(subscription)
        runtime.log.info("stage_started", stage=stage, inbox=topology.inbox(stage), outbox=runtime.outbox)

    @app.on_shutdown
    async def stop_consuming() -> None:
        await runtime.stop(settings.graceful_timeout_s)
        await worker.stop()
        if health is not None:
            await health.stop()

    return app
