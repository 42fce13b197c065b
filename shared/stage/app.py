"""A stage's FastStream app: broker, durable pull consumer, health and metrics, lifecycle.

FastStream's default for a raising handler is to discard; this runtime pulls and acks
by hand (see ``runtime``) and uses FastStream for the broker's lifecycle and publishing."""

from __future__ import annotations

from faststream import FastStream
from faststream.nats import ConsumerConfig
from nats.js.api import AckPolicy as ServerAckPolicy

from shared.health import HealthServer
from shared.logging import configure_logging
from shared.nats import broker_for, ensure_stream
from shared.settings import ServiceSettings
from shared.stage.runtime import StageRuntime
from shared.stage.worker import StageContext, StageWorker
from shared.topology import Topology


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
    """``topology`` defaults to the project's pipeline; tests pass another one (e.g. with a new stage inserted)."""
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
        js = broker.connection.jetstream()
        await ensure_stream(js, topology)
        await worker.start(StageContext(stage=stage, settings=settings, topology=topology, jetstream=js))
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
