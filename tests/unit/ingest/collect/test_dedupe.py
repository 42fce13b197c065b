from __future__ import annotations

from services.ingest.collect.dedupe import Deduplicator, dedupe_keys
from services.ingest.collect.state import MemoryStateStore
from shared.messages import ArticleIngested, Source


def _article(body: str, url: str | None = None, article_id: str = "x") -> ArticleIngested:
    return ArticleIngested(
        article_id=article_id, title="t", body=body, url=url, canonical_url=url, source=Source(name="s")
    )


async def test_same_url_or_same_normalised_text_is_a_duplicate_of_the_first() -> None:
    dedupe = Deduplicator(MemoryStateStore())
    assert await dedupe.earlier_copy(_article("A tram line opens.", "https://a.example/1", "first"), "s1") is None
    assert await dedupe.earlier_copy(_article("Different text.", "https://a.example/1", "b"), "s2") == "first"
    assert await dedupe.earlier_copy(_article("a TRAM line — opens!", "https://b.example/2", "c"), "s3") == "first"
    assert await dedupe.earlier_copy(_article("A bus line opens.", "https://b.example/3", "d"), "s4") is None


async def test_the_first_submission_passes_again_on_redelivery() -> None:
    dedupe = Deduplicator(MemoryStateStore())
    article = _article("A tram line opens.", "https://a.example/1")
    assert await dedupe.earlier_copy(article, "s1") is None
    assert await dedupe.earlier_copy(article, "s1") is None


def test_keys_are_valid_kv_keys() -> None:
    keys = dedupe_keys(_article("Some text", "https://a.example/päth?q=1"))
    assert len(keys) == 2
    assert all(key.replace(".", "").replace("-", "").replace("_", "").isalnum() for key in keys)


async def test_memory_store_compare_and_set() -> None:
    store = MemoryStateStore()
    assert await store.create("k", b"1")
    assert not await store.create("k", b"2")
    found = await store.get("k")
    assert found is not None
    assert not await store.update("k", b"3", found[1] + 1)
    assert await store.update("k", b"3", found[1])
    assert (await store.get("k") or (b"", 0))[0] == b"3"
