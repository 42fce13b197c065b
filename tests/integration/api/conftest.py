"""The sample corpus, run through the real stage code (ingest, enrich, entity link in process) and
the index stage's worker into an alias of its own, once for the API tests; removed afterwards."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.api.settings import ApiSettings
from shared.messages import ArticleLinked
from shared.settings import OpenSearchSettings
from tests.conftest import Servers
from tests.factories import handed_on, ids, index_worker
from tests.support import remove_indices, sample_articles

BATCH = 16


@dataclass
class SampleIndex:
    settings: OpenSearchSettings
    articles: dict[str, ArticleLinked]  # by file name (``wire.jsonl:<line>`` for JSON Lines records)

    def id_of(self, name: str) -> str:
        return self.articles[name].article_id


async def index_articles(settings: OpenSearchSettings, articles: list[ArticleLinked]) -> None:
    """Through the index stage's own worker (its bulk bodies, its story clusters), then a refresh."""
    async with index_worker(settings) as worker:
        batches = iter(articles)
        while chunk := list(islice(batches, BATCH)):
            assert handed_on(await worker.process_batch(chunk)) == ids(chunk)
        assert worker.client is not None
        await worker.client.indices.refresh(index=settings.alias)


@pytest.fixture(scope="session")
async def sample_index(servers: Servers) -> AsyncIterator[SampleIndex]:
    settings = OpenSearchSettings(url=servers.opensearch_url, alias=f"t{uuid.uuid4().hex[:10]}-articles")
    articles = await sample_articles()
    await index_articles(settings, list(articles.values()))
    yield SampleIndex(settings, articles)
    await remove_indices(settings, settings.alias)


@pytest.fixture(scope="session")
def api(sample_index: SampleIndex) -> Iterator[TestClient]:
    with api_client(ApiSettings(opensearch=sample_index.settings, rate_burst=10_000)) as client:
        yield client


@contextmanager
def api_client(settings: ApiSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
async def own_alias(servers: Servers) -> AsyncIterator[OpenSearchSettings]:
    """An empty alias of the test's own, for tests that write while they read."""
    settings = OpenSearchSettings(url=servers.opensearch_url, alias=f"t{uuid.uuid4().hex[:10]}-articles")
    yield settings
    await remove_indices(settings, settings.alias)
