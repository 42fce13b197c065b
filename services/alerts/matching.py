"""The alerts stage's pure part: the percolate request for a batch, what its answer means, and the
``AlertMatched`` each match becomes. No I/O, so it is tested on plain dictionaries."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.messages import AlertMatched, Source
from shared.search.alerts import SavedSearch, matched_fields
from shared.search.queries import STORY_FIELD

# What an alert's reader sees of why its text matched: the title and summary, highlighted. Not the body:
# highlighting it for every (alert, article) match made the percolate request 2.5 times as long
# (bench/alerts_speed.py, 1,000 saved searches), and `matched` already names the filter values.
HIGHLIGHT = {"fields": {"title": {"number_of_fragments": 0}, "summary": {"number_of_fragments": 0}}}
# NATS KV keys and message ids take these characters; any other id is hashed into them.
_SAFE = re.compile(r"[A-Za-z0-9_-]{1,100}")
# Alerts per page of the percolate answer: OpenSearch's result window. Each further page runs the whole
# percolation again (candidates, verification), so a batch should fit in one.
PERCOLATE_PAGE = 10_000


@dataclass(frozen=True)
class Match:
    alert: SavedSearch
    slot: int  # the article's position among the percolated documents
    highlights: dict[str, list[str]] = field(default_factory=dict)


def percolate_body(
    documents: Sequence[Mapping[str, Any]], after: list[Any] | None = None, highlights: bool = True
) -> dict[str, Any]:
    """One percolate search for a whole batch of articles: every alert that matches any of them,
    a page at a time in alert id order, with the slots of the articles each one matched."""
    body: dict[str, Any] = {
        "size": PERCOLATE_PAGE,
        "query": {"percolate": {"field": "query", "documents": list(documents)}},
        "sort": [{"alert_id": "asc"}],
        "_source": ["alert"],
    }
    if highlights:
        body["highlight"] = HIGHLIGHT
    if after is not None:
        body["search_after"] = after
    return body


def parse_matches(response: Mapping[str, Any]) -> tuple[list[Match], list[Any] | None]:
    """The (alert, article slot) matches of one page, and where the next page starts (None: this was the last)."""
    hits = response["hits"]["hits"]
    matches: list[Match] = []
    for hit in hits:
        alert = SavedSearch.model_validate(hit["_source"]["alert"])
        # With several documents, highlights are keyed "<slot>_<field>".
        highlights: dict[int, dict[str, list[str]]] = {}
        for key, passages in hit.get("highlight", {}).items():
            slot, _, name = key.partition("_")
            if slot.isdigit():
                highlights.setdefault(int(slot), {})[name] = list(passages)
        for slot in hit["fields"]["_percolator_document_slot"]:
            matches.append(Match(alert, int(slot), highlights.get(int(slot), {})))
    after = hits[-1]["sort"] if len(hits) == PERCOLATE_PAGE else None
    return matches, after


def safe_token(value: str) -> str:
    return value if _SAFE.fullmatch(value) else hashlib.blake2b(value.encode(), digest_size=12).hexdigest()


def fired_key(alert: SavedSearch, document: Mapping[str, Any]) -> str:
    """The ledger entry that records which alerts fired for this match: the story's for a once-per-story
    alert, else the article's. One entry holds every alert of its article (or story), so a batch costs one
    claim per article, not one per (alert, article) pair."""
    if alert.once_per_story:
        return f"story.{safe_token(story_of(document))}"
    return f"article.{safe_token(str(document['article_id']))}"


def claimant(document: Mapping[str, Any]) -> str:
    """The article version that claims a match: a redelivery of it publishes again (JetStream drops the
    copy), a later version (re-ingested, updated) or another member of the story does not."""
    return f"{document['article_id']}@{document.get('ingested_at')}"


def claim(fired: dict[str, str], wanted: Sequence[tuple[str, str]]) -> tuple[list[int], bool]:
    """Which of ``wanted`` (alert id, claimant) pairs, in arrival order, are to be published, given ``fired``
    (alert id -> the claimant that fired it, updated in place); and whether ``fired`` changed."""
    publish: list[int] = []
    changed = False
    for position, (alert_id, by) in enumerate(wanted):
        if alert_id not in fired:
            fired[alert_id] = by
            changed = True
        if fired[alert_id] == by:
            publish.append(position)
    return publish, changed


def message_id(alert: SavedSearch, article_id: str) -> str:
    """The ``Nats-Msg-Id`` of the match: JetStream drops a second publish of it within its duplicate window."""
    return f"alert:{alert.alert_id}:{article_id}"


def story_of(document: Mapping[str, Any]) -> str:
    return str(document.get(STORY_FIELD) or document["article_id"])


def alert_matched(match: Match, document: Mapping[str, Any]) -> AlertMatched:
    return AlertMatched(
        alert_id=match.alert.alert_id,
        alert_name=match.alert.name,
        article_id=str(document["article_id"]),
        story_id=story_of(document),
        title=str(document.get("title", "")),
        url=document.get("url"),
        source=Source.model_validate(document.get("source") or {"name": ""}),
        published_at=document.get("published_at"),
        matched=matched_fields(match.alert, document),
        highlights=match.highlights,
    )
