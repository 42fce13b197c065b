"""Two replicas of the stories stage with their turns in the real NATS key-value: two tellings of one
event, taken at the same moment by the two replicas while the index does not refresh by itself, land
in one story; a turn left by a replica that died holding it expires and the next replica goes on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
import pytest
from nats.js import JetStreamContext

from services.stories.app import StoriesWorker, create_worker
from services.stories.settings import StoriesSettings
from services.stories.turn import KEY
from shared.messages import ArticleLinked
from shared.stage import StageContext
from tests.conftest import Servers
from tests.integration.stories.conftest import pause_refresh

pytestmark = pytest.mark.integration


@asynccontextmanager
async def replica(settings: StoriesSettings, jetstream: JetStreamContext) -> AsyncIterator[StoriesWorker]:
    worker = create_worker(settings)
    await worker.start(StageContext("stories", settings, settings.topology, jetstream))
    try:
        yield worker
    finally:
        await worker.stop()


@pytest.fixture
async def jetstream(servers: Servers) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(servers.nats_url)
    yield connection.jetstream()
    await connection.close()


@pytest.fixture
def shared_settings(stories_settings: StoriesSettings, namespace: str, isolated: None) -> StoriesSettings:
    """The replicas' settings: the test's own stories alias and its own turn bucket (``isolated`` removes both)."""
    return stories_settings.model_copy(update={"namespace": namespace})


def story_ids(outcomes: list[object]) -> list[str]:
    found = []
    for outcome in outcomes:
        assert isinstance(outcome, list), outcome
        (article,) = outcome
        assert isinstance(article, ArticleLinked) and article.story_id
        found.append(article.story_id)
    return found


async def test_two_replicas_at_once_put_two_tellings_in_one_story(
    corpus: dict[str, ArticleLinked], shared_settings: StoriesSettings, jetstream: JetStreamContext
) -> None:
    settings = shared_settings
    await pause_refresh(settings)  # nothing becomes searchable unless a writer makes it so
    async with replica(settings, jetstream) as replica_a, replica(settings, jetstream) as replica_b:
        (first,), (second,) = await asyncio.gather(
            replica_a.process_batch([corpus["ecb-cut-wire"]]), replica_b.process_batch([corpus["ecb-cut-ledger"]])
        )
        (other_event,) = await replica_a.process_batch([corpus["quake-chile-wire"]])
    together = story_ids([first, second])
    assert together[0] == together[1]
    assert story_ids([other_event]) != together[:1]


async def test_a_turn_left_by_a_dead_replica_expires(
    corpus: dict[str, ArticleLinked], shared_settings: StoriesSettings, jetstream: JetStreamContext
) -> None:
    settings = shared_settings.model_copy(update={"turn_lease_s": 1.0})
    async with replica(settings, jetstream) as worker:
        assert worker.turn is not None
        # A replica killed while holding the turn never gives it back.
        await worker.turn.kv.create(KEY, b"killed-replica")
        (outcome,) = await worker.process_batch([corpus["quake-peru-wire"]])
        assert story_ids([outcome]) == [corpus["quake-peru-wire"].article_id]
        assert (await worker.turn.kv.get(KEY)).value.startswith(b"free ")  # and it gave the turn back after its batch
