"""Each stage's NATS user may do only what the stage does: publish to its outbox and dead-letter
subject, and call the few JetStream API subjects of its own stream and durable consumer (not
``$JS.API.>``, which would let it delete the stream). Generated from the topology, so a new stage
gets its user from ``newsflow new-service`` and deploy/nats/users.conf is rewritten by
``newsflow nats-users --write`` (a unit test fails when the file drifts from the topology).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.topology import SIDE_CONSUMERS, Topology

USERS_FILE = Path(__file__).resolve().parents[1] / "deploy" / "nats" / "users.conf"


@dataclass(frozen=True)
class Permissions:
    user: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]

    @property
    def password_variable(self) -> str:
        """The environment variable nats-server reads the user's password from."""
        return f"NATS_{self.user.upper()}_PASSWORD"

    def conf_entry(self) -> str:
        def quoted(subjects: tuple[str, ...]) -> str:
            return ", ".join(f'"{subject}"' for subject in subjects)

        return (
            f"    {{ user: {self.user}, password: ${self.password_variable},\n"
            f"      permissions: {{ publish: [{quoted(self.publish)}],\n"
            f"                     subscribe: [{quoted(self.subscribe)}] }} }}"
        )


def _bucket_api(bucket: str) -> tuple[str, ...]:
    """Bind to (or create) a key-value bucket and read, write and compare-and-set its keys."""
    stream = f"KV_{bucket}"
    return (
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.STREAM.CREATE.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.STREAM.MSG.GET.{stream}",
        f"$KV.{bucket}.>",
    )


def stage_permissions(topology: Topology, stage: str) -> Permissions:
    stream, durable = topology.stream, topology.durable(stage)
    jetstream_api = (
        # ensure_stream: look the stream up, create it if no one has yet
        f"$JS.API.STREAM.INFO.{stream}",
        f"$JS.API.STREAM.CREATE.{stream}",
        # pull_subscribe: bind to the stage's durable consumer or create it, then pull and acknowledge
        f"$JS.API.CONSUMER.INFO.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.CREATE.{stream}.{durable}.>",
        f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    )
    outbox = topology.outbox(stage) if stage in topology.stage_names else None  # a side consumer has none
    subjects = (
        *([outbox] if outbox else []),
        topology.dead_letter_subject(stage),
        *_beyond_the_pipeline(topology, stage),
    )
    return Permissions(user=stage, publish=(*subjects, *jetstream_api), subscribe=("_INBOX.>",))


def _beyond_the_pipeline(topology: Topology, stage: str) -> tuple[str, ...]:
    """What a stage writes besides its outbox and dead letters."""
    if stage == "ingest":
        # The feed poller submits what it finds to the pipeline's entry, like any submitter, and keeps its
        # dedupe, poll state and leases in the topology's key-value bucket.
        return (topology.entry_subject, *_bucket_api(topology.kv_bucket))
    if stage == "alerts":
        # Matches go to their own subject (webhooks and users read it); what fired is kept in a bucket.
        return (topology.alert_matched_subject, *_bucket_api(topology.alerts_fired_bucket))
    if stage == "stories":
        # Replicas take turns at grouping through a key in a bucket (services/stories/turn.py).
        return _bucket_api(topology.stories_turn_bucket)
    return ()


def operator_permissions() -> Permissions:
    """The operator (the CLI: ingest, status, dead-letter replay and purge) may do anything."""
    return Permissions(user="operator", publish=(">",), subscribe=(">",))


def users_conf(topology: Topology) -> str:
    """The ``authorization`` block every compose nats-server includes."""
    consumers = [*topology.stage_names, *SIDE_CONSUMERS]
    entries = [stage_permissions(topology, stage) for stage in consumers] + [operator_permissions()]
    return (
        "# Generated from shared/topology.py by `newsflow nats-users --write`; do not edit by hand.\n"
        "# Passwords come from the environment (compose: .env).\n"
        "authorization {\n  users = [\n" + "\n".join(entry.conf_entry() for entry in entries) + "\n  ]\n}\n"
    )
