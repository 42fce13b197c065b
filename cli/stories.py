"""``newsflow stories rebuild [--since DATE]``: group the indexed articles into stories again (after a
model change), with no downtime for readers.

1. The stories template is applied and the next versioned index (``stories-v2`` after
   ``stories-v1``) created behind a staging alias; readers keep the old one through ``stories``.
2. With ``--since``, the re-grouping starts at the earliest story still open then (a story whose
   last member is after DATE is grouped again whole); the stories that ended before that start are
   copied as they are, with the pointers of stories merged into them.
3. The articles from that start are read in date order, a page at a time (``search_after``: memory
   stays bounded by the page), and grouped by the stage's own worker (services/stories/app.py)
   into the new index: one search and one ``_bulk`` per page, as in the stage. Each page's
   ``story_id`` is written back to its articles (a partial update: the index stage's external
   versions still let a newer ingest win).
4. The alias swaps to the new index in one ``_aliases`` call; the old index is kept (swap back to
   roll back) unless ``--delete-old``.

Between a page's write-back and the swap, an article's ``story_id`` may name a story only the new
index holds: the ``story`` query still lists its members (it searches the articles by
``story_id``), and the headline appears at the swap. Run it with the stories stage stopped: what
that stage groups meanwhile goes to the old index only.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from opensearchpy import AsyncOpenSearch
from pydantic_core import to_json

from services.stories.app import StoriesWorker, create_worker
from services.stories.settings import StoriesSettings
from shared.errors import TransientError
from shared.messages import ArticleLinked
from shared.search.client import async_client, sync_client
from shared.search.indices import STORIES_TEMPLATE_FILE, ensure_index, index_template, template_name
from shared.search.reindex import current_index, next_index
from shared.settings import OpenSearchSettings

stories_app = typer.Typer(help="The stories index: group the indexed articles again.", no_args_is_help=True)

# What the index stage adds to an article (services/index/documents.py): not part of the message.
INDEX_ONLY_FIELDS = (
    "entity_ids",
    "entity_handles",
    "entity_names",
    "localized",
    "topic_keys",
    "primary_topic",
    "dated_at",
    "cluster_id",
    "indexed_at",
)
PAGE_ATTEMPTS = 5


@dataclass
class RebuildReport:
    alias: str
    source: str
    target: str
    regrouped_from: datetime | None  # None: every article
    articles: int
    stories: int
    copied: int  # stories (and pointers) that ended before the re-grouping started, copied as they were


@stories_app.command("rebuild")
def rebuild_command(
    since: Annotated[
        datetime | None, typer.Option(help="Group again only the stories still open at or after this date")
    ] = None,
    page_size: Annotated[int, typer.Option(min=1, max=1000, help="Articles read and grouped per page")] = 256,
    delete_old: Annotated[bool, typer.Option("--delete-old", help="Delete the previous stories index")] = False,
) -> None:
    """Group the indexed articles into stories again, in date order, into a new stories index; then swap the alias."""
    settings = StoriesSettings()

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = asyncio.run(rebuild(settings, since, page_size, delete_old, progress))
    print(
        f"alias {report.alias}: {report.source} -> {report.target}; {report.articles} articles in "
        f"{report.stories} stories" + (f", {report.copied} earlier stories copied" if report.copied else "")
    )


async def rebuild(
    settings: StoriesSettings,
    since: datetime | None,
    page_size: int,
    delete_old: bool = False,
    progress: Callable[[str], None] = lambda _: None,
) -> RebuildReport:
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # a date on the command line is UTC, as the index's dates are
    search = settings.opensearch
    alias, staging = search.stories_alias, f"{search.stories_alias}-rebuilding"
    client = async_client(search)
    try:
        await ensure_index(client, alias, search.shards, search.replicas, STORIES_TEMPLATE_FILE)
        source, target = _next_stories_index(search)
        await client.indices.create(index=target, body={"aliases": {staging: {"is_write_index": True}}})
        start = None if since is None else await _regrouping_start(client, alias, since)
        copied = 0 if start is None else await _copy_ended(client, source, target, start)
        worker = create_worker(
            settings.model_copy(update={"opensearch": search.model_copy(update={"stories_alias": staging})})
        )
        worker.client, worker.index_ready = client, True  # the staging index above, not ensure_index's
        total = await _count(client, search.alias, start)
        grouped = 0
        async for page in _articles(client, search.alias, start, page_size):
            placed = await _group(worker, page)
            await _write_back(client, search.alias, placed)
            grouped += len(page)
            progress(f"grouped {grouped}/{total} articles; {len(worker.stories)} stories in memory")
        await client.indices.refresh(index=target)
        stories = (await client.count(index=target, body={"query": _live()}))["count"]
        await client.indices.update_aliases(
            body={
                "actions": [
                    {"remove": {"index": source, "alias": alias}},
                    {"remove": {"index": target, "alias": staging}},
                    {"add": {"index": target, "alias": alias, "is_write_index": True}},
                ]
            }
        )
        if delete_old:
            await client.indices.delete(index=source)
        await client.indices.refresh(index=search.alias)
        return RebuildReport(alias, source, target, start, grouped, stories, copied)
    finally:
        await client.close()


def _next_stories_index(search: OpenSearchSettings) -> tuple[str, str]:
    """The index behind the alias now, and the next versioned one (its template applied)."""
    alias = search.stories_alias
    client = sync_client(search)
    try:
        body = index_template(alias, search.shards, search.replicas, STORIES_TEMPLATE_FILE)
        client.indices.put_index_template(name=template_name(alias), body=body)
        return current_index(client, alias), next_index(client, alias)
    finally:
        client.close()


def _live() -> dict[str, Any]:
    return {"bool": {"must_not": [{"exists": {"field": "merged_into"}}]}}


async def _regrouping_start(client: AsyncOpenSearch, alias: str, since: datetime) -> datetime:
    """The earliest first member of any story still open at ``since`` (and so on, until none reaches
    further back): every story that changes is grouped again whole."""
    start = since
    while True:
        query = {"bool": {"filter": [{"range": {"last_seen": {"gte": start.isoformat()}}}], **_live()["bool"]}}
        body = {"size": 0, "query": query, "aggs": {"first": {"min": {"field": "first_seen"}}}}
        earliest = (await client.search(index=alias, body=body))["aggregations"]["first"]
        if earliest["value"] is None or earliest["value"] >= start.timestamp() * 1000:
            return start
        start = datetime.fromisoformat(earliest["value_as_string"])


async def _copy_ended(client: AsyncOpenSearch, source: str, target: str, start: datetime) -> int:
    """Copy the stories that ended before ``start``, then the pointers of stories merged into them."""
    ended = {"bool": {"filter": [{"range": {"last_seen": {"lt": start.isoformat()}}}], **_live()["bool"]}}
    copied = await client.reindex(
        body={"source": {"index": source, "query": ended}, "dest": {"index": target}},
        refresh=True,
        wait_for_completion=True,
    )
    count = int(copied["created"])
    pointers = {"exists": {"field": "merged_into"}}
    async for page in _pages(client, source, pointers, [{"story_id": "asc"}], 1000):
        into = sorted({hit["_source"]["merged_into"] for hit in page})
        found = await client.mget(index=target, body={"ids": into}, _source=False)
        kept = {doc["_id"] for doc in found["docs"] if doc.get("found")}
        lines = [
            line
            for hit in page
            if hit["_source"]["merged_into"] in kept
            for line in ({"create": {"_index": target, "_id": hit["_id"]}}, hit["_source"])
        ]
        if lines:
            await client.bulk(body=b"".join(to_json(line) + b"\n" for line in lines), refresh=True)
            count += len(lines) // 2
    return count


async def _count(client: AsyncOpenSearch, alias: str, start: datetime | None) -> int:
    return int((await client.count(index=alias, body={"query": _from(start)}))["count"])


def _from(start: datetime | None) -> dict[str, Any]:
    return {"match_all": {}} if start is None else {"range": {"dated_at": {"gte": start.isoformat()}}}


async def _pages(
    client: AsyncOpenSearch, index: str, query: dict[str, Any], sort: list[dict[str, str]], size: int
) -> AsyncIterator[list[dict[str, Any]]]:
    after: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"size": size, "query": query, "sort": sort, "track_total_hits": False}
        if after is not None:
            body["search_after"] = after
        hits = (await client.search(index=index, body=body))["hits"]["hits"]
        if not hits:
            return
        yield hits
        after = hits[-1]["sort"]


async def _articles(
    client: AsyncOpenSearch, alias: str, start: datetime | None, size: int
) -> AsyncIterator[list[tuple[str, ArticleLinked]]]:
    """The articles from ``start``, in date order, as the messages the stories stage reads (and their index)."""
    sort = [{"dated_at": "asc"}, {"article_id": "asc"}]
    async for page in _pages(client, alias, _from(start), sort, size):
        yield [(hit["_index"], _as_message(hit["_source"])) for hit in page]


def _as_message(document: dict[str, Any]) -> ArticleLinked:
    for name in INDEX_ONLY_FIELDS:
        document.pop(name, None)
    return ArticleLinked.model_validate({**document, "event": "ArticleLinked", "story_id": None})


async def _group(worker: StoriesWorker, page: list[tuple[str, ArticleLinked]]) -> list[tuple[str, ArticleLinked]]:
    """The page's articles with their new story, each index they live in kept; transient failures retried."""
    pending = dict(enumerate(page))
    placed: dict[int, tuple[str, ArticleLinked]] = {}
    for attempt in range(PAGE_ATTEMPTS):
        outcomes = await worker.process_batch([article for _, article in pending.values()])
        failures: list[Exception] = []
        for (position, (index, _)), outcome in zip(list(pending.items()), outcomes, strict=True):
            if isinstance(outcome, Exception):
                failures.append(outcome)
                continue
            (article,) = outcome
            assert isinstance(article, ArticleLinked)
            placed[position] = (index, article)
            del pending[position]
        if not pending:
            return [placed[position] for position in range(len(page))]
        if not all(isinstance(failure, TransientError) for failure in failures):
            raise RuntimeError(f"stories rebuild stopped: {failures[0]!r}")
        await asyncio.sleep(2**attempt)
    raise RuntimeError(f"stories rebuild stopped after {PAGE_ATTEMPTS} attempts: {failures[0]!r}")


async def _write_back(client: AsyncOpenSearch, alias: str, placed: list[tuple[str, ArticleLinked]]) -> None:
    lines = [
        line
        for index, article in placed
        for line in ({"update": {"_index": index, "_id": article.article_id}}, {"doc": {"story_id": article.story_id}})
    ]
    answer = await client.bulk(body=b"".join(to_json(line) + b"\n" for line in lines))
    if answer.get("errors"):
        # An article deleted since it was read (404) has no story_id to keep.
        failed = [
            item["update"] for item in answer["items"] if item["update"].get("status", 500) not in (200, 201, 404)
        ]
        if failed:
            raise RuntimeError(f"writing story_id back to {alias} failed for {len(failed)} articles: {failed[:3]}")
