"""The stories stage's worker against the real OpenSearch, on a corpus written for it
(tests/integration/stories/corpus.py) and run through the real enrich and entity_link code:
retellings join one story, a different event of the same kind stays apart, an article that
bridges two stories merges them (the old id then points to the survivor), and a redelivered
article never creates a second story."""

from __future__ import annotations

from typing import Any

import pytest

from services.stories.app import StoriesWorker, StoryConflict
from services.stories.settings import StoriesSettings
from shared.messages import ArticleLinked
from shared.search.client import async_client
from tests.integration.stories.conftest import pause_refresh, stories_worker

pytestmark = pytest.mark.integration


async def placed(worker: StoriesWorker, *articles: ArticleLinked) -> list[str]:
    """Each article's story id, after the worker wrote it (and the index refreshed, as a second would)."""
    outcomes = await worker.process_batch(list(articles))
    story_ids = []
    for outcome in outcomes:
        assert isinstance(outcome, list), outcome
        (article,) = outcome
        assert isinstance(article, ArticleLinked) and article.story_id
        assert worker.field_sources["story_id"]  # the runtime records the model version behind story_id
        story_ids.append(article.story_id)
    await refresh(worker.settings)
    return story_ids


async def refresh(settings: StoriesSettings) -> None:
    client = async_client(settings.opensearch)
    await client.indices.refresh(index=settings.opensearch.stories_alias)
    await client.close()


async def stories(settings: StoriesSettings) -> dict[str, dict[str, Any]]:
    client = async_client(settings.opensearch)
    try:
        await client.indices.refresh(index=settings.opensearch.stories_alias)
        response = await client.search(index=settings.opensearch.stories_alias, body={"size": 100})
    finally:
        await client.close()
    return {hit["_id"]: hit["_source"] for hit in response["hits"]["hits"]}


async def test_retellings_join_and_another_quake_stays_apart(
    corpus: dict[str, ArticleLinked], stories_settings: StoriesSettings, isolated: None
) -> None:
    async with stories_worker(stories_settings) as worker:
        # One batch, then one article at a time: the second path reads what the first wrote.
        chile = await placed(worker, corpus["quake-chile-wire"], corpus["quake-chile-daily"])
        chile += await placed(worker, corpus["quake-chile-brief"])
        peru = await placed(worker, corpus["quake-peru-wire"])
    async with stories_worker(stories_settings) as restarted:  # nothing in memory: the index is all it knows
        peru += await placed(restarted, corpus["quake-peru-times"])
    assert len(set(chile)) == 1 and len(set(peru)) == 1
    assert chile[0] != peru[0]
    story = (await stories(stories_settings))[chile[0]]
    assert story["member_count"] == 3
    assert story["outlets"] == ["Andes Wire", "Global Brief", "Pacific Daily"]
    assert story["original_article_id"] == corpus["quake-chile-wire"].article_id  # the earliest
    assert story["headline"] == corpus["quake-chile-wire"].title
    assert "Q33986" in story["top_entity_ids"] or any(e["name"] == "Valparaíso" for e in story["top_entities"])


async def test_an_article_that_bridges_two_stories_merges_them(
    corpus: dict[str, ArticleLinked], stories_settings: StoriesSettings, isolated: None
) -> None:
    # Two replicas each see one telling before either's write is searchable: two stories of one event.
    await pause_refresh(stories_settings)
    async with stories_worker(stories_settings) as replica_a, stories_worker(stories_settings) as replica_b:
        (first,) = await replica_a.process_batch([corpus["ecb-cut-wire"]])
        (second,) = await replica_b.process_batch([corpus["ecb-cut-ledger"]])
    assert isinstance(first, list) and isinstance(second, list)
    split = {first[0].story_id, second[0].story_id}
    assert len(split) == 2
    await refresh(stories_settings)
    async with stories_worker(stories_settings) as replica_c:
        (bridge,) = await placed(replica_c, corpus["ecb-cut-review"])
    found = await stories(stories_settings)
    survivor, merged = found[bridge], found[(split - {bridge}).pop()]
    assert bridge in split
    assert merged["merged_into"] == bridge
    assert survivor["merged_ids"] == sorted(split - {bridge})
    assert survivor["member_count"] == 3
    assert set(survivor["member_ids"]) == {
        corpus[key].article_id for key in ("ecb-cut-wire", "ecb-cut-ledger", "ecb-cut-review")
    }


async def test_a_redelivered_article_never_makes_a_second_story(
    corpus: dict[str, ArticleLinked], stories_settings: StoriesSettings, isolated: None
) -> None:
    article = corpus["quake-peru-wire"]
    async with stories_worker(stories_settings) as worker:
        (story_id,) = await placed(worker, article)
        assert await placed(worker, article) == [story_id]  # from the worker's memory
    async with stories_worker(stories_settings) as another:
        assert await placed(another, article) == [story_id]  # from the index
        # Redelivered together with a retelling in one batch: still one story, the retelling in it.
        assert await placed(another, article, corpus["quake-peru-times"]) == [story_id, story_id]
    found = await stories(stories_settings)
    assert list(found) == [story_id]
    assert found[story_id]["member_count"] == 2


async def test_a_story_changed_by_another_replica_is_retried_not_overwritten(
    corpus: dict[str, ArticleLinked], stories_settings: StoriesSettings, isolated: None
) -> None:
    async with stories_worker(stories_settings) as replica_a, stories_worker(stories_settings) as replica_b:
        (story_id,) = await placed(replica_a, corpus["quake-chile-wire"])
        await pause_refresh(stories_settings)  # b's write stays unseen by a's search
        (joined,) = await replica_b.process_batch([corpus["quake-chile-daily"]])
        assert isinstance(joined, list) and joined[0].story_id == story_id
        # a still holds the version it wrote: its write is refused (409) and the article is retried.
        (outcome,) = await replica_a.process_batch([corpus["quake-chile-brief"]])
        assert isinstance(outcome, StoryConflict)
        await refresh(stories_settings)
        assert await placed(replica_a, corpus["quake-chile-brief"]) == [story_id]  # the retry reads it afresh
    story = (await stories(stories_settings))[story_id]
    assert story["member_count"] == 3
    assert story["outlets"] == ["Andes Wire", "Global Brief", "Pacific Daily"]
