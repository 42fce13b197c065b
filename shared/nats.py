"""NATS and JetStream helpers: one broker factory, the one pipeline stream."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from faststream.nats import JStream, NatsBroker, NatsUserPassword, StorageType
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from shared.messages import MAX_MESSAGE_BYTES
from shared.settings import ServiceSettings
from shared.topology import Topology

# Redeliveries and re-ingests inside this window are dropped by JetStream
# itself through Nats-Msg-Id.
DUPLICATE_WINDOW_S = 600.0
# Dead letters and the backlog are kept a week, so an operator has time to replay.
RETENTION_S = 7 * 24 * 3600.0


def pipeline_stream(topology: Topology) -> JStream:
    return JStream(
        topology.stream,
        subjects=topology.stream_subjects,
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
        max_age=RETENTION_S,
        max_msg_size=MAX_MESSAGE_BYTES,
        num_replicas=topology.replicas,
    )


def credentials(settings: ServiceSettings) -> tuple[str, str] | None:
    if not settings.nats_user:
        return None
    password = settings.nats_password.get_secret_value() if settings.nats_password else ""
    return settings.nats_user, password


def connect_options(settings: ServiceSettings) -> dict[str, Any]:
    """Keyword arguments for a plain nats-py connection (the CLI's): every server of the cluster, credentials."""
    found = credentials(settings)
    return {"servers": settings.nats_servers, **({"user": found[0], "password": found[1]} if found else {})}


def broker_for(settings: ServiceSettings) -> NatsBroker:
    return NatsBroker(
        settings.nats_servers,
        graceful_timeout=settings.graceful_timeout_s,
        drain_timeout=settings.drain_timeout_s,  # nats-py's own is 30 s: a stop while reconnecting waited that long
        max_reconnect_attempts=-1,  # ride out a NATS restart instead of exiting
        # No validation by FastStream: it would reject a whole pulled batch for one bad
        # message. The stage runtime validates each message itself and dead-letters it.
        apply_types=False,
        security=NatsUserPassword(*found) if (found := credentials(settings)) else None,
    )


async def ensure_stream(js: JetStreamContext, topology: Topology) -> None:
    """Create the pipeline stream if no service has yet (the CLI may publish first). A raised replica
    count (one server grown into a cluster) is applied to the existing stream; a lower one is not, so a
    client started without the cluster's settings never takes copies away."""
    try:
        info = await js.stream_info(topology.stream)
    except NotFoundError:
        config = pipeline_stream(topology).config
        config.subjects = topology.stream_subjects
        await js.add_stream(config)
        return
    if (info.config.num_replicas or 1) < topology.replicas:
        await js.update_stream(replace(info.config, num_replicas=topology.replicas))
