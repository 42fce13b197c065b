"""The index service: pulls linked articles in batches and writes each batch
with one ``_bulk``, settling every message from its own item result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream import FastStream
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import TransportError

from services.index.documents import document_version, to_document
from services.index.settings import IndexSettings
from shared.errors import PermanentError, TransientError
from shared.messages import ArticleLinked
from shared.logging import get_logger
from shared.opensearch import async_client, ensure_index
from shared.stage import Outcome, create_stage_app

STAGE = "index"
log = get_logger("newsflow.index")


class IndexWorker:
    def __init__(self, settings: IndexSettings) -> None:
        self.settings = settings
        self.alias = settings.opensearch.alias
        self.client: AsyncOpenSearch | None = None
        self.index_ready = False

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
            return [TransientError("OpenSearch is not reachable") for _ in items]
        assert self.client is not None
        body: list[dict[str, Any]] = []
        for article in items:
            body.append(
                {
                    "index": {
                        "_index": self.alias,
                        "_id": article.article_id,
                        "version": document_version(article),
                        "version_type": "external",
                    }
                }
            )
            body.append(to_document(article))
        try:
            response = await self.client.bulk(body=body)
        except (OpenSearchConnectionError, TransportError) as error:
            return [TransientError(f"bulk request failed: {error}") for _ in items]
        return [_outcome(item["index"]) for item in response["items"]]


def _outcome(result: dict[str, Any]) -> Outcome:
    status = int(result.get("status", 500))
    if status < 300 or status == 409:  # 409: this version (or a newer one) is already indexed
        return []
    reason = result.get("error", {})
    detail = f"{reason.get('type')}: {reason.get('reason')}" if isinstance(reason, dict) else str(reason)
    if status == 429 or status >= 500:
        return TransientError(f"OpenSearch {status}: {detail}")
    return PermanentError("mapping_rejected" if status == 400 else f"http_{status}", detail)


def create_worker(settings: IndexSettings) -> IndexWorker:
    return IndexWorker(settings)


def create_app(settings: IndexSettings | None = None) -> FastStream:
    settings = settings or IndexSettings()
    return create_stage_app(settings, STAGE, create_worker(settings))
