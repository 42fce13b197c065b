"""The pipeline's stage code run in one process, with no servers: what
``newsflow process`` prints and the in-process baseline the benchmarks use."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Literal

from services.enrich.app import create_worker as enrich_worker
from services.enrich.settings import EnrichSettings
from services.entity_link.app import create_worker as link_worker
from services.entity_link.settings import EntityLinkSettings
from services.ingest.app import create_worker as ingest_worker
from services.ingest.files import FileProblem
from services.ingest.settings import IngestSettings
from shared.errors import PermanentError
from shared.messages import ArticleFields, DocumentSubmitted
from shared.stage import PerItemWorker

StageName = Literal["ingest", "enrich", "link", "all"]
_DEPTH: dict[str, int] = {"ingest": 1, "enrich": 2, "link": 3, "all": 3}


class InProcessPipeline:
    def __init__(self, up_to: StageName = "all") -> None:
        depth = _DEPTH[up_to]
        self.ingest = ingest_worker(IngestSettings())
        self.later: list[PerItemWorker] = [
            worker for worker in (enrich_worker(EnrichSettings()), link_worker(EntityLinkSettings()))[: depth - 1]
        ]

    def articles(self, submission: DocumentSubmitted) -> list[ArticleFields]:
        articles = self.ingest.process(submission)
        for worker in self.later:
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
