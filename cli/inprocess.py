"""The pipeline's stage code run in one process, with no servers: what
``newsflow process`` prints and the in-process baseline the benchmarks use.

The stages are the topology's (``shared/topology.py``), up to the index (which
writes to OpenSearch, so neither it nor the stages after it run here): a
service inserted by one line of topology is run too, found by the convention
that ``services/<stage>/app.py`` has ``create_worker(settings=None)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cli.files import FileProblem
from shared.errors import PermanentError
from shared.messages import ArticleFields, ArticleIndexed, DocumentSubmitted
from shared.stage import PerItemWorker
from shared.topology import Topology

# Names the command line has always accepted for a stage.
STAGE_ALIASES = {"link": "entity_link"}


def default_worker(stage: str) -> PerItemWorker:
    worker: PerItemWorker = importlib.import_module(f"services.{stage}.app").create_worker()
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


class InProcessPipeline:
    def __init__(
        self,
        up_to: str = "all",
        topology: Topology | None = None,
        worker_for: Callable[[str], PerItemWorker] = default_worker,
    ) -> None:
        stages = runnable_stages(topology or Topology())
        last = stages[-1] if up_to == "all" else STAGE_ALIASES.get(up_to, up_to)
        if last not in stages:
            raise ValueError(f"no stage {up_to!r} to run; choose from {', '.join([*stages, *STAGE_ALIASES, 'all'])}")
        self.workers = [worker_for(stage) for stage in stages[: stages.index(last) + 1]]

    def articles(self, submission: DocumentSubmitted) -> list[ArticleFields]:
        first, *later = self.workers
        articles = first.process(submission)
        for worker in later:
            articles = [out for article in articles for out in worker.process(article)]
        return articles

    def run(self, inputs: Iterable[DocumentSubmitted | FileProblem]) -> Iterator[dict[str, Any]]:
        """One JSON-ready dict per article, in input order; a dict with ``error`` for what failed."""
        for item in inputs:
            if isinstance(item, FileProblem):
                yield {"error": item.error, "path": item.path, **({"line": item.line} if item.line else {})}
                continue
            try:
                articles = self.articles(item)
            except Exception as error:  # one bad input never stops the run
                reason = error.reason if isinstance(error, PermanentError) else type(error).__name__
                yield {"error": str(error), "reason": reason, "path": item.filename}
                continue
            yield from (article.model_dump(mode="json") for article in articles)
