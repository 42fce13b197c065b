"""The enrich service: ``create_app(settings)`` builds it, ``python -m services.enrich`` runs it."""

from __future__ import annotations

from typing import Any

from faststream import FastStream

from services.enrich.enrichers import UNSUPPORTED, Enricher, Resources, build_enrichers
from services.enrich.settings import EnrichSettings
from services.enrich.text import Text
from shared.messages import ArticleEnriched, ArticleFields, ArticleIngested, promote
from shared.stage import PerItemWorker, create_stage_app, stamp

STAGE = "enrich"


class EnrichWorker(PerItemWorker):
    def __init__(self, enrichers: list[Enricher]) -> None:
        self.enrichers = enrichers

    def enrich(self, article: ArticleIngested) -> ArticleEnriched:
        text = Text.of(article)
        fields: dict[str, Any] = {UNSUPPORTED: []}
        for enricher in self.enrichers:
            produced = enricher.enrich(text)
            fields[UNSUPPORTED].extend(produced.pop(UNSUPPORTED, ()))
            fields.update(produced)
        return promote(article, ArticleEnriched, **fields)

    def process(self, item: ArticleIngested) -> list[ArticleFields]:
        enriched = self.enrich(item)
        stamp(enriched, STAGE)
        return [enriched]


def create_worker(settings: EnrichSettings | None = None) -> EnrichWorker:
    settings = settings or EnrichSettings()
    resources = Resources(
        taxonomy_path=settings.taxonomy_path,
        topic_model_path=settings.topic_model_path,
        background_path=settings.background_path,
    )
    return EnrichWorker(build_enrichers(resources))


def create_app(settings: EnrichSettings | None = None) -> FastStream:
    settings = settings or EnrichSettings()
    return create_stage_app(settings, STAGE, create_worker(settings))
