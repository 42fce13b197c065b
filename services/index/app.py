"""The index service: pulls linked articles in batches, gives each its story cluster
(services/index/clusters.py) and writes the batch with one ``_bulk``, settling every
message from its own item result. Each article OpenSearch accepted goes on as
``ArticleIndexed`` (with its cluster) to the stage after it (alerts)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Sequence
from typing import Any

from faststream import FastStream
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException
from pydantic_core import to_json

from services.index.clusters import (
    Member,
    RecentMembers,
    assign_clusters,
    candidates_by_article,
    candidates_query,
    clusters_from_hits,
    existing_clusters_query,
    members_from_hits,
)
from services.index.documents import document_version, to_document
from services.index.refresh import PromptRefresh
from services.index.settings import IndexSettings
from shared.errors import DependencyUnavailable, PermanentError, TransientError
from shared.logging import get_logger
from shared.messages import ArticleIndexed, ArticleLinked, promote
from shared.search.client import async_client
from shared.search.failures import (
    UNAVAILABLE_STATUSES,
    IndexMissing,
    checked_searches,
    is_index_missing,
    request_failure,
    server_failure,
)
from shared.search.indices import ensure_index
from shared.stage import Outcome, StageContext, create_stage_app

STAGE = "index"
log = get_logger("newsflow.index")


class IndexWorker:
    def __init__(self, settings: IndexSettings) -> None:
        self.settings = settings
        self.alias = settings.opensearch.alias
        self.client: AsyncOpenSearch | None = None
        self.refresh: PromptRefresh | None = None
        self.index_ready = False
        self.recent = RecentMembers(settings.recent_window_s, settings.recent_capacity)
        self.field_sources = {"cluster_id": None}

    async def start(self, context: StageContext) -> None:
        self.client = async_client(self.settings.opensearch)
        self.refresh = PromptRefresh(self.client, self.alias, self.settings.prompt_refresh_gap_s)
        await self._ensure_index()

    async def _ensure_index(self) -> bool:
        """Apply the template once; while OpenSearch is down, try again at the next batch instead of dying."""
        if not self.index_ready:
            assert self.client is not None
            try:
                shape = self.settings.opensearch
                await ensure_index(self.client, self.alias, shape.shards, shape.replicas)
                self.index_ready = True
            except OpenSearchException as error:
                log.warning("opensearch_unavailable", alias=self.alias, error=repr(error))
        return self.index_ready

    async def stop(self) -> None:
        if self.refresh is not None:
            await self.refresh.close()
        if self.client is not None:
            await self.client.close()

    async def process_batch(self, items: Sequence[ArticleLinked]) -> list[Outcome]:
        if not await self._ensure_index():
            return [DependencyUnavailable("OpenSearch is not reachable") for _ in items]
        outcomes = await self._index(items)
        written = any(not isinstance(outcome, Exception) for outcome in outcomes)
        if written and self.refresh is not None and len(items) < self.settings.prompt_refresh_below:
            self.refresh.request()
        if any(isinstance(outcome, IndexMissing) for outcome in outcomes):
            # Deleted, or OpenSearch restarted without its data: the retry applies the template and creates it again.
            log.warning("opensearch_index_missing", alias=self.alias)
            self.index_ready = False
        # What was not written must not attract the next near-duplicates into its cluster.
        self.recent.discard(
            article.article_id
            for article, outcome in zip(items, outcomes, strict=True)
            if isinstance(outcome, Exception)
        )
        return outcomes

    async def _index(self, items: Sequence[ArticleLinked]) -> list[Outcome]:
        try:
            existing, candidates = await self._indexed_neighbours(items)
            cluster_ids = assign_clusters(items, candidates, existing, self.recent, self.settings.cluster_similarity)
            outcomes = await self._bulk(items, cluster_ids)
        except (OpenSearchException, TransientError) as error:
            failure = request_failure(error)
            return [failure for _ in items]
        return [
            outcome if isinstance(outcome, Exception) else [promote(article, ArticleIndexed, cluster_id=cluster_id)]
            for article, cluster_id, outcome in zip(items, cluster_ids, outcomes, strict=True)
        ]

    async def _indexed_neighbours(
        self, items: Sequence[ArticleLinked]
    ) -> tuple[dict[str, str], dict[str, list[Member]]]:
        """One ``_msearch``: the clusters of the batch's already-indexed articles, and the indexed
        documents sharing a band with its signed articles."""
        assert self.client is not None
        signed = [article for article in items if article.signature and article.signature.minhash]
        searches = [existing_clusters_query([article.article_id for article in items])]
        if signed:
            searches.append(candidates_query(signed))
        header = {"index": self.alias}
        body = _ndjson(line for search in searches for line in (header, search))
        responses = checked_searches(await self.client.msearch(body=body), len(searches))
        try:
            existing = clusters_from_hits(responses[0])
            candidates = candidates_by_article(signed, members_from_hits(responses[1])) if signed else {}
        except (KeyError, TypeError, ValueError, IndexError) as error:
            raise TransientError(f"unexpected _msearch hits from OpenSearch: {error!r}") from error
        return existing, candidates

    async def _bulk(self, items: Sequence[ArticleLinked], cluster_ids: Sequence[str]) -> list[Outcome]:
        """The batch in up to ``bulk_requests`` concurrent ``_bulk`` requests of at least ``bulk_min_documents``
        each, one outcome per article.

        Each request builds its own body, so the next body is built while OpenSearch indexes the first."""
        size = max(math.ceil(len(items) / self.settings.bulk_requests), self.settings.bulk_min_documents)
        parts = [(items[at : at + size], cluster_ids[at : at + size]) for at in range(0, len(items), size)]
        results = await asyncio.gather(*(self._bulk_part(articles, ids) for articles, ids in parts))
        return [outcome for result in results for outcome in result]

    async def _bulk_part(self, articles: Sequence[ArticleLinked], cluster_ids: Sequence[str]) -> list[Outcome]:
        assert self.client is not None
        body = bulk_body(self.alias, articles, cluster_ids)
        try:
            # require_alias: with the alias gone, OpenSearch must refuse, not auto-create a bare index of that name.
            answer = await self.client.bulk(body=body, require_alias=True)
        except OpenSearchException as error:
            return [request_failure(error)] * len(articles)
        return bulk_outcomes(answer, len(articles))


def bulk_body(alias: str, articles: Sequence[ArticleLinked], cluster_ids: Sequence[str]) -> bytes:
    lines: list[dict[str, Any]] = []
    for article, cluster_id in zip(articles, cluster_ids, strict=True):
        action = {"_index": alias, "_id": article.article_id, "version": document_version(article)}
        lines += [{"index": {**action, "version_type": "external"}}, to_document(article, cluster_id)]
    return _ndjson(lines)


def _ndjson(lines: Iterable[dict[str, Any]]) -> bytes:
    """A _bulk or _msearch body. pydantic's serializer: several times faster than the client's json.dumps."""
    return b"".join(to_json(line) + b"\n" for line in lines)


def bulk_outcomes(answer: Any, count: int) -> list[Outcome]:
    """One outcome per document of a ``_bulk`` request, in order, from its answer.

    An answer of another shape (no ``items``, too few or too many of them, an item without a
    status) says nothing about the documents: those are retried, never dead-lettered."""
    items = answer.get("items") if isinstance(answer, dict) else None
    if not isinstance(items, list) or len(items) != count:
        failure = TransientError(f"unexpected _bulk answer from OpenSearch: {str(answer)[:300]}")
        return [failure] * count
    return [item_outcome(next(iter(item.values()), None) if isinstance(item, dict) else None) for item in items]


def item_outcome(result: Any) -> Outcome:
    status = result.get("status") if isinstance(result, dict) else None
    if not isinstance(status, int):
        return TransientError(f"unexpected _bulk item from OpenSearch: {str(result)[:300]}")
    if status < 300 or status == 409:  # 409: this version (or a newer one) is already indexed
        return []
    reason = result.get("error", {})
    detail = f"{reason.get('type')}: {reason.get('reason')}" if isinstance(reason, dict) else str(reason)
    if status >= 500 or status in UNAVAILABLE_STATUSES or is_index_missing(reason):
        return server_failure(status, reason, f"OpenSearch {status}: {detail}")
    return PermanentError("mapping_rejected" if status == 400 else f"http_{status}", detail)


def create_worker(settings: IndexSettings) -> IndexWorker:
    return IndexWorker(settings)


def create_app(settings: IndexSettings | None = None) -> FastStream:
    settings = settings or IndexSettings()
    return create_stage_app(settings, STAGE, create_worker(settings))
