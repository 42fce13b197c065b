"""Linked articles written for the index and search tests (no dataset text), with signatures
whose similarity the test chooses, and a started index worker."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

import numpy as np

from services.index.app import STAGE, IndexWorker, create_worker
from services.index.settings import IndexSettings
from shared.messages import (
    ArticleIndexed,
    ArticleLinked,
    Entity,
    OriginalSource,
    Sentiment,
    Signature,
    Source,
    TopicScore,
)
from shared.settings import OpenSearchSettings
from shared.signature import NUM_PERM, pack_minhash
from shared.stage import Outcome
from tests.support import started


def signature(story: int, differing: int = 0, variant: int = 0) -> Signature:
    """A signature of story ``story``: two variants of one story share ``NUM_PERM - max(differing)`` of their
    MinHash values (estimated Jaccard ≈ that share); signatures of different stories share none."""
    values = [story * 1_000 + position for position in range(NUM_PERM)]
    for position in range(differing):
        values[position] = 10_000_000 + story * 100_000 + variant * 1_000 + position
    minhash = np.asarray(values, dtype=np.uint32)
    return Signature(minhash=pack_minhash(minhash))


def entity(entity_id: str, name: str, handle: str | None = None, kind: str = "ORG") -> Entity:
    return Entity.model_validate(
        {"id": entity_id, "name": name, "type": kind, "handle": handle or name.lower().replace(" ", "")}
    )


def linked(
    article_id: str,
    *,
    title: str = "An article",
    body: str = "A body written for the index tests.",
    source: str = "Test Outlet",
    published_at: datetime | None = None,
    ingested_at: datetime | None = None,
    topics: tuple[str, ...] = (),
    entities: tuple[Entity, ...] = (),
    story_signature: Signature | None = None,
    original_source: str | None = None,
    sentiment: str = "neutral",
    language: str = "en",
) -> ArticleLinked:
    extra = {"ingested_at": ingested_at} if ingested_at else {}
    return ArticleLinked(
        article_id=article_id,
        title=title,
        body=body,
        source=Source(name=source),
        published_at=published_at,
        original_source=OriginalSource(name=original_source) if original_source else None,
        language=language,
        sentiment=Sentiment(label=sentiment, score={"positive": 0.6, "neutral": 0.0, "negative": -0.6}[sentiment]),
        topics=[TopicScore(key=key, score=1.0 - rank / 10) for rank, key in enumerate(topics)],
        entities=list(entities),
        signature=story_signature,
        **extra,
    )


def index_worker(opensearch: OpenSearchSettings, **settings: Any) -> AbstractAsyncContextManager[IndexWorker]:
    """The index stage's worker, started against a real OpenSearch (no NATS involved)."""
    stage_settings = IndexSettings(opensearch=opensearch, **settings)
    return started(STAGE, create_worker(stage_settings), stage_settings)


def handed_on(outcomes: list[Outcome]) -> list[list[str]]:
    """The ids of the ``ArticleIndexed`` each outcome hands to the next stage (an indexed article has its story)."""
    handed: list[list[str]] = []
    for outcome in outcomes:
        assert not isinstance(outcome, Exception), outcome
        assert all(isinstance(article, ArticleIndexed) and article.cluster_id for article in outcome)
        handed.append([article.article_id for article in outcome])
    return handed


def ids(articles: Sequence[ArticleLinked]) -> list[list[str]]:
    """What ``handed_on`` gives when every article of the batch was indexed."""
    return [[article.article_id] for article in articles]
