"""Messages in hand are kept alive while they are worked on, however long that takes, so that
JetStream does not hand them to a second replica after ``ack_wait``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from shared.stage.delivery import Delivery


@contextlib.asynccontextmanager
async def kept_alive(deliveries: Sequence[Delivery], interval_s: float) -> AsyncIterator[None]:
    """Reset the ack timer of ``deliveries`` every ``interval_s`` until the block ends."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(interval_s)
            await asyncio.gather(*(delivery.in_progress() for delivery in deliveries), return_exceptions=True)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
