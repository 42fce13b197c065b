"""Searchable sooner while the stage keeps up.

The articles index refreshes every second (deploy/opensearch/index-template.json): cheap under a
backlog, but at a low arrival rate it is most of an article's wait to be searchable. A small batch
means the stage is keeping up and OpenSearch has room, so after one the worker asks for a refresh
at once, at most one every ``min_gap_s``; a large batch (a backlog) waits for the interval, which
costs the node less per article. The refresh runs beside the pipeline: the articles are durable
once ``_bulk`` answered, so nothing waits for it, and a failed one only leaves them to the interval."""

from __future__ import annotations

import asyncio
import contextlib
import time

from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException

from shared.logging import get_logger

log = get_logger("newsflow.index")


class PromptRefresh:
    def __init__(self, client: AsyncOpenSearch, alias: str, min_gap_s: float) -> None:
        self.client = client
        self.alias = alias
        self.min_gap_s = min_gap_s
        self.wanted = False
        self.task: asyncio.Task[None] | None = None

    def request(self) -> None:
        """Refresh soon: now if none ran in the last ``min_gap_s``, else once that much time has passed."""
        self.wanted = True
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._refresh_while_wanted())

    async def _refresh_while_wanted(self) -> None:
        while self.wanted:
            self.wanted = False
            started = time.monotonic()
            try:
                await self.client.indices.refresh(index=self.alias)
            except OpenSearchException as error:
                log.info("prompt_refresh_failed", alias=self.alias, error=repr(error))
                return
            await asyncio.sleep(max(0.0, self.min_gap_s - (time.monotonic() - started)))

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
