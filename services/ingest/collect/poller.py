"""Polling the source registry: each source on its own interval, politely, across replicas.

* State per source (ETag, Last-Modified, when it is next due, failures) and the
  URLs already submitted live in the state store (a NATS KV bucket in the
  service), so a restart neither refetches everything nor resubmits old entries.
* A lease per source (compare-and-set in the same store, with an expiry) makes
  sure two replicas never poll the same source at once; a replica that dies
  holding one only delays that source until the lease expires.
* Failures back off exponentially from the source's interval, capped, and never
  sooner than a server's ``Retry-After``.
* New entries go out as ``DocumentSubmitted`` messages to ingest's own inbox:
  each page is then fetched, retried and, if hopeless, dead-lettered on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from services.ingest.collect.feeds import entry_submission, parse_feed
from services.ingest.collect.fetch import Fetcher, FetchResult, FetchUnavailable
from services.ingest.collect.sources import SourceConfig, SourcesError, load_sources
from services.ingest.collect.state import StateStore
from services.ingest.extract.charset import decode
from shared.errors import PermanentError
from shared.ids import canonical_url
from shared.logging import get_logger
from shared.messages import DocumentSubmitted

Publish = Callable[[DocumentSubmitted], Awaitable[None]]
log = get_logger("newsflow.ingest.poller")

# A poll that failed inside newsflow (not at the source) is retried after this many ticks.
CRASH_RETRY_TICKS = 6
# Pages no larger than this travel inside the submission; larger ones are fetched again by the worker.
MAX_INLINE_PAGE_BYTES = 1024 * 1024


@dataclass
class PollState:
    etag: str | None = None
    last_modified: str | None = None
    next_due: float = 0.0  # epoch seconds: the clock replicas share
    failures: int = 0
    last_error: str | None = None

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> PollState:
        try:
            return cls(**json.loads(data))
        except (ValueError, TypeError):  # an unreadable state only costs one unconditional fetch
            return cls()


@dataclass(frozen=True)
class PollPolicy:
    max_backoff_s: float = 6 * 3600.0
    lease_s: float = 120.0
    max_entries_per_poll: int = 100
    tick_s: float = 5.0
    max_concurrent_polls: int = 8


def backoff_delay(interval_s: float, failures: int, retry_after_s: float | None, max_backoff_s: float) -> float:
    """The wait before the next poll: the interval, doubled per consecutive failure, capped; at least Retry-After."""
    delay = min(interval_s * 2 ** max(0, failures), max(max_backoff_s, interval_s))
    return max(delay, retry_after_s or 0.0)


class Leases:
    """Short-lived exclusive claims in the state store."""

    def __init__(self, store: StateStore, owner: str) -> None:
        self.store = store
        self.owner = owner

    async def acquire(self, name: str, duration_s: float) -> bool:
        key = f"lease.{name}"
        claim = json.dumps({"owner": self.owner, "until": time.time() + duration_s}).encode()
        current = await self.store.get(key)
        if current is None:
            return await self.store.create(key, claim)
        holder = json.loads(current[0] or b"{}")
        if holder.get("owner") != self.owner and float(holder.get("until", 0)) > time.time():
            return False
        return await self.store.update(key, claim, current[1])

    async def release(self, name: str) -> None:
        key = f"lease.{name}"
        current = await self.store.get(key)
        if current is not None and json.loads(current[0] or b"{}").get("owner") == self.owner:
            await self.store.update(key, json.dumps({"owner": self.owner, "until": 0}).encode(), current[1])


class Poller:
    def __init__(
        self,
        sources_path: Path,
        fetcher: Fetcher,
        store: StateStore,
        publish: Publish,
        owner: str,
        policy: PollPolicy | None = None,
    ) -> None:
        self.sources_path = sources_path
        self.fetcher = fetcher
        self.store = store
        self.publish = publish
        self.leases = Leases(store, owner)
        self.policy = policy or PollPolicy()
        self.sources: list[SourceConfig] = []
        self._loaded_mtime: float | None = None
        self._next_due: dict[str, float] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._slots = asyncio.Semaphore(self.policy.max_concurrent_polls)

    # -- the loop ----------------------------------------------------------------
    async def run(self) -> None:
        while True:
            self.reload_if_changed()
            for source in self.sources:
                if source.key not in self._running and self._next_due.get(source.key, 0.0) <= time.time():
                    task = asyncio.create_task(self._poll_in_slot(source))
                    self._running[source.key] = task
                    task.add_done_callback(self._forget_task)
            await asyncio.sleep(self.policy.tick_s)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        for key, running in list(self._running.items()):
            if running is task:
                del self._running[key]

    async def stop(self) -> None:
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    def reload_if_changed(self) -> None:
        """Re-read the registry when the file changed; a broken edit keeps the last good one."""
        try:
            mtime = self.sources_path.stat().st_mtime
        except OSError as error:
            log.error("sources_unreadable", path=str(self.sources_path), error=error.strerror)
            return
        if mtime == self._loaded_mtime:
            return
        self._loaded_mtime = mtime
        try:
            self.sources = load_sources(self.sources_path)
        except SourcesError as error:
            log.error("sources_invalid", path=str(self.sources_path), problems=error.problems)
            return
        log.info("sources_loaded", path=str(self.sources_path), count=len(self.sources))

    async def _poll_in_slot(self, source: SourceConfig) -> None:
        async with self._slots:
            try:
                self._next_due[source.key] = await self.poll(source)
            except Exception as error:  # a poll must never take the loop down
                # Internal and transient (NATS not ready, say): retried soon, not after a full interval.
                log.exception("poll_crashed", source=source.name, error=repr(error))
                self._next_due[source.key] = time.time() + CRASH_RETRY_TICKS * self.policy.tick_s

    # -- one poll ----------------------------------------------------------------
    async def poll(self, source: SourceConfig) -> float:
        """Poll ``source`` if it is due and no other replica holds it. Returns when it is next due."""
        if not await self.leases.acquire(source.key, self.policy.lease_s):
            return time.time() + min(self.policy.lease_s, source.poll_interval_s)
        try:
            state = await self._load_state(source)
            if state.next_due > time.time():
                return state.next_due  # another replica polled it meanwhile
            await self._poll_and_record(source, state)
            await self.store.put(f"poll.{source.key}", state.to_bytes())
            return state.next_due
        finally:
            await self.leases.release(source.key)

    async def _load_state(self, source: SourceConfig) -> PollState:
        found = await self.store.get(f"poll.{source.key}")
        return PollState.from_bytes(found[0]) if found else PollState()

    async def _poll_and_record(self, source: SourceConfig, state: PollState) -> None:
        retry_after: float | None = None
        try:
            result = await self.fetcher.fetch(source.url, state.etag, state.last_modified)
            submitted = 0 if result.not_modified else await self._submit(source, result)
        except (FetchUnavailable, PermanentError) as error:
            retry_after = error.retry_after_s if isinstance(error, FetchUnavailable) else None
            state.failures += 1
            state.last_error = str(error)[:500]
            log.warning("poll_failed", source=source.name, failures=state.failures, error=state.last_error)
        else:
            state.failures, state.last_error = 0, None
            if not result.not_modified:
                state.etag, state.last_modified = result.etag, result.last_modified
            log.info("polled", source=source.name, status=result.status, submitted=submitted)
        delay = backoff_delay(source.poll_interval_s, state.failures, retry_after, self.policy.max_backoff_s)
        state.next_due = time.time() + delay

    async def _submit(self, source: SourceConfig, result: FetchResult) -> int:
        if source.kind == "page":
            await self.publish(self._page_submission(source, result))
            return 1
        feed = parse_feed(result.content, result.url, result.content_type)
        submitted = 0
        for entry in feed.entries[: self.policy.max_entries_per_poll]:
            seen_key = f"polled.{_digest(canonical_url(entry.url))}"
            if await self.store.get(seen_key) is not None:
                continue
            await self.publish(entry_submission(entry, source.hints(), source.key))
            # Marked after publishing: a crash in between resubmits once, and the submission id
            # (Nats-Msg-Id) and article dedupe absorb that; the other order could lose the entry.
            await self.store.put(seen_key, source.key.encode())
            submitted += 1
        return submitted

    def _page_submission(self, source: SourceConfig, result: FetchResult) -> DocumentSubmitted:
        version = result.etag or result.last_modified or _digest(result.content)
        submission_id = _digest(f"{source.key}\x00{version}")
        if len(result.content) <= MAX_INLINE_PAGE_BYTES:
            return DocumentSubmitted(
                submission_id=submission_id,
                kind="html",
                content=decode(result.content, result.charset),
                url=result.url,
                hints={"url": source.url, **source.hints()},
            )
        return DocumentSubmitted(submission_id=submission_id, kind="url", url=source.url, hints=source.hints())


def _digest(value: str | bytes) -> str:
    return hashlib.blake2b(value.encode() if isinstance(value, str) else value, digest_size=16).hexdigest()
