from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from services.ingest.collect.fetch import FetchRefused, FetchResult, FetchUnavailable
from services.ingest.collect.poller import Leases, Poller, PollState, backoff_delay
from services.ingest.collect.sources import SourceConfig
from services.ingest.collect.state import MemoryStateStore
from shared.messages import DocumentSubmitted

FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Lake News</title>
<item><title>One</title><link>https://lake.example/1</link></item>
<item><title>Two</title><link>https://lake.example/2?utm_source=rss</link></item>
</channel></rss>"""
SOURCE = SourceConfig.model_validate(
    {"name": "Lake News", "url": "https://lake.example/feed.xml", "poll_interval": 600, "verified": True}
)


class ScriptedFetcher:
    """Answers each fetch with the next scripted response (a result or an exception)."""

    def __init__(self, *responses: FetchResult | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[tuple[str, str | None, str | None]] = []

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> FetchResult:
        self.requests.append((url, etag, last_modified))
        response = self.responses.pop(0)
        if isinstance(response, Exception):
            raise response
        return response


def _poller(
    fetcher: ScriptedFetcher, store: MemoryStateStore | None = None, owner: str = "me"
) -> tuple[Poller, list[DocumentSubmitted]]:
    published: list[DocumentSubmitted] = []

    async def publish(submission: DocumentSubmitted) -> None:
        published.append(submission)

    poller = Poller(Path("unused.yaml"), fetcher, store or MemoryStateStore(), publish, owner)  # type: ignore[arg-type]
    return poller, published


def test_backoff_doubles_is_capped_and_respects_retry_after() -> None:
    assert backoff_delay(600, 0, None, 3600) == 600
    assert backoff_delay(600, 2, None, 3600) == 2400
    assert backoff_delay(600, 5, None, 3600) == 3600
    assert backoff_delay(600, 0, 7200, 3600) == 7200
    assert backoff_delay(7200, 3, None, 3600) == 7200  # the cap never shortens the interval itself


async def test_new_entries_are_submitted_once_and_conditional_get_is_used() -> None:
    ok = FetchResult(url=SOURCE.url, status=200, content=FEED, etag='"v1"', last_modified="Sat, 11 Apr 2026")
    fetcher = ScriptedFetcher(ok, FetchResult(url=SOURCE.url, status=304))
    poller, published = _poller(fetcher)
    next_due = await poller.poll(SOURCE)
    assert [s.url for s in published] == ["https://lake.example/1", "https://lake.example/2?utm_source=rss"]
    assert all(s.kind == "url" and s.hints["source"] == "Lake News" for s in published)
    assert next_due == pytest.approx(time.time() + 600, abs=5)

    await poller.store.put(f"poll.{SOURCE.key}", PollState(etag='"v1"', last_modified="x", next_due=0).to_bytes())
    await poller.poll(SOURCE)
    assert fetcher.requests[1] == (SOURCE.url, '"v1"', "x")
    assert len(published) == 2


async def test_entries_seen_before_are_not_resubmitted_after_a_restart() -> None:
    store = MemoryStateStore()
    first, published = _poller(ScriptedFetcher(FetchResult(url=SOURCE.url, status=200, content=FEED)), store)
    await first.poll(SOURCE)
    await store.put(f"poll.{SOURCE.key}", PollState().to_bytes())  # due again, no validators
    second, republished = _poller(ScriptedFetcher(FetchResult(url=SOURCE.url, status=200, content=FEED)), store)
    await second.poll(SOURCE)
    assert len(published) == 2 and republished == []


async def test_failures_back_off_and_are_recorded() -> None:
    fetcher = ScriptedFetcher(
        FetchUnavailable("http_429", "slow down", retry_after_s=5000), FetchRefused("http_404", "gone")
    )
    poller, _ = _poller(fetcher)
    due = await poller.poll(SOURCE)
    assert due == pytest.approx(time.time() + 5000, abs=5)
    await poller.store.put(f"poll.{SOURCE.key}", PollState(failures=1, next_due=0).to_bytes())
    due = await poller.poll(SOURCE)
    assert due == pytest.approx(time.time() + 600 * 4, abs=5)
    state = PollState.from_bytes((await poller.store.get(f"poll.{SOURCE.key}") or (b"", 0))[0])
    assert state.failures == 2 and "gone" in (state.last_error or "")


async def test_a_source_leased_by_another_replica_is_skipped() -> None:
    store = MemoryStateStore()
    assert await Leases(store, "other").acquire(SOURCE.key, 60)
    fetcher = ScriptedFetcher()
    poller, _ = _poller(fetcher, store)
    await poller.poll(SOURCE)
    assert fetcher.requests == []


async def test_leases_expire_and_are_released() -> None:
    store = MemoryStateStore()
    mine, theirs = Leases(store, "a"), Leases(store, "b")
    assert await mine.acquire("s", 60)
    assert not await theirs.acquire("s", 60)
    await mine.release("s")
    assert await theirs.acquire("s", -1)  # already expired when taken
    assert await mine.acquire("s", 60)


def test_reload_keeps_the_last_good_registry(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: A\n    url: https://a.example/feed\n")
    poller, _ = _poller(ScriptedFetcher())
    poller.sources_path = path
    poller.reload_if_changed()
    assert [s.name for s in poller.sources] == ["A"]
    path.write_text("sources:\n  - name: A\n    url: nope\n")
    later = path.stat().st_mtime + 10  # an edit within the file system's timestamp resolution looks unchanged
    os.utime(path, (later, later))
    poller.reload_if_changed()
    assert [s.name for s in poller.sources] == ["A"]


async def test_a_page_source_is_submitted_when_it_changed() -> None:
    page_source = SourceConfig.model_validate(
        {"name": "Hill Post front", "url": "https://hill.example/", "kind": "page", "outlet": "Hill Post"}
    )
    html = b"<html><body><p>Front page</p></body></html>"
    fetcher = ScriptedFetcher(FetchResult(url="https://hill.example/", status=200, content=html, etag='"p1"'))
    poller, published = _poller(fetcher)
    await poller.poll(page_source)
    [submission] = published
    assert submission.kind == "html" and submission.content == html.decode()
    assert submission.hints["source"] == "Hill Post" and submission.url == "https://hill.example/"
