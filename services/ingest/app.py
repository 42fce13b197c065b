"""The ingest service: ``create_app(settings)`` builds it, ``python -m services.ingest`` runs it.

``process_batch`` is the one path, for the service and for ``newsflow process``; what
differs is the context ``start`` is given. The service fetches URLs and feeds, drops duplicates
against the NATS KV bucket of its JetStream connection (so dedupe holds across restarts and
replicas) and, when a source registry is set, runs the poller. Offline (``newsflow process``)
nothing is fetched: documents that carry their content become
articles, duplicates are dropped against memory, and what would need a fetch is reported.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Sequence

from faststream import FastStream

from services.ingest.collect.dedupe import Deduplicator
from services.ingest.collect.feeds import entry_submission, parse_feed
from services.ingest.collect.fetch import AddressPolicy, Fetcher, FetchResult
from services.ingest.collect.poller import Poller, PollPolicy
from services.ingest.collect.state import MemoryStateStore, NatsStateStore
from services.ingest.extract.articles import article_from_html, article_from_submission, article_from_text
from services.ingest.extract.charset import decode
from services.ingest.settings import IngestSettings
from shared.errors import PermanentError, TransientError
from shared.logging import get_logger
from shared.messages import ArticleFields, ArticleIngested, DocumentSubmitted
from shared.stage import Dropped, Outcome, StageContext, create_stage_app

STAGE = "ingest"
_FEED_TYPES = ("xml", "rss", "atom", "json")
_HTML_TYPES = ("html", "xhtml")
NEEDS_FETCH = "needs_fetch"
log = get_logger("newsflow.ingest")


class IngestWorker:
    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.field_sources: dict[str, str | None] = {
            name: None for name in ("title", "body", "published_at", "original_source")
        }
        self.dedupe = Deduplicator(MemoryStateStore())
        self.fetcher: Fetcher | None = None
        self._fetch_slots = asyncio.Semaphore(settings.fetch_concurrency)
        self._poller: Poller | None = None
        self._poll_task: asyncio.Task[None] | None = None

    async def start(self, context: StageContext) -> None:
        settings = self.settings
        if context.offline:
            return  # nothing fetched, dedupe against this process's memory
        js = context.jetstream
        if js is None:
            raise RuntimeError("the ingest service keeps its state in NATS: start it with the stage's JetStream")
        topology = context.topology
        store = await NatsStateStore.open(
            js, topology.kv_bucket, ttl_s=settings.state_ttl_days * 86400, replicas=topology.replicas
        )
        self.dedupe = Deduplicator(store)
        self.fetcher = Fetcher(
            settings.fetch_limits(),
            AddressPolicy.from_strings(settings.fetch_allowed_networks),
            respect_robots=settings.fetch_respect_robots,
        )
        self.fetcher.share_pace(store)
        if settings.sources_file:

            async def publish(submission: DocumentSubmitted) -> None:
                await js.publish(
                    topology.entry_subject,
                    submission.model_dump_json().encode(),
                    headers={"Nats-Msg-Id": f"submission:{submission.submission_id}"},
                    stream=topology.stream,
                )

            self._poller = Poller(
                settings.sources_file,
                self.fetcher,
                store,
                publish,
                owner=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}",
                policy=PollPolicy(
                    max_backoff_s=settings.poll_max_backoff_s,
                    lease_s=settings.poll_lease_s,
                    max_entries_per_poll=settings.poll_max_entries,
                    tick_s=settings.poll_tick_s,
                ),
            )
            self._poll_task = asyncio.create_task(self._poller.run())

    async def stop(self) -> None:
        if self._poll_task is not None:
            self._poll_task.cancel()
            await asyncio.gather(self._poll_task, return_exceptions=True)
        if self._poller is not None:
            await self._poller.stop()
        if self.fetcher is not None:
            await self.fetcher.close()

    async def process_batch(self, items: Sequence[DocumentSubmitted]) -> list[Outcome]:
        return list(await asyncio.gather(*(self._outcome(item) for item in items)))

    async def _outcome(self, item: DocumentSubmitted) -> Outcome:
        try:
            found = await self._articles(item)
            return await _keep_new(found, item.submission_id, self.dedupe)
        except Exception as error:  # settled per message by the runtime
            return error

    async def _articles(self, item: DocumentSubmitted, expand_feeds: bool = True) -> list[ArticleIngested | Dropped]:
        if item.kind == "url":
            page = await self._fetch(_required_url(item))
            if _is_feed(page):
                if not expand_feeds:  # a feed entry pointing at a feed: never recurse
                    raise PermanentError("nested_feed", f"{page.url} is a feed inside a feed")
                return await self._feed_articles(page.content, page.url, item)
            if page.content_type == "text/plain":
                return [article_from_text(decode(page.content, page.charset), {"url": page.url, **item.hints})]
            if page.content_type and not any(kind in page.content_type for kind in _HTML_TYPES):
                raise PermanentError("unsupported_content_type", f"{page.url} is {page.content_type}")
            return [article_from_html(page.content, page.url, item.hints, page.charset)]
        if item.kind == "feed":
            if item.content is not None:
                return await self._feed_articles(item.content.encode("utf-8"), item.url, item)
            page = await self._fetch(_required_url(item))
            return await self._feed_articles(page.content, page.url, item)
        return [article_from_submission(item)]

    async def _feed_articles(
        self, data: bytes, feed_url: str | None, item: DocumentSubmitted
    ) -> list[ArticleIngested | Dropped]:
        """Every entry of a submitted feed: its own content when complete, else its fetched page
        (offline, an entry that needs its page is reported as dropped)."""
        feed = parse_feed(data, feed_url)
        entries = [
            entry_submission(entry, item.hints, item.submission_id)
            for entry in feed.entries[: self.settings.poll_max_entries]
        ]
        outcomes = await asyncio.gather(
            *(self._articles(entry, expand_feeds=False) for entry in entries), return_exceptions=True
        )
        articles: list[ArticleIngested | Dropped] = []
        failures: list[Exception] = []
        for entry, outcome in zip(entries, outcomes, strict=True):
            if isinstance(outcome, PermanentError) and outcome.reason == NEEDS_FETCH:
                articles.append(Dropped(NEEDS_FETCH, {"url": entry.url, "feed": feed_url}))
            elif isinstance(outcome, Exception):
                log.warning("feed_entry_failed", feed=feed_url, url=entry.url, error=str(outcome)[:300])
                failures.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome  # cancellation: not the feed's fault
            else:
                articles.extend(outcome)
        if not entries:
            raise PermanentError("empty_feed", f"{feed_url or 'the feed'} has no entries")
        if not articles and failures:
            _raise_for_feed(failures, feed_url)
        return articles

    async def _fetch(self, url: str) -> FetchResult:
        if self.fetcher is None:
            raise PermanentError(
                NEEDS_FETCH, f"{url} must be fetched, which the ingest service does, not an offline run"
            )
        async with self._fetch_slots:
            return await self.fetcher.fetch(url)


async def _keep_new(found: list[ArticleIngested | Dropped], owner: str, dedupe: Deduplicator) -> Outcome:
    kept: list[ArticleFields | Dropped] = []
    for article in found:
        if isinstance(article, Dropped) or (earlier := await dedupe.earlier_copy(article, owner)) is None:
            kept.append(article)
        else:
            kept.append(
                Dropped(
                    "duplicate", {"article_id": article.article_id, "title": article.title, "duplicate_of": earlier}
                )
            )
    return kept


def _raise_for_feed(failures: list[Exception], feed_url: str | None) -> None:
    """Not one entry of the feed could be read: retry it if any failure may pass, else refuse it."""
    first = f"{len(failures)} entries failed, the first: {str(failures[0])[:300]}"
    if all(isinstance(failure, PermanentError) for failure in failures):
        raise PermanentError("no_readable_entry", f"{feed_url or 'the feed'}: {first}")
    raise TransientError(f"{feed_url or 'the feed'}: {first}")


def _required_url(item: DocumentSubmitted) -> str:
    if not item.url:
        raise PermanentError("missing_url", f"a {item.kind!r} submission needs a url")
    return item.url


def _is_feed(page: FetchResult) -> bool:
    kind = page.content_type or ""
    return any(marker in kind for marker in _FEED_TYPES) and "html" not in kind


def create_worker(settings: IngestSettings | None = None) -> IngestWorker:
    settings = settings or IngestSettings()
    return IngestWorker(settings)


def create_app(settings: IngestSettings | None = None) -> FastStream:
    settings = settings or IngestSettings()
    return create_stage_app(settings, STAGE, create_worker(settings))
