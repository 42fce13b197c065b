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
# A claim is the submission that made it and the article it produced.
_SEPARATOR = b"\x00"


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

    async def earlier_copy(self, article: ArticleFields, submission_id: str) -> str | None:
        """None when this submission is the first to bring the article (and it is now recorded);
        else the id of the article that came first ("" when an older record does not say)."""
        claim = submission_id.encode() + _SEPARATOR + article.article_id.encode()
        keys = dedupe_keys(article)
        for key in keys:
            if (earlier := await self._claimed_by_another(key, submission_id)) is not None:
                return earlier
        for key in keys:
            # Another replica may claim the same key between the check and here.
            created = await self.store.create(key, claim)
            if not created and (earlier := await self._claimed_by_another(key, submission_id)) is not None:
                return earlier
        return None

    async def _claimed_by_another(self, key: str, submission_id: str) -> str | None:
        found = await self.store.get(key)
        if found is None:
            return None
        owner, _, first_article = found[0].partition(_SEPARATOR)
        return None if owner == submission_id.encode() else first_article.decode()


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()
