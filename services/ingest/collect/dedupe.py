"""Exact duplicates: an article whose canonical URL, or whose normalised text, was already ingested.

Each key is claimed in the state store by the submission that first produced it.
The same submission coming back (a redelivery after a failed publish) finds its
own claim and goes through again, so a retry is never mistaken for a duplicate.
Near-duplicates (the same story retold) are the enrich stage's clustering.
"""

from __future__ import annotations

import hashlib

from services.ingest.collect.state import StateStore
from shared.ids import normalised_text
from shared.messages import ArticleFields

_PREFIX = "seen"


def dedupe_keys(article: ArticleFields) -> list[str]:
    keys = []
    if article.canonical_url:
        keys.append(f"{_PREFIX}.url.{_digest(article.canonical_url)}")
    text = normalised_text(article.body)
    if text:
        keys.append(f"{_PREFIX}.text.{_digest(text)}")
    return keys


class Deduplicator:
    def __init__(self, store: StateStore) -> None:
        self.store = store

    async def first_seen(self, article: ArticleFields, submission_id: str) -> bool:
        """True when this submission is the first to bring the article (and it is now recorded)."""
        owner = submission_id.encode()
        keys = dedupe_keys(article)
        for key in keys:
            if not await self._is_mine_or_free(key, owner):
                return False
        for key in keys:
            # Another replica may claim the same key between the check and here.
            if not await self.store.create(key, owner) and not await self._is_mine_or_free(key, owner):
                return False
        return True

    async def _is_mine_or_free(self, key: str, owner: bytes) -> bool:
        found = await self.store.get(key)
        return found is None or found[0] == owner


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()
