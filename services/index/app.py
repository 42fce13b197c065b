"""The index service: pulls linked articles in batches, gives each its story cluster
(services/index/clusters.py) and writes the batch with one ``_bulk``, settling every
message from its own item result."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from faststream import FastStream
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import TransportError
from pydantic_core import to_json

from services.index.clusters import (
    Member,
    RecentMembers,
    assign_clusters,
    candidate_query,
    clusters_from_hits,
    existing_clusters_query,
    members_from_hits,
)
from services.index.documents import document_version, to_document
from services.index.settings import IndexSettings
from shared.errors import DependencyUnavailable, PermanentError, TransientError
from shared.logging import get_logger
from shared.messages import ArticleLinked
from shared.opensearch import async_client, ensure_index
from shared.stage import Outcome, create_stage_app

STAGE = "index"
log = get_logger("newsflow.index")
# Statuses of an OpenSearch that is overloaded or not ready (e.g. shards still recovering after a restart).
UNAVAILABLE_STATUSES = frozenset({429, 502, 503, 504})


class IndexWorker:
    def __init__(self, settings: IndexSettings) -> None:
        self.settings = settings
        self.alias = settings.opensearch.alias
        self.client: AsyncOpenSearch | None = None
        self.index_ready = False
        self.recent = RecentMembers(settings.recent_window_s, settings.recent_capacity)

    async def start(self) -> None:
        self.client = async_client(self.settings.opensearch)
        await self._ensure_index()

    async def _ensure_index(self) -> bool:
        """Apply the template once; while OpenSearch is down, try again at the next batch instead of dying."""
        if not self.index_ready:
            assert self.client is not None
            try:
                await ensure_index(self.client, self.alias)
                self.index_ready = True
            except (OpenSearchConnectionError, TransportError) as error:
                log.warning("opensearch_unavailable", alias=self.alias, error=repr(error))
        return self.index_ready

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()

    async def process_batch(self, items: Sequence[ArticleLinked]) -> list[Outcome]:
        if not await self._ensure_index():
            return [DependencyUnavailable("OpenSearch is not reachable") for _ in items]
        try:
            existing, candidates = await self._indexed_neighbours(items)
            cluster_ids = assign_clusters(items, candidates, existing, self.recent, self.settings.cluster_similarity)
            response = await self._bulk(items, cluster_ids)
        except (OpenSearchConnectionError, TransportError, TransientError) as error:
            self.recent.discard(article.article_id for article in items)
            failure = _request_failure(error)
            return [failure for _ in items]
        outcomes = [item_outcome(item["index"]) for item in response["items"]]
        # What was not written must not attract the next near-duplicates into its cluster.
        self.recent.discard(
            article.article_id
            for article, outcome in zip(items, outcomes, strict=True)
            if isinstance(outcome, Exception)
        )
        return outcomes

    async def _indexed_neighbours(
        self, items: Sequence[ArticleLinked]
    ) -> tuple[dict[str, str], dict[str, list[Member]]]:
        """One ``_msearch``: the clusters of the batch's already-indexed articles, and each signed
        article's candidate near-duplicates."""
        assert self.client is not None
        signed = [article for article in items if article.signature and article.signature.lsh_bands]
        searches: list[dict[str, Any]] = [existing_clusters_query([article.article_id for article in items])]
        searches += [candidate_query(article) for article in signed]
        header = {"index": self.alias}
        body = _ndjson(line for search in searches for line in (header, search))
        responses = (await self.client.msearch(body=body))["responses"]
        failed = [response for response in responses if "error" in response]
        if failed:
            status = max(int(response.get("status", 500)) for response in failed)
            unavailable = status in UNAVAILABLE_STATUSES
            raise (DependencyUnavailable if unavailable else TransientError)(
                f"candidate search failed ({status}): {failed[0]['error']}"
            )
        existing = clusters_from_hits(responses[0])
        candidates = {
            article.article_id: members_from_hits(response)
            for article, response in zip(signed, responses[1:], strict=True)
        }
        return existing, candidates

    async def _bulk(self, items: Sequence[ArticleLinked], cluster_ids: Sequence[str]) -> dict[str, Any]:
        assert self.client is not None
        lines: list[dict[str, Any]] = []
        for article, cluster_id in zip(items, cluster_ids, strict=True):
            action = {
                "_index": self.alias,
                "_id": article.article_id,
                "version": document_version(article),
                "version_type": "external",
            }
            lines += [{"index": action}, to_document(article, cluster_id)]
        response: dict[str, Any] = await self.client.bulk(body=_ndjson(lines))
        return response


def _ndjson(lines: Iterable[dict[str, Any]]) -> bytes:
    """A _bulk or _msearch body. pydantic's serializer: several times faster than the client's json.dumps."""
    return b"".join(to_json(line) + b"\n" for line in lines)


def item_outcome(result: dict[str, Any]) -> Outcome:
    status = int(result.get("status", 500))
    if status < 300 or status == 409:  # 409: this version (or a newer one) is already indexed
        return []
    reason = result.get("error", {})
    detail = f"{reason.get('type')}: {reason.get('reason')}" if isinstance(reason, dict) else str(reason)
    if status in UNAVAILABLE_STATUSES:  # overloaded, or shards not ready: the server's state, not the document's
        return DependencyUnavailable(f"OpenSearch {status}: {detail}")
    if status >= 500:
        return TransientError(f"OpenSearch {status}: {detail}")
    return PermanentError("mapping_rejected" if status == 400 else f"http_{status}", detail)


def _request_failure(error: Exception) -> TransientError:
    """A whole request failed: an OpenSearch that is down, starting or overloaded holds the batch;
    anything else is an ordinary transient failure of these messages."""
    if isinstance(error, DependencyUnavailable):
        return error
    if isinstance(error, OpenSearchConnectionError) or (
        isinstance(error, TransportError) and error.status_code in UNAVAILABLE_STATUSES
    ):
        return DependencyUnavailable(f"OpenSearch is unavailable: {error}")
    return TransientError(f"OpenSearch request failed: {error}")


def create_worker(settings: IndexSettings) -> IndexWorker:
    return IndexWorker(settings)


def create_app(settings: IndexSettings | None = None) -> FastStream:
    settings = settings or IndexSettings()
    return create_stage_app(settings, STAGE, create_worker(settings))
