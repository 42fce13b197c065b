"""One pulled message and what we know of its delivery."""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.errors import NotJSMessageError


@dataclass
class Delivery:
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
