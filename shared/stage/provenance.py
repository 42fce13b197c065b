"""The runtime's provenance: a stamp per stage (who, which code version, when; the stamps give
per-hop latency) and, per field, which stage and which version of its model or data wrote it."""

from __future__ import annotations

from collections.abc import Mapping

from shared import __version__
from shared.messages import ArticleFields, FieldSource, Stamp


def stamp(article: ArticleFields, stage: str, field_sources: Mapping[str, str | None]) -> None:
    article.provenance.stamps.append(Stamp(service=stage, version=__version__))
    for name, model in field_sources.items():
        article.provenance.fields[name] = FieldSource(stage=stage, model=model)
