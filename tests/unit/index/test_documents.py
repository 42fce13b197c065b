"""The indexed document's shape and version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.index.documents import MAX_SPANS_INDEXED, document_version, to_document
from shared.signature import BANDS, band_keys
from tests.factories import entity, linked, signature


def test_flat_copies_dates_and_cluster() -> None:
    acme = entity("Q1", "Acme Corp", "acme").model_copy(update={"spans": [(i, i + 4) for i in range(0, 80, 8)]})
    article = linked(
        "a1",
        topics=("technology/artificial-intelligence", "business"),
        entities=(acme, entity("Q2", "Berlin", kind="LOC"), acme),
    )
    document = to_document(article, cluster_id="story-1")
    assert document["entity_ids"] == ["Q1", "Q2"]
    assert document["entity_handles"] == ["acme", "berlin"]
    assert document["entity_names"] == ["Acme Corp", "Berlin"]
    assert document["topic_keys"] == ["technology/artificial-intelligence", "business"]
    assert document["primary_topic"] == "technology/artificial-intelligence"
    assert len(document["entities"][0]["spans"]) == MAX_SPANS_INDEXED
    assert len(article.entities[0].spans) == 10  # the message keeps them all
    assert document["cluster_id"] == "story-1"
    assert "event" not in document


def test_dated_at_is_the_publication_date_or_else_the_ingest_date() -> None:
    published = datetime(2026, 3, 1, 8, tzinfo=UTC)
    ingested = datetime(2026, 3, 2, 9, tzinfo=UTC)
    dated = to_document(linked("p", published_at=published, ingested_at=ingested), "p")["dated_at"]
    undated = to_document(linked("u", ingested_at=ingested), "u")["dated_at"]
    assert datetime.fromisoformat(dated) == published
    assert datetime.fromisoformat(undated) == ingested


def test_a_later_ingest_has_a_higher_version() -> None:
    moment = datetime(2026, 3, 2, 9, tzinfo=UTC)
    earlier = linked("v", ingested_at=moment)
    later = linked("v", ingested_at=moment + timedelta(microseconds=1))
    assert document_version(later) == document_version(earlier) + 1


def test_the_document_keeps_the_packed_minhash_and_gets_the_band_keys_derived_from_it() -> None:
    story = signature(3)
    document = to_document(linked("s", story_signature=story), "s")
    assert document["signature"]["minhash"] == story.minhash
    assert document["signature"]["lsh_bands"] == band_keys(story.values)
    assert len(set(document["signature"]["lsh_bands"])) == BANDS
    assert to_document(linked("u"), "u")["signature"] is None


def test_an_article_in_a_localized_language_gets_its_own_analysed_copy() -> None:
    french = to_document(linked("fr-1", language="fr"), cluster_id="c1")
    assert french["localized"] == {"fr": {"title": french["title"], "body": french["body"]}}
    assert "localized" not in to_document(linked("en-1", language="en"), cluster_id="c2")
