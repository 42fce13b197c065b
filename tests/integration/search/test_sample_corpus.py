"""The real stage code (ingest, enrich, entity link, in process) on corpus/sample, then the index
stage and the query module: the five tellings of the trillion-parameter story are one cluster,
with the original first, and the stories about the same labs stay apart."""

from __future__ import annotations

import json
from itertools import islice

import pytest

from shared.search.client import sync_client
from shared.search.queries import Searcher, SearchRequest
from shared.settings import OpenSearchSettings
from tests.factories import handed_on, ids, index_worker
from tests.support import SAMPLE, sample_articles

pytestmark = pytest.mark.integration

# Small batches, so the story's tellings meet across batches, before and after refreshes.
BATCH = 8


async def test_the_retold_story_is_one_cluster_with_the_original_first(
    opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    expected = json.loads((SAMPLE / "expected.json").read_text())
    (story,) = expected["story_clusters"].values()
    tellings = [story["original"], *story["retellings"]]
    articles = await sample_articles()
    assert all(articles[name].signature for name in tellings), "every telling needs a story signature"
    names = list(articles)
    async with index_worker(opensearch_settings) as worker:
        batches = iter(names)
        while chunk := list(islice(batches, BATCH)):
            assert handed_on(await worker.process_batch([articles[name] for name in chunk])) == ids(
                [articles[name] for name in chunk]
            )
        assert worker.client is not None
        await worker.client.indices.refresh(index=opensearch_settings.alias)

    by_id = {article.article_id: name for name, article in articles.items()}
    client = sync_client(opensearch_settings)
    try:
        searcher = Searcher(client, opensearch_settings.alias)
        result = searcher.search(SearchRequest(size=len(articles)))
        clusters: dict[str, set[str]] = {}
        for hit in result.hits:
            clusters.setdefault(hit["cluster_id"], set()).add(by_id[hit["_id"]])
        told = searcher.story(articles[story["retellings"][-1]].article_id)
    finally:
        client.close()

    assert result.total == len(articles) == sum(expected["counts_by_topic"].values())
    (cluster,) = [members for members in clusters.values() if story["original"] in members]
    assert cluster == set(tellings)
    assert all(len(members) == 1 for members in clusters.values() if members is not cluster)
    assert result.stories == len(articles) - len(tellings) + 1
    assert by_id[told.members[0]["_id"]] == story["original"]
    assert {by_id[member["_id"]] for member in told.members} == set(tellings)
    assert all(hit["story_size"] == len(tellings) for hit in result.hits if by_id[hit["_id"]] in cluster)
