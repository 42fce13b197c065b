"""Fixtures of the story tests: the corpus through the real enrich and entity_link code, and a
stories worker on a test's own stories alias."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager

import pytest

from services.stories.app import STAGE, StoriesWorker, create_worker
from services.stories.settings import StoriesSettings
from shared.messages import ArticleLinked
from shared.search.client import async_client
from shared.search.indices import STORIES_TEMPLATE_FILE, ensure_index
from shared.settings import OpenSearchSettings
from tests.integration.stories.corpus import linked_corpus
from tests.support import remove_indices, started


@pytest.fixture(scope="session")
def corpus() -> Iterator[dict[str, ArticleLinked]]:
    yield linked_corpus()


@pytest.fixture
async def stories_settings(opensearch_settings: OpenSearchSettings, namespace: str) -> AsyncIterator[StoriesSettings]:
    search = opensearch_settings.model_copy(update={"stories_alias": f"{namespace}-stories"})
    yield StoriesSettings(opensearch=search)
    await remove_indices(search, search.stories_alias)


def stories_worker(settings: StoriesSettings) -> AbstractAsyncContextManager[StoriesWorker]:
    """A stories worker on the test's own stories alias (no NATS involved)."""
    return started(STAGE, create_worker(settings), settings)


async def pause_refresh(settings: StoriesSettings) -> None:
    """Make the stories index refresh only when the test says: what one replica writes stays unseen by
    another's search until then (the window two replicas can start two stories of one event in)."""
    client = async_client(settings.opensearch)
    alias = settings.opensearch.stories_alias
    await ensure_index(client, alias, template_file=STORIES_TEMPLATE_FILE)
    await client.indices.put_settings(index=alias, body={"index": {"refresh_interval": "-1"}})
    await client.close()
