"""The stories stage: between entity_link and index, it gives every article the story it tells
(``story_id``) and keeps the ``stories`` index up to date.

Per pulled batch: one ``_msearch`` on the stories index (the stories that already hold one of the
batch's articles, for redelivery, and the candidate stories sharing a key with the batch, seen
within the model's window), the grouping in memory (services/stories/grouping.py), then one
``_bulk`` writing every story the batch changed with optimistic concurrency (``if_seq_no`` and
``if_primary_term``; ``create`` for a new story). An article is passed on, with its ``story_id``,
only once every story it changed is written; a 409 means another replica changed that story in
between: its articles are retried and meet the story as it now is.

Redelivery never creates a second story: an article already placed (in a story's ``member_ids``,
or in this worker's memory of what it wrote) keeps its story, and a new story takes the id of the
article that starts it, so even a redelivery whose first write was lost writes the same story.
Merges: an article that fits two stories well enough (``StoryModel.merge``) bridges them; the one
first seen survives and absorbs the other, which becomes a pointer (``merged_into``) so its old id
resolves to the new one; the survivor lists it in ``merged_ids``.

Replicas take turns (services/stories/turn.py): the search, the grouping and the ``_bulk`` of a
batch run while the replica holds the stage's turn in NATS key-value, and a replica taking the
turn after another one refreshes the stories index first, so its search sees every story written
before it; otherwise two replicas could each start a story for one event within a refresh
interval (bench/stories_stage.py --replicas 2 measures both).

Limits: a merge whose pointer write fails after its survivor was written
leaves the old story live, its members listed in both. A story keeps its last
``MEMBER_IDS_KEPT`` article ids (services/stories/documents.py).
"""

from __future__ import annotations

import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from faststream import FastStream
from opensearchpy import AsyncOpenSearch
from opensearchpy.exceptions import OpenSearchException
from pydantic_core import to_json

from services.stories.documents import Story, merged_document
from services.stories.features import ArticleProfile, StoryProfile, candidate_keys
from services.stories.grouping import DAY_S, StoryMemory, choose, survivor_of
from services.stories.model import StoryModel
from services.stories.settings import StoriesSettings
from services.stories.turn import GroupingTurn
from shared.background import BackgroundFrequencies
from shared.errors import DependencyUnavailable, PermanentError, TransientError
from shared.logging import get_logger
from shared.messages import ArticleLinked
from shared.search.client import async_client
from shared.search.failures import UNAVAILABLE_STATUSES, checked_searches, request_failure, server_failure
from shared.search.indices import STORIES_TEMPLATE_FILE, ensure_index
from shared.stage import Outcome, StageContext, create_stage_app
from shared.topology import Topology

STAGE = "stories"
log = get_logger("newsflow.stories")
# Candidate stories the batch's search returns per article (the most recently seen first).
CANDIDATES_PER_ARTICLE = 8
MAX_HITS = 10_000  # index.max_result_window


class StoryConflict(TransientError):
    """Another writer changed the story between our read and our write: retry against its new state."""


@dataclass(frozen=True)
class Merged:
    """A story the batch merged into another: written as a pointer, at the version it was read at."""

    into: str
    seq_no: int | None
    primary_term: int | None


