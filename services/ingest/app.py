"""The ingest service: ``create_app(settings)`` builds it, ``python -m services.ingest`` runs it.

Two paths share the same pure core (``articles``):

* ``process(item)``, synchronous and offline: what ``newsflow process`` calls.
  Documents that carry their content (text, markdown, HTML, records, a feed's
  text) become articles; exact duplicates are dropped against an in-memory store.
* ``process_batch(items)``, the service: also fetches URLs and feeds, and drops
  duplicates against the NATS KV bucket, so dedupe holds across restarts and
  replicas. ``start()`` opens that bucket and, when a source registry is set,
  runs the poller.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Sequence

import nats
from faststream import FastStream
from nats.aio.client import Client as NatsClient

from services.ingest.collect.dedupe import Deduplicator
from services.ingest.collect.feeds import entry_submission, parse_feed
from services.ingest.collect.fetch import AddressPolicy, Fetcher, FetchResult
from services.ingest.collect.poller import Poller, PollPolicy
from services.ingest.collect.state import MemoryStateStore, NatsStateStore, resolve_now
from services.ingest.extract.articles import article_from_html, article_from_submission, article_from_text
from services.ingest.extract.charset import decode
from services.ingest.settings import IngestSettings
from shared.errors import PermanentError, TransientError
from shared.logging import get_logger
from shared.messages import ArticleFields, ArticleIngested, DocumentSubmitted
from shared.nats import connect_options
from shared.stage import Outcome, PerItemWorker, create_stage_app, stamp

STAGE = "ingest"
_FEED_TYPES = ("xml", "rss", "atom", "json")
_HTML_TYPES = ("html", "xhtml")
log = get_logger("newsflow.ingest")


class IngestWorker(PerItemWorker):
    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.memory = MemoryStateStore()
        self.dedupe = Deduplicator(self.memory)
        self.fetcher: Fetcher | None = None
        self._fetch_slots = asyncio.Semaphore(settings.fetch_concurrency)
        self._nats: NatsClient | None = None
        self._poller: Poller | None = None
        self._poll_task: asyncio.Task[None] | None = None

    # -- lifecycle (the service) -------------------------------------------------
    async def start(self) -> None:
        settings = self.settings
        self.fetcher = Fetcher(
            settings.fetch_limits(),
            AddressPolicy.from_strings(settings.fetch_allowed_networks),
            respect_robots=settings.fetch_respect_robots,
        )
        if not settings.durable_state:
            if settings.sources_file:
                log.warning("poller_off", reason="polling needs durable_state (NATS) to publish and keep state")
            return
        self._nats = await nats.connect(**connect_options(settings))
        js = self._nats.jetstream()
        topology = settings.topology
        store = await NatsStateStore.open(
            js, topology.kv_bucket, ttl_s=settings.state_ttl_days * 86400, replicas=topology.replicas
        )
        self.dedupe = Deduplicator(store)
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
        if self._nats is not None:
            await self._nats.drain()

    # -- the offline path --------------------------------------------------------
    def process(self, item: DocumentSubmitted) -> list[ArticleFields]:
        articles = articles_in_document(item)
        return resolve_now(_keep_new(articles, item.submission_id, Deduplicator(self.memory)))

    # -- the service path --------------------------------------------------------
    async def process_batch(self, items: Sequence[DocumentSubmitted]) -> list[Outcome]:
        return list(await asyncio.gather(*(self._outcome(item) for item in items)))

    async def _outcome(self, item: DocumentSubmitted) -> Outcome:
        try:
            articles = await self._articles(item)
            return await _keep_new(articles, item.submission_id, self.dedupe)
        except Exception as error:  # settled per message by the runtime
            return error

    async def _articles(self, item: DocumentSubmitted, expand_feeds: bool = True) -> list[ArticleIngested]:
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

    async def _feed_articles(self, data: bytes, feed_url: str | None, item: DocumentSubmitted) -> list[ArticleIngested]:
        """Every entry of a submitted feed: its own content when complete, else its fetched page."""
        feed = parse_feed(data, feed_url)
        entries = [
            entry_submission(entry, item.hints, item.submission_id)
            for entry in feed.entries[: self.settings.poll_max_entries]
        ]
        outcomes = await asyncio.gather(
            *(self._articles(entry, expand_feeds=False) for entry in entries), return_exceptions=True
        )
        articles: list[ArticleIngested] = []
        failures: list[Exception] = []
        for entry, outcome in zip(entries, outcomes, strict=True):
            if isinstance(outcome, Exception):
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
            raise RuntimeError("the worker fetches only once started")
        async with self._fetch_slots:
            return await self.fetcher.fetch(url)


def articles_in_document(item: DocumentSubmitted) -> list[ArticleIngested]:
    """The articles a document holds without fetching anything."""
    if item.kind == "url" or (item.kind == "feed" and item.content is None):
        raise PermanentError("needs_fetch", f"a {item.kind!r} submission is fetched by the ingest service")
    if item.kind != "feed":
        return [article_from_submission(item)]
    feed = parse_feed((item.content or "").encode("utf-8"), item.url)
    entries = [entry_submission(entry, item.hints, item.submission_id) for entry in feed.entries]
    complete = [entry for entry in entries if entry.kind == "html"]
    if len(complete) < len(entries):
        log.info("feed_entries_need_fetch", feed=item.url, skipped=len(entries) - len(complete))
    return [article_from_submission(entry) for entry in complete]


async def _keep_new(articles: list[ArticleIngested], owner: str, dedupe: Deduplicator) -> list[ArticleFields]:
    kept: list[ArticleFields] = []
    for article in articles:
        if await dedupe.first_seen(article, owner):
            stamp(article, STAGE)
            kept.append(article)
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
