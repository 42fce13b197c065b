from __future__ import annotations

from collections.abc import Generator

import pytest

from services.ingest.collect.dedupe import Deduplicator, dedupe_keys
from services.ingest.collect.state import MemoryStateStore, resolve_now
from shared.messages import ArticleIngested, Source


def _article(body: str, url: str | None = None) -> ArticleIngested:
    return ArticleIngested(article_id="x", title="t", body=body, url=url, canonical_url=url, source=Source(name="s"))


def test_same_url_or_same_normalised_text_is_a_duplicate() -> None:
    dedupe = Deduplicator(MemoryStateStore())
    assert resolve_now(dedupe.first_seen(_article("A tram line opens.", "https://a.example/1"), "s1"))
    assert not resolve_now(dedupe.first_seen(_article("Different text.", "https://a.example/1"), "s2"))
    assert not resolve_now(dedupe.first_seen(_article("a TRAM line — opens!", "https://b.example/2"), "s3"))
    assert resolve_now(dedupe.first_seen(_article("A bus line opens.", "https://b.example/3"), "s4"))


def test_the_first_submission_passes_again_on_redelivery() -> None:
    dedupe = Deduplicator(MemoryStateStore())
    article = _article("A tram line opens.", "https://a.example/1")
    assert resolve_now(dedupe.first_seen(article, "s1"))
    assert resolve_now(dedupe.first_seen(article, "s1"))


def test_keys_are_valid_kv_keys() -> None:
    keys = dedupe_keys(_article("Some text", "https://a.example/päth?q=1"))
    assert len(keys) == 2
    assert all(key.replace(".", "").replace("-", "").replace("_", "").isalnum() for key in keys)


class _Suspends:
    def __await__(self) -> Generator[None, None, None]:
        yield None


async def _waits() -> None:
    await _Suspends()


def test_resolve_now_refuses_a_coroutine_that_waits() -> None:
    with pytest.raises(RuntimeError, match="suspended"):
        resolve_now(_waits())


async def test_memory_store_compare_and_set() -> None:
    store = MemoryStateStore()
    assert await store.create("k", b"1")
    assert not await store.create("k", b"2")
    found = await store.get("k")
    assert found is not None
    assert not await store.update("k", b"3", found[1] + 1)
    assert await store.update("k", b"3", found[1])
    assert (await store.get("k") or (b"", 0))[0] == b"3"
