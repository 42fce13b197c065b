"""The alerts stage's pure part: one percolate request per batch and what its answer means."""

from __future__ import annotations

from typing import Any

from services.alerts.matching import (
    PERCOLATE_PAGE,
    Match,
    alert_matched,
    claim,
    claimant,
    fired_key,
    message_id,
    parse_matches,
    percolate_body,
)
from shared.search.alerts import SavedSearch

ALERT = SavedSearch(alert_id="al-1", name="chips", text="chip", filters={"sentiment": ["negative"]})


def hit(alert: SavedSearch, slots: list[int], highlight: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {
        "_source": {"alert": alert.model_dump(mode="json")},
        "fields": {"_percolator_document_slot": slots},
        "highlight": highlight or {},
        "sort": [alert.alert_id],
    }


def test_one_request_percolates_the_whole_batch() -> None:
    documents = [{"article_id": "a"}, {"article_id": "b"}]
    body = percolate_body(documents)
    assert body["query"] == {"percolate": {"field": "query", "documents": documents}}
    assert "search_after" not in body
    assert percolate_body(documents, after=["al-9"])["search_after"] == ["al-9"]
    assert "highlight" not in percolate_body(documents, highlights=False)


def test_each_matched_slot_is_a_match_with_its_own_highlights() -> None:
    other = SavedSearch(alert_id="al-2", name="all")
    answer = {
        "hits": {
            "hits": [
                hit(ALERT, [0, 2], {"0_title": ["<em>chip</em> news"], "2_body": ["a <em>chip</em>"]}),
                hit(other, [1]),
            ]
        }
    }
    matches, after = parse_matches(answer)
    assert [(m.alert.alert_id, m.slot) for m in matches] == [("al-1", 0), ("al-1", 2), ("al-2", 1)]
    assert matches[0].highlights == {"title": ["<em>chip</em> news"]}
    assert matches[1].highlights == {"body": ["a <em>chip</em>"]}
    assert matches[2].highlights == {}
    assert after is None  # a short page is the last


def test_a_full_page_says_where_the_next_starts() -> None:
    answer = {"hits": {"hits": [hit(ALERT, [0])] * PERCOLATE_PAGE}}
    assert parse_matches(answer)[1] == ["al-1"]


def test_once_per_story_keys_on_the_story_and_otherwise_on_the_article() -> None:
    first = {"article_id": "a1", "story_id": "story-9"}
    second = {"article_id": "a2", "story_id": "story-9"}
    per_story = ALERT.model_copy(update={"once_per_story": True})
    assert fired_key(per_story, first) == fired_key(per_story, second)
    assert fired_key(ALERT, first) != fired_key(ALERT, second)
    # One entry per article (or story) whatever the alert: a batch claims once per article.
    assert fired_key(ALERT, first) == fired_key(ALERT.model_copy(update={"alert_id": "al-2"}), first)
    assert message_id(ALERT, "a1") == "alert:al-1:a1"


def test_keys_stay_in_the_kv_alphabet_whatever_the_ids() -> None:
    key = fired_key(ALERT, {"article_id": "weird id/with:chars", "story_id": None})
    assert all(part.replace("-", "").replace("_", "").isalnum() for part in key.split("."))


def test_the_event_carries_the_article_and_why_it_matched() -> None:
    document = {
        "article_id": "a1",
        "story_id": "story-9",
        "title": "Chip glut",
        "url": "https://news.example.test/a1",
        "source": {"name": "Harbour Wire", "verified": True},
        "published_at": "2026-11-30T08:00:00+00:00",
        "sentiment": {"label": "negative"},
    }
    event = alert_matched(Match(ALERT, 0, {"title": ["<em>Chip</em> glut"]}), document)
    assert (event.alert_id, event.article_id, event.story_id, event.title) == ("al-1", "a1", "story-9", "Chip glut")
    assert event.url == document["url"] and event.source.name == "Harbour Wire"
    assert event.matched == {"sentiment.label": ["negative"]}
    assert event.highlights == {"title": ["<em>Chip</em> glut"]}


def test_a_claim_fires_each_alert_once_per_entry_and_lets_its_claimant_publish_again() -> None:
    first = claimant({"article_id": "a1", "ingested_at": "t1"})
    later_version = claimant({"article_id": "a1", "ingested_at": "t2"})
    fired: dict[str, str] = {}
    assert claim(fired, [("x", first), ("y", first)]) == ([0, 1], True)
    assert fired == {"x": first, "y": first}
    assert claim(fired, [("x", first), ("y", first)]) == ([0, 1], False)  # a redelivery publishes again
    # The re-ingested article fires only the alert that had not fired for it.
    assert claim(fired, [("x", later_version), ("z", later_version)]) == ([1], True)
    assert fired == {"x": first, "y": first, "z": later_version}


def test_in_a_story_entry_the_first_member_claims_and_the_later_fold() -> None:
    members = [claimant({"article_id": article, "ingested_at": "t"}) for article in ("b1", "b2")]
    fired: dict[str, str] = {}
    assert claim(fired, [("story", members[0]), ("story", members[1])]) == ([0], True)
    assert claim(fired, [("story", members[1])]) == ([], False)
