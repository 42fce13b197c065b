"""Dead letters: a message a stage gives up on is published, with its original bytes, the reason and
the attempts, to the stage's dead-letter subject, and only then TERMed so it is never redelivered."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.messages import MAX_MESSAGE_BYTES, DeadLettered, FailureKind
from shared.metrics import DEAD_LETTERS, ERRORS
from shared.stage.delivery import Delivery
from shared.topology import Topology

# A dead letter must fit in the stream like any message (headers need a little room too).
MAX_LETTER_BYTES = MAX_MESSAGE_BYTES - 64 * 1024


# Publish ``(subject, payload, headers)`` to the stream and wait for JetStream's ack: the runtime's
# FastStream broker, or a plain nats-py JetStream context (a side consumer such as webhooks).
Publish = Callable[[str, bytes, dict[str, str]], Awaitable[object]]


@dataclass
class DeadLetters:
    stage: str
    publish: Publish
    topology: Topology

    async def send(self, delivery: Delivery, reason: str, detail: str, kind: FailureKind) -> None:
        raw = delivery.raw
        letter = DeadLettered(
            stage=self.stage,
            subject=raw.subject,
            reason=reason,
            error=detail,
            kind=kind,
            attempts=delivery.attempt,
            article_id=article_id_of(raw.data),
            original="",
            original_headers={k: v for k, v in (raw.headers or {}).items()},
        )
        key = delivery.stream_sequence or hashlib.blake2b(raw.data, digest_size=8).hexdigest()
        headers = {"Nats-Msg-Id": f"dlq:{self.stage}:{key}"}
        await self.publish(self.topology.dead_letter_subject(self.stage), with_original(letter, raw.data), headers)
        await delivery.term()
        DEAD_LETTERS.labels(self.stage, reason).inc()
        ERRORS.labels(self.stage, kind).inc()


def with_original(letter: DeadLettered, data: bytes) -> bytes:
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


def article_id_of(data: bytes) -> str | None:
    """The article id of a message that failed validation, if one can be read from it at all."""
    try:
        value = json.loads(data)
        found = value.get("article_id") if isinstance(value, dict) else None
        # A lone surrogate decodes but cannot be written back out as JSON.
        return found if isinstance(found, str) and found.encode("utf-8") else None
    except (ValueError, RecursionError, UnicodeError):
        return None


def shortened(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
