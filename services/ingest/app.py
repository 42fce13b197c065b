"""The ingest service: ``create_app(settings)`` builds it, ``python -m services.ingest`` runs it."""

from __future__ import annotations

from faststream import FastStream

from services.ingest.articles import articles_from
from services.ingest.settings import IngestSettings
from shared.messages import ArticleFields, DocumentSubmitted
from shared.stage import PerItemWorker, create_stage_app, stamp

STAGE = "ingest"


class IngestWorker(PerItemWorker):
    def process(self, item: DocumentSubmitted) -> list[ArticleFields]:
        articles: list[ArticleFields] = list(articles_from(item))
        for article in articles:
            stamp(article, STAGE)
        return articles


def create_worker(settings: IngestSettings) -> IngestWorker:
    return IngestWorker()


def create_app(settings: IngestSettings | None = None) -> FastStream:
    settings = settings or IngestSettings()
    return create_stage_app(settings, STAGE, create_worker(settings))
