"""``newsflow stories rebuild`` against the real OpenSearch: articles indexed with stories an older
model gave them are grouped again in date order, page by page, into a new versioned stories index
the alias then swaps to; with ``--since`` the stories that ended before are kept as they were and
a story still open then is grouped again whole."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from cli.stories import rebuild
from services.stories.settings import StoriesSettings
from shared.messages import ArticleLinked
from shared.search.client import async_client
from tests.integration.stories.corpus import DAY
from tests.integration.stories.test_story_queries import index, place

pytestmark = pytest.mark.integration

STORIES = {
    "chile": ("quake-chile-wire", "quake-chile-daily", "quake-chile-brief"),
    "peru": ("quake-peru-wire", "quake-peru-times"),
    "ecb": ("ecb-cut-wire", "ecb-cut-ledger", "ecb-cut-review"),
}


async def read_back(settings: StoriesSettings) -> tuple[dict[str, str], dict[str, dict[str, Any]], list[str]]:
    """Each article's story_id, the live stories, and the indices behind the stories alias."""
    client = async_client(settings.opensearch)
    try:
        search = settings.opensearch
        await client.indices.refresh(index=f"{search.alias},{search.stories_alias}")
        articles = await client.search(index=search.alias, body={"size": 100, "_source": ["story_id"]})
        live = {"bool": {"must_not": [{"exists": {"field": "merged_into"}}]}}
        stories = await client.search(index=search.stories_alias, body={"size": 100, "query": live})
        behind = sorted(await client.indices.get_alias(name=search.stories_alias))
    finally:
        await client.close()
    story_of = {hit["_id"]: hit["_source"]["story_id"] for hit in articles["hits"]["hits"]}
    return story_of, {hit["_id"]: hit["_source"] for hit in stories["hits"]["hits"]}, behind


def groups(corpus: dict[str, ArticleLinked], story_of: dict[str, str]) -> list[set[str]]:
    by_story: dict[str, set[str]] = defaultdict(set)
    for name, keys in STORIES.items():
        for key in keys:
            by_story[story_of[corpus[key].article_id]].add(name)
    return sorted(by_story.values(), key=sorted)


def alone(articles: Sequence[ArticleLinked]) -> list[ArticleLinked]:
    """The articles as a model that groups nothing placed them: each its own story."""
    return [article.model_copy(update={"story_id": article.article_id}) for article in articles]


async def test_rebuild_groups_the_indexed_articles_again_behind_the_alias(
    corpus: dict[str, ArticleLinked], stories_settings: StoriesSettings, isolated: None
) -> None:
    await place(stories_settings, [corpus["quake-chile-wire"]])  # the old stories index: v1
    await index(stories_settings, alone(list(corpus.values())))
    lines: list[str] = []
    report = await rebuild(stories_settings, since=None, page_size=3, progress=lines.append)
    story_of, stories, behind = await read_back(stories_settings)
    alias = stories_settings.opensearch.stories_alias
    assert (report.source, report.target, behind) == (f"{alias}-v1", f"{alias}-v2", [f"{alias}-v2"])
    assert groups(corpus, story_of) == [{"chile"}, {"ecb"}, {"peru"}]
    assert sorted(story["member_count"] for story in stories.values()) == [2, 3, 3]
    assert set(stories) == set(story_of.values())
    assert (report.articles, report.stories, report.copied) == (8, 3, 0)
    assert len(lines) == 3 and lines[-1].startswith("grouped 8/8 articles")


async def test_rebuild_since_a_date_keeps_the_stories_that_ended_before(
    corpus: dict[str, ArticleLinked], stories_settings: StoriesSettings, isolated: None
) -> None:
    await index(stories_settings, await place(stories_settings, list(corpus.values())))
    before, stories_before, _ = await read_back(stories_settings)
    # Chile's and the ECB's stories ended before hour 20; Peru's (hours 26 on) is grouped again.
    report = await rebuild(stories_settings, since=DAY + timedelta(hours=20), page_size=10)
    after, stories_after, _ = await read_back(stories_settings)
    assert (report.articles, report.copied) == (2, 2)
    assert after == before and groups(corpus, after) == [{"chile"}, {"ecb"}, {"peru"}]
    assert set(stories_after) == set(stories_before)
    for key in ("quake-chile-wire", "ecb-cut-wire"):  # copied as they were
        assert stories_after[before[corpus[key].article_id]] == stories_before[before[corpus[key].article_id]]
    # A date inside Chile's story reaches back to its first member: everything open then is grouped again.
    report = await rebuild(stories_settings, since=DAY + timedelta(hours=5), page_size=10)
    assert (report.regrouped_from, report.articles, report.copied) == (DAY, 8, 0)