class StoriesWorker:
    def __init__(self, settings: StoriesSettings, model: StoryModel | None = None) -> None:
        self.settings = settings
        self.alias = settings.opensearch.stories_alias
        self.model = model or StoryModel.load()
        self.background = BackgroundFrequencies.load()
        self.client: AsyncOpenSearch | None = None
        self.index_ready = False
        # None without JetStream (a worker driven directly, as the benches and tests do): no turns taken.
        self.turn: GroupingTurn | None = None
        # The stories this worker read or wrote lately, oldest first, and which story each of their
        # articles is in; the grouping memory holds the same stories' centroids.
        self.stories: OrderedDict[str, tuple[float, Story]] = OrderedDict()
        self.placed: dict[str, str] = {}
        # Stories this worker merged away lately: until the index refreshes, a search still finds them live.
        self.merged: OrderedDict[str, float] = OrderedDict()
        self.memory = StoryMemory()
        self.field_sources = {"story_id": self.model.version}

    async def start(self, context: StageContext) -> None:
        if context.offline:  # newsflow process: grouped in this process's memory, no index
            return
        self.client = async_client(self.settings.opensearch)
        if context.jetstream is not None:
            holder = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
            bucket, replicas = context.topology.stories_turn_bucket, context.topology.replicas
            self.turn = await GroupingTurn.open(context.jetstream, bucket, replicas, self.settings.turn_lease_s, holder)
        await self._ensure_index()

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()

    async def _ensure_index(self) -> bool:
        if not self.index_ready:
            assert self.client is not None
            try:
                # Stories are spread and copied like the articles they group.
                shape = self.settings.opensearch
                await ensure_index(self.client, self.alias, shape.shards, shape.replicas, STORIES_TEMPLATE_FILE)
                self.index_ready = True
            except OpenSearchException as error:
                log.warning("opensearch_unavailable", alias=self.alias, error=repr(error))
        return self.index_ready

    async def process_batch(self, items: Sequence[ArticleLinked]) -> list[Outcome]:
        profiles = [ArticleProfile.of(article, self.background) for article in items]
        if self.client is None:  # offline: the stories this process has grouped are all there is
            story_of, _ = self._assign(items, profiles)
            return [[self._placed(article, story_of[article.article_id])] for article in items]
        if not await self._ensure_index():
            return [DependencyUnavailable("OpenSearch is not reachable") for _ in items]
        try:
            if self.turn is None:
                story_of, failed = await self._group_and_write(items, profiles)
            else:
                async with self.turn.held() as others_wrote:
                    if others_wrote:
                        await self._catch_up()
                    story_of, failed = await self._group_and_write(items, profiles)
        except (OpenSearchException, TransientError) as error:
            return [request_failure(error)] * len(items)
        outcomes: list[Outcome] = []
        for article in items:
            story_id = story_of[article.article_id]
            failure = failed.get(story_id)
            if failure is not None:
                outcomes.append(failure)
                continue
            outcomes.append([self._placed(article, story_id)])
        return outcomes

    async def _catch_up(self) -> None:
        """Another replica wrote since this one last grouped: make its stories searchable, and forget what
        this worker remembers (those stories may have changed), so the batch sees the index as it is now."""
        assert self.client is not None
        await self.client.indices.refresh(index=self.alias)
        self.stories.clear()
        self.placed.clear()
        self.memory = StoryMemory()

    async def _group_and_write(
        self, items: Sequence[ArticleLinked], profiles: Sequence[ArticleProfile]
    ) -> tuple[dict[str, str], dict[str, Exception]]:
        """Each article's story, and the failures by story: the part replicas take turns at."""
        self._remember_found(await self._search(items, profiles))
        story_of, changed = self._assign(items, profiles)
        return story_of, await self._write(changed)

    @staticmethod
    def _placed(article: ArticleLinked, story_id: str) -> ArticleLinked:
        return article.model_copy(update={"story_id": story_id, "provenance": article.provenance.detached()})

    # -- reading -------------------------------------------------------------------------------------
    async def _search(self, items: Sequence[ArticleLinked], profiles: Sequence[ArticleProfile]) -> list[dict[str, Any]]:
        """One ``_msearch``: the stories already holding one of the batch's articles, and the candidates."""
        assert self.client is not None
        window_s = self.model.window_days * DAY_S
        keys = sorted({key for profile in profiles for key in candidate_keys(profile)})
        live = {"must_not": [{"exists": {"field": "merged_into"}}]}
        placed = {
            "size": len(items),
            "seq_no_primary_term": True,
            "query": {"bool": {"filter": [{"terms": {"member_ids": [a.article_id for a in items]}}], **live}},
        }
        candidates = {
            "size": min(CANDIDATES_PER_ARTICLE * len(items), MAX_HITS),
            "seq_no_primary_term": True,
            "track_total_hits": False,
            "sort": [{"last_seen": {"order": "desc"}}],
            "query": {
                "bool": {
                    "filter": [
                        {"terms": {"keys": keys}},
                        {"range": {"last_seen": {"gte": _millis(min(p.at for p in profiles) - window_s)}}},
                        {"range": {"first_seen": {"lte": _millis(max(p.at for p in profiles) + window_s)}}},
                    ],
                    **live,
                }
            },
        }
        header = {"index": self.alias}
        body = b"".join(to_json(line) + b"\n" for line in (header, placed, header, candidates))
        responses = checked_searches(await self.client.msearch(body=body), 2)
        return [hit for response in responses for hit in response["hits"]["hits"]]

    def _remember_found(self, hits: Iterable[dict[str, Any]]) -> None:
        for hit in hits:
            try:
                found = Story.from_hit(hit)
            except (KeyError, TypeError, ValueError) as error:
                raise TransientError(f"unreadable story {hit.get('_id')}: {error!r}") from error
            known = self.stories.get(found.story_id)
            # What this worker wrote may be newer than what the search sees (the index refreshes each second).
            if found.story_id in self.merged:
                continue
            if known is None or (known[1].seq_no or -1) < (found.seq_no or -1):
                self._keep(found)

    def _keep(self, story: Story) -> None:
        self.stories.pop(story.story_id, None)
        self.stories[story.story_id] = (time.monotonic(), story)
        self.memory.put(story.profile)
        for article_id in story.member_ids:
            self.placed[article_id] = story.story_id
        self._expire()

    def _forget(self, story_id: str) -> None:
        entry = self.stories.pop(story_id, None)
        self.memory.drop(story_id)
        if entry is not None:
            for article_id in entry[1].member_ids:
                if self.placed.get(article_id) == story_id:
                    del self.placed[article_id]

    def _expire(self) -> None:
        oldest_kept = time.monotonic() - self.settings.memory_window_s
        while self.merged and next(iter(self.merged.values())) < oldest_kept:
            self.merged.popitem(last=False)
        while self.stories:
            story_id, (seen_at, _) = next(iter(self.stories.items()))
            if seen_at >= oldest_kept and len(self.stories) <= self.settings.memory_capacity:
                break
            self._forget(story_id)

    # -- grouping ------------------------------------------------------------------------------------
    def _assign(
        self, items: Sequence[ArticleLinked], profiles: Sequence[ArticleProfile]
    ) -> tuple[dict[str, str], dict[str, Story | Merged]]:
        """Each article's story, and what the batch changed: stories to write, and pointers of merged ones."""
        story_of: dict[str, str] = {}
        changed: dict[str, Story | Merged] = {}
        for article, profile in zip(items, profiles, strict=True):
            known = self.placed.get(article.article_id)
            if known is not None and known in self.stories:
                story_of[article.article_id] = known
                continue
            choice = choose(profile, self.memory, self.model)
            if choice.story_id is None:
                story = Story(StoryProfile(article.article_id))
            else:
                survivor = survivor_of((choice.story_id, *choice.bridged), self.memory)
                story = self.stories[survivor][1]
                for other in (choice.story_id, *choice.bridged):
                    if other != survivor:
                        absorbed = self.stories[other][1]
                        story.absorb(absorbed)
                        changed[other] = Merged(survivor, absorbed.seq_no, absorbed.primary_term)
                        self._forget(other)
                        self.merged[other] = time.monotonic()
                        # Articles of this batch already placed there follow it.
                        story_of.update({a: survivor for a, s in story_of.items() if s == other})
                        log.info("stories_merged", merged=other, into=survivor, bridge=article.article_id)
            story.add(article, profile)
            self._keep(story)
            changed[story.story_id] = story
            story_of[article.article_id] = story.story_id
        return story_of, changed

    # -- writing -------------------------------------------------------------------------------------
    async def _write(self, changed: dict[str, Story | Merged]) -> dict[str, Exception]:
        """Every story the batch changed, in one ``_bulk``; then, only in a batch that merged stories and
        only for survivors that were written, the pointers of the merged ones (a pointer written without
        its survivor would hide the merged story's members). The failures, by the story that failed."""
        stories = {story_id: change for story_id, change in changed.items() if isinstance(change, Story)}
        failed = await self._bulk(stories)
        pointers = {
            story_id: change
            for story_id, change in changed.items()
            if isinstance(change, Merged) and change.into not in failed
        }
        for story_id, pointer in (await self._bulk(pointers)).items():
            failed[pointers[story_id].into] = pointer
            self.merged.pop(story_id, None)  # still live in the index: the retry may merge it again
        return failed

    async def _bulk(self, changes: Mapping[str, Story | Merged]) -> dict[str, Exception]:
        if not changes:
            return {}
        assert self.client is not None
        lines: list[dict[str, Any]] = []
        for story_id, change in changes.items():
            if isinstance(change, Merged):
                version = (change.seq_no, change.primary_term)
                lines += [_action(self.alias, story_id, version), merged_document(story_id, change.into)]
            else:
                lines += [_action(self.alias, story_id, (change.seq_no, change.primary_term)), change.document()]
        try:
            body = b"".join(to_json(line) + b"\n" for line in lines)
            answer = await self.client.bulk(body=body, require_alias=True)
            results = [next(iter(item.values())) for item in answer["items"]]
            if len(results) != len(changes):
                raise TransientError(f"unexpected _bulk answer from OpenSearch: {str(answer)[:300]}")
        except (OpenSearchException, TransientError, KeyError, TypeError, StopIteration) as error:
            failure = request_failure(error)
            for story_id in changes:
                self._forget(story_id)
            return dict.fromkeys(changes, failure)
        failed: dict[str, Exception] = {}
        for (story_id, change), result in zip(changes.items(), results, strict=True):
            status = result.get("status", 500)
            if status < 300:
                if isinstance(change, Story):
                    change.seq_no, change.primary_term = result["_seq_no"], result["_primary_term"]
                continue
            failed[story_id] = _item_failure(status, result.get("error"), story_id)
            self._forget(story_id)
        return failed


def _action(alias: str, story_id: str, version: tuple[int | None, int | None]) -> dict[str, Any]:
    if version[0] is None:
        return {"create": {"_index": alias, "_id": story_id}}
    return {"index": {"_index": alias, "_id": story_id, "if_seq_no": version[0], "if_primary_term": version[1]}}


def _item_failure(status: int, error: Any, story_id: str) -> Exception:
    if status == 409:
        return StoryConflict(f"story {story_id} changed under us")
    if status >= 500 or status in UNAVAILABLE_STATUSES:
        return server_failure(status, error, f"OpenSearch {status} writing story {story_id}: {str(error)[:300]}")
    return PermanentError("story_rejected", f"OpenSearch {status} writing story {story_id}: {str(error)[:300]}")


def _millis(seconds: float) -> int:
    return int(seconds * 1000)


def create_worker(settings: StoriesSettings | None = None) -> StoriesWorker:
    return StoriesWorker(settings or StoriesSettings())


def create_app(settings: StoriesSettings | None = None, topology: Topology | None = None) -> FastStream:
    settings = settings or StoriesSettings()
    return create_stage_app(settings, STAGE, create_worker(settings), topology)
