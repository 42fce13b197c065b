"""The entity_link service: ``create_app(settings)`` builds it, ``python -m services.entity_link`` runs it."""

from __future__ import annotations

from faststream import FastStream

from services.entity_link.linker import Linker
from services.entity_link.settings import EntityLinkSettings
from shared.messages import ArticleEnriched, ArticleFields, ArticleLinked, promote
from shared.stage import PerItemWorker, create_stage_app
from shared.versions import content_version

STAGE = "entity_link"


class EntityLinkWorker(PerItemWorker):
    def __init__(self, linker: Linker, knowledge_version: str) -> None:
        self.linker = linker
        self.field_sources = {"entities": knowledge_version, f"enrichments.{STAGE}": knowledge_version}

    def process(self, item: ArticleEnriched) -> list[ArticleFields]:
        links = self.linker.link_article(item)
        linked = promote(item, ArticleLinked, entities=links.entities)
        if links.status is not None:
            linked.enrichments[STAGE] = dict(links.status)  # e.g. another language: known names only
        return [linked]


def create_worker(settings: EntityLinkSettings | None = None) -> EntityLinkWorker:
    settings = settings or EntityLinkSettings()
    linker = Linker.from_files(
        settings.kb_path, settings.ner_model_path, settings.overlay_path, settings.confidence_path
    )
    # The KB, the recogniser, the confidence model and the operator's overlay decide every link.
    paths = (settings.kb_path, settings.ner_model_path, settings.confidence_path, settings.overlay_path)
    knowledge = [path for path in paths if path]
    return EntityLinkWorker(linker, content_version(*knowledge))


def create_app(settings: EntityLinkSettings | None = None) -> FastStream:
    settings = settings or EntityLinkSettings()
    return create_stage_app(settings, STAGE, create_worker(settings))
