"""The pipeline's stages run in one process, with no servers: what ``newsflow process``
prints and the in-process baseline the benchmarks use.

Each stage's worker is the service's own, driven through the same ``process_batch`` the
service runs, and stamped the same way; it is started offline, so nothing is fetched and
dedupe and stories live in this process's memory. The stages are the topology's
(``shared/topology.py``), up to the index (which writes to OpenSearch, so neither it nor the
stages after it run here): a service inserted by one line of topology is run too,
found by the convention that ``services/<stage>/app.py`` has ``create_worker(settings=None)``.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from cli.files import FileProblem
from shared.errors import PermanentError
from shared.messages import ArticleFields, ArticleIndexed, DocumentSubmitted
from shared.settings import ServiceSettings
from shared.stage import Dropped, StageContext, StageWorker
from shared.stage.provenance import stamp
from shared.topology import Topology

# Names the command line has always accepted for a stage.
STAGE_ALIASES = {"link": "entity_link"}
# Documents handed to each stage at once, as a service pulls them.
BATCH_SIZE = 64


def default_worker(stage: str) -> StageWorker:
    worker: StageWorker = importlib.import_module(f"services.{stage}.app").create_worker()
    return worker


def runnable_stages(topology: Topology) -> list[str]:
    """The stages ``process`` can run: every one before the index, which writes to OpenSearch (the stages
    after it read what OpenSearch holds)."""
    stages = []
    for spec in topology.pipeline:
        if spec.produces is None or spec.produces is ArticleIndexed:
            break
        stages.append(spec.name)
    return stages


@dataclass
class _Result:
    """What one input became so far: its articles, what was dropped, or why it failed."""

    articles: list[ArticleFields]
    dropped: list[Dropped]
    error: Exception | None = None


class InProcessPipeline:
    def __init__(
        self,
        up_to: str = "all",
        topology: Topology | None = None,
        worker_for: Callable[[str], StageWorker] = default_worker,
    ) -> None:
        self.topology = topology or Topology()
        stages = runnable_stages(self.topology)
        last = stages[-1] if up_to == "all" else STAGE_ALIASES.get(up_to, up_to)
        if last not in stages:
            raise ValueError(f"no stage {up_to!r} to run; choose from {', '.join([*stages, *STAGE_ALIASES, 'all'])}")
        self.stages = stages[: stages.index(last) + 1]
        self.workers = [worker_for(stage) for stage in self.stages]

    async def __aenter__(self) -> InProcessPipeline:
        for stage, worker in zip(self.stages, self.workers, strict=True):
            await worker.start(StageContext(stage, ServiceSettings(), self.topology, offline=True))
        return self

    async def __aexit__(self, *_: object) -> None:
        for worker in self.workers:
            await worker.stop()

    async def articles(self, submissions: Sequence[DocumentSubmitted]) -> list[ArticleFields]:
        """Every article the submissions become (what failed or was dropped is left out)."""
        return [article for result in await self._results(submissions) for article in result.articles]

    async def run(self, inputs: Iterable[DocumentSubmitted | FileProblem]) -> AsyncIterator[dict[str, Any]]:
        """One JSON-ready dict per article, in input order; a dict with ``error`` for what failed and with
        ``dropped`` (e.g. ``duplicate_of``) for what a stage deliberately passed over."""
        pending = iter(inputs)
        while chunk := list(islice(pending, BATCH_SIZE)):
            submissions = [item for item in chunk if isinstance(item, DocumentSubmitted)]
            results = iter(await self._results(submissions))
            for item in chunk:
                if isinstance(item, FileProblem):
                    yield {"error": item.error, "path": item.path, **({"line": item.line} if item.line else {})}
                else:
                    for line in _lines(item, next(results)):
                        yield line

    async def _results(self, submissions: Sequence[DocumentSubmitted]) -> list[_Result]:
        results = [_Result([], []) for _ in submissions]
        # Each stage's inputs, with the result each belongs to; the first stage's are the submissions.
        batch: list[tuple[_Result, Any]] = list(zip(results, submissions, strict=True))
        for stage, worker in zip(self.stages, self.workers, strict=True):
            outcomes = await worker.process_batch([item for _, item in batch]) if batch else []
            following: list[tuple[_Result, Any]] = []
            for (result, _), outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    result.error = outcome
                    continue
                result.dropped += [found for found in outcome if isinstance(found, Dropped)]
                for article in (found for found in outcome if isinstance(found, ArticleFields)):
                    stamp(article, stage, worker.field_sources)
                    following.append((result, article))
            batch = following
        for result, article in batch:
            result.articles.append(article)
        return results


def _lines(submission: DocumentSubmitted, result: _Result) -> Iterator[dict[str, Any]]:
    yield from (article.model_dump(mode="json") for article in result.articles)
    for dropped in result.dropped:
        yield {"dropped": dropped.reason, "path": submission.filename, **dropped.details}
    if result.error is not None:
        error = result.error
        reason = error.reason if isinstance(error, PermanentError) else type(error).__name__
        yield {"error": str(error), "reason": reason, "path": submission.filename}


def articles_of(submissions: Sequence[DocumentSubmitted], up_to: str = "all") -> list[ArticleFields]:
    """For scripts (benchmarks, evaluations): every article the submissions become up to a stage."""

    async def run() -> list[ArticleFields]:
        async with InProcessPipeline(up_to) as pipeline:
            return await pipeline.articles(submissions)

    return asyncio.run(run())
