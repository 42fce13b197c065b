"""The story queries on articles the stories and index stages wrote (real OpenSearch): ``story``
lists every outlet's telling with the original first and counts the outlets, follows a merge from
an old story id, ``related`` leaves the article's own story out, ``trending`` ranks stories."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from services.stories.settings import StoriesSettings
from shared.messages import ArticleLinked
from shared.search.client import async_client, sync_client
from shared.search.queries import Searcher
from tests.factories import handed_on, ids, index_worker
from tests.integration.stories.conftest import pause_refresh, stories_worker
from tests.integration.stories.corpus import DAY

pytestmark = pytest.mark.integration

QUAKES = ("quake-chile-wire", "quake-chile-daily", "quake-chile-brief", "quake-peru-wire", "quake-peru-times")


async def index(settings: StoriesSettings, articles: Sequence[ArticleLinked]) -> None:
    async with index_worker(settings.opensearch) as worker:
        assert handed_on(await worker.process_batch(list(articles))) == ids(list(articles))
    client = async_client(settings.opensearch)
    await client.indices.refresh(index=f"{settings.opensearch.alias},{settings.opensearch.stories_alias}")
    await client.close()


async def place(settings: StoriesSettings, articles: Sequence[ArticleLinked]) -> list[ArticleLinked]:
    async with stories_worker(settings) as worker:
        outcomes = await worker.process_batch(list(articles))
    placed = [outcome[0] for outcome in outcomes if isinstance(outcome, list)]
    assert len(placed) == len(articles)
    return [article for article in placed if isinstance(article, ArticleLinked)]


async def test_story_related_and_trending_read_the_stories(
    corpus: dict[str, ArticleLinked], stories_settings: StoriesSettings, isolated: None
) -> None:
    placed = await place(stories_settings, [corpus[key] for key in QUAKES])
    await index(stories_settings, placed)
    client = sync_client(stories_settings.opensearch)
    searcher = Searcher(client, stories_settings.opensearch.alias, stories_settings.opensearch.stories_alias)
    try:
        story = searcher.story(corpus["quake-chile-brief"].article_id)
        related = searcher.related(corpus["quake-chile-daily"].article_id)
        trending = searcher.trending(DAY + timedelta(days=2), timedelta(days=3), timedelta(days=30), min_doc_count=2)
    finally:
        client.close()
    chile = {corpus[key].article_id for key in QUAKES[:3]}
    assert {member["_id"] for member in story.members} == chile
    assert story.members[0]["_id"] == corpus["quake-chile-wire"].article_id  # the original first
    assert len(story.outlets) == 3 and story.headline == corpus["quake-chile-wire"].title
    assert not chile & {hit["_id"] for hit in related}
    top = trending.stories[0]
    assert (top.story_id, top.outlets, top.count, top.headline) == (story.story_id, 3, 3, story.headline)


async def test_an_article_of_a_merged_story_finds_the_whole_story(
    corpus: dict[str, ArticleLinked], stories_settings: StoriesSettings, isolated: None
) -> None:
    # Two replicas start two stories of one event; a later telling bridges them.
    await pause_refresh(stories_settings)
    first = await place(stories_settings, [corpus["ecb-cut-wire"]])
    second = await place(stories_settings, [corpus["ecb-cut-ledger"]])
    assert first[0].story_id != second[0].story_id
    client = async_client(stories_settings.opensearch)
    await client.indices.refresh(index=stories_settings.opensearch.stories_alias)
    await client.close()
    bridge = await place(stories_settings, [corpus["ecb-cut-review"]])
    await index(stories_settings, [*first, *second, *bridge])
    client = sync_client(stories_settings.opensearch)
    searcher = Searcher(client, stories_settings.opensearch.alias, stories_settings.opensearch.stories_alias)
    try:
        # Whichever story was merged away, each of its articles still finds all three tellings.
        stories = [searcher.story(article.article_id) for article in (*first, *second)]
    finally:
        client.close()
    assert {story.story_id for story in stories} == {bridge[0].story_id}
    assert all(len(story.members) == 3 and len(story.outlets) == 3 for story in stories)
