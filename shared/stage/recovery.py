"""Running the worker on a batch, and again on the messages it could not do because a server it
needs was down (``DependencyUnavailable``), until that server is back or the stage stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from structlog.typing import FilteringBoundLogger

from shared.errors import DependencyUnavailable
from shared.stage.worker import Outcome, StageWorker

# The longest wait between retries of a batch whose server is down.
MAX_DEPENDENCY_WAIT_S = 15.0


async def run_worker(worker: StageWorker, items: Sequence[Any], stage: str, log: FilteringBoundLogger) -> list[Outcome]:
    """The worker's outcomes; a worker that breaks its contract fails each message, to be retried."""
    try:
        results = await worker.process_batch(items)
    except Exception as error:
        log.exception("worker_failed", stage=stage, error=repr(error))
        return [error] * len(items)
    if len(results) != len(items):
        broken = RuntimeError(f"{stage} worker gave {len(results)} outcomes for {len(items)} messages")
        return [broken] * len(items)
    return results


async def run_until_dependencies_recover(
    worker: StageWorker, items: Sequence[Any], stopping: asyncio.Event, stage: str, log: FilteringBoundLogger
) -> list[Outcome]:
    """Outcomes for every item; on shutdown, what still waits for a server is returned as waiting
    (the runtime nacks it and it comes back)."""
    outcomes: list[Outcome] = [DependencyUnavailable("not processed yet")] * len(items)
    delay_s = 1.0
    while True:
        waiting = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, DependencyUnavailable)]
        results = await run_worker(worker, [items[i] for i in waiting], stage, log)
        for i, result in zip(waiting, results, strict=True):
            outcomes[i] = result
        still = sum(1 for outcome in outcomes if isinstance(outcome, DependencyUnavailable))
        if not still or stopping.is_set():
            return outcomes
        log.warning("dependency_unavailable", stage=stage, waiting=still, retry_in_s=delay_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay_s)
        delay_s = min(delay_s * 2, MAX_DEPENDENCY_WAIT_S)
