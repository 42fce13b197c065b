"""The pull loop and the settlement of every message.

A stage is a durable JetStream pull consumer on its inbox subject. For each
pulled batch the runtime validates the messages against the contract, hands
the valid ones to the stage's worker, publishes the results to the next
stage's inbox (waiting for JetStream's ack, with ``Nats-Msg-Id`` for
idempotency), and only then acks each original. Failures are settled one
message at a time, so one bad message never takes its batch down:

* invalid or oversized message, or ``PermanentError`` -> dead letter now;
* any other exception -> nack with back-off, dead letter once
  ``max_deliver`` attempts are spent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NoRespondersError
from nats.js import JetStreamContext
from nats.js.errors import ServiceUnavailableError
from pydantic import ValidationError

from shared.errors import DependencyUnavailable, PermanentError
from shared.logging import get_logger
from shared.messages import MAX_MESSAGE_BYTES, ArticleFields, FailureKind, Model
from shared.metrics import BATCH_SIZE, ERRORS, HANDLER_SECONDS, MESSAGES_IN, MESSAGES_OUT
from shared.settings import ServiceSettings
from shared.stage.dead_letters import DeadLetters, shortened
from shared.stage.delivery import Delivery
from shared.stage.keep_alive import kept_alive
from shared.stage.provenance import stamp
from shared.stage.recovery import run_until_dependencies_recover
from shared.stage.worker import Dropped, Outcome, StageWorker
from shared.topology import StageSpec, Topology


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
        self.dead_letters = DeadLetters(self.spec.name, self._publish_to_stream, self.topology)

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

    # -- one batch ------------------------------------------------------------
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
        # A stage's stamp is the moment it took the article, so what it writes (the index's document)
        # and what it hands on both carry it; the first stage, which takes documents, stamps what it
        # hands on (``_publish``).
        for _, item in valid:
            if isinstance(item, ArticleFields):
                stamp(item, stage, self.worker.field_sources)
        async with kept_alive([delivery for delivery, _ in valid], self.settings.ack_wait_s / 3):
            items = [item for _, item in valid]
            outcomes = await run_until_dependencies_recover(self.worker, items, self._stopping, stage, self.log)
        per_message_ms = (time.perf_counter() - started) * 1000 / max(1, len(raws))
        settlements = (
            self._settle(delivery, item, outcome, per_message_ms)
            for (delivery, item), outcome in zip(valid, outcomes, strict=True)
        )
        await asyncio.gather(*settlements)
        HANDLER_SECONDS.labels(stage).observe(time.perf_counter() - started)

    def _decode(self, data: bytes) -> Model:
        if len(data) > MAX_MESSAGE_BYTES:
            raise PermanentError("oversized", f"{len(data)} bytes > {MAX_MESSAGE_BYTES}")
        try:
            return self.spec.consumes.model_validate_json(data)
        except ValidationError as error:
            raise PermanentError("validation", shortened(str(error))) from error

    async def _settle(self, delivery: Delivery, item: Model, outcome: Outcome, duration_ms: float) -> None:
        article_id = getattr(item, "article_id", None)
        dropped: list[str] = []
        if isinstance(outcome, Exception):
            outcome_name = await self._fail(delivery, outcome)
        else:
            articles = [result for result in outcome if isinstance(result, ArticleFields)]
            dropped = [result.reason for result in outcome if isinstance(result, Dropped)]
            try:
                await self._publish(articles)
            except Exception as error:  # NATS down or slow: retry later
                outcome_name = await self._fail(delivery, error)
            else:
                await delivery.ack()
                MESSAGES_OUT.labels(self.spec.name).inc(len(articles) if self.outbox else 1)
                outcome_name = "published" if articles or not self.outbox else "dropped"
        # The canonical log line: one per message.
        self.log.info(
            "message",
            stage=self.spec.name,
            article_id=article_id,
            attempt=delivery.attempt,
            duration_ms=round(duration_ms, 2),
            outcome=outcome_name,
            **({"dropped": dropped} if dropped else {}),
        )

    async def _fail(self, delivery: Delivery, error: Exception) -> str:
        try:
            if isinstance(error, PermanentError):
                await self._dead_letter(delivery, error.reason, error.detail, "permanent")
                return "dead_lettered"
            if delivery.attempt >= self.settings.max_deliver and not isinstance(error, DependencyUnavailable):
                await self._dead_letter(delivery, type(error).__name__, shortened(repr(error)), "exhausted")
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

    async def _dead_letter(self, delivery: Delivery, reason: str, detail: str, kind: FailureKind) -> None:
        await self.dead_letters.send(delivery, reason, detail, kind)
        self.log.warning("dead_lettered", stage=self.spec.name, reason=reason, kind=kind, error=detail[:300])

    async def _publish_to_stream(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        await self.broker.publish(payload, subject, headers=headers, stream=self.topology.stream)

    async def _publish(self, articles: list[ArticleFields]) -> None:
        if not self.outbox or not articles:
            return
        following = self.topology.next_stage(self.spec.name)
        assert following is not None
        for article in articles:
            stamps = article.provenance.stamps
            if not stamps or stamps[-1].service != self.spec.name:
                stamp(article, self.spec.name, self.worker.field_sources)
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
