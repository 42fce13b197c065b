"""The readability service: ``create_app(settings)`` builds it.

Run it with ``python -m services._template``.

It joins the pipeline by one line in ``PIPELINE`` (shared/topology.py), between enrich and entity_link:

    StageSpec("readability", ArticleEnriched, ArticleEnriched),

which is ``STAGE_SPEC`` below. Until that line is there, the default topology has no such stage and
``create_app()`` stops with the list of the stages it does have.
"""

from __future__ import annotations

from faststream import FastStream

from services._template.enrichment import readability
from services._template.settings import ReadabilitySettings
from shared.messages import ArticleEnriched, ArticleFields
from shared.stage import PerItemWorker, create_stage_app
from shared.topology import StageSpec, Topology

STAGE = "readability"
STAGE_SPEC = StageSpec(STAGE, ArticleEnriched, ArticleEnriched)


class ReadabilityWorker(PerItemWorker):
    def __init__(self, settings: ReadabilitySettings) -> None:
        self.languages = frozenset(settings.languages)
        self.sample_chars = settings.sample_chars
        self.field_sources = {f"enrichments.{STAGE}": None}

    def process(self, item: ArticleEnriched) -> list[ArticleFields]:
        """The article with, if it can be scored, ``enrichments[STAGE]`` (the runtime stamps provenance).

        Raise ``shared.errors.PermanentError`` for input that can never succeed (it is dead-lettered at
        once); any other exception is retried with back-off.
        """
        article = item.model_copy(deep=True)  # the caller's message stays as it came
        scores = readability(article.body[: self.sample_chars]) if article.language in self.languages else None
        if scores is not None:
            # One key, named after the stage, so two services never write the same key.
            article.enrichments[STAGE] = scores.as_json()
        return [article]


def create_worker(settings: ReadabilitySettings | None = None) -> ReadabilityWorker:
    settings = settings or ReadabilitySettings()
    return ReadabilityWorker(settings)


def create_app(settings: ReadabilitySettings | None = None, topology: Topology | None = None) -> FastStream:
    settings = settings or ReadabilitySettings()
    return create_stage_app(settings, STAGE, create_worker(settings), topology)
