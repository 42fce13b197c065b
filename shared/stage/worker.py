"""What a stage's own work looks like to the runtime: a worker, the context it is given, its outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from nats.js import JetStreamContext
from pydantic import JsonValue

from shared.messages import ArticleFields
from shared.settings import ServiceSettings
from shared.topology import Topology


@dataclass(frozen=True)
class Dropped:
    """An input a stage read and deliberately passes nothing on for (a duplicate, an entry it cannot
    read without a fetch), with the reason: logged by the service, printed by ``newsflow process``."""

    reason: str
    details: dict[str, JsonValue] = field(default_factory=dict)


# What one message became: the articles to publish downstream and what was dropped (possibly
# neither), or the exception that stopped it.
Outcome = list[ArticleFields | Dropped] | Exception


@dataclass(frozen=True)
class StageContext:
    """What the runtime hands a worker at start: its settings and topology, the JetStream connection
    the stage already holds, and whether it runs ``offline`` (``newsflow process``: no servers,
    nothing fetched, nothing kept beyond this process)."""

    stage: str
    settings: ServiceSettings
    topology: Topology
    jetstream: JetStreamContext | None = None
    offline: bool = False


class StageWorker(Protocol):
    """The stage's own work, free of any broker code."""

    @property
    def field_sources(self) -> Mapping[str, str | None]:
        """Which article fields this stage writes, and the version of the model or data behind each
        (None: the code alone). The runtime records them in ``provenance.fields``."""
        ...

    async def start(self, context: StageContext) -> None: ...

    async def stop(self) -> None: ...

    async def process_batch(self, items: Sequence[Any]) -> list[Outcome]: ...


class PerItemWorker:
    """A worker whose work is a pure function of one message (most stages)."""

    field_sources: Mapping[str, str | None] = MappingProxyType({})

    async def start(self, context: StageContext) -> None:
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
                outcomes.append(list(self.process(item)))
            except Exception as error:  # settled per message by the runtime
                outcomes.append(error)
        return outcomes
