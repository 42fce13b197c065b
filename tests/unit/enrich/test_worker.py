from __future__ import annotations

import time
from typing import Any

import pytest

from services.enrich.app import EnrichWorker, create_worker
from services.enrich.enrichers import REGISTRY, UNSUPPORTED, Resources, build_enrichers
from services.enrich.settings import EnrichSettings
from services.enrich.text import Text, tokenize
from shared.messages import ArticleEnriched, EnrichedFields


def test_process_fills_every_enriched_field(worker: EnrichWorker, samples) -> None:
    [enriched] = worker.process(samples.article())
    assert isinstance(enriched, ArticleEnriched)
    assert {"language", "sentiment", "topics", "keywords"} <= set(worker.field_sources)
    assert (enriched.language, enriched.word_count) == ("en", len(tokenize(samples.chip_body)))
    assert enriched.reading_time_minutes >= 1
    assert enriched.sentiment is not None and -1 <= enriched.sentiment.score <= 1
    assert enriched.topics[0].key == "technology"
    assert 1 <= len(enriched.keywords) <= 10
    assert enriched.summary and len(enriched.summary.split()) <= 60
    assert 3 <= len(enriched.takeaways) <= 5
    assert enriched.signature is not None and enriched.signature.band_keys
    # The message survives the wire.
    assert ArticleEnriched.model_validate_json(enriched.model_dump_json()) == enriched


def test_every_enricher_returns_only_contract_fields(resources: Resources, samples) -> None:
    text = Text(samples.chip_title, samples.chip_body)
    owners: dict[str, str] = {}
    for enricher in build_enrichers(resources):
        fields = enricher.enrich(text)
        assert set(fields) <= set(EnrichedFields.model_fields), enricher.name
        for field in fields:
            assert field not in owners, f"{field} is written by {owners[field]} and {enricher.name}"
            owners[field] = enricher.name
    # unsupported_language is the one field every enricher may add to (the worker merges the lists).
    assert set(owners) == set(EnrichedFields.model_fields) - {UNSUPPORTED}


def test_a_new_enricher_is_one_class_and_one_list_entry(resources: Resources, samples) -> None:
    class Shouting:
        name = "shouting"

        def __init__(self, resources: Resources) -> None:
            pass

        def enrich(self, text: Text) -> dict[str, Any]:
            return {"keywords": [word for word in text.title_surface if word.isupper()]}

    worker = EnrichWorker([*build_enrichers(resources), Shouting(resources)], resources)
    [enriched] = worker.process(samples.article())
    assert enriched.keywords == ["AI"]
    assert len(REGISTRY) == len(build_enrichers(resources))


@pytest.mark.parametrize("body", ["", "   \n\n  ", "Hello", "!!! ??? ...", "🔗 Share  💬 Comment  ⭐ Save"])
def test_empty_or_tiny_bodies_give_valid_empty_fields(worker: EnrichWorker, samples, body: str) -> None:
    [enriched] = worker.process(samples.article(title="Untitled", body=body))
    assert enriched.reading_time_minutes == 1
    assert enriched.summary is None and enriched.takeaways == []
    assert enriched.signature is None
    assert enriched.sentiment is None


def test_a_german_body_gets_german_sentiment_topics_and_keywords(worker: EnrichWorker, samples) -> None:
    [enriched] = worker.process(samples.article(title="Neue Radwege", body=samples.german_body))
    assert enriched.language == "de"
    assert enriched.unsupported_language == []
    assert enriched.sentiment is not None and enriched.keywords
    assert not {"die", "der", "und"} & {keyword.lower() for keyword in enriched.keywords}
    assert enriched.summary and enriched.summary.startswith("Die Stadtverwaltung")
    assert enriched.signature is not None


SWEDISH_BODY = (
    "Kommunen bygger en ny gång- och cykelbro över ån till hösten. Bron ska vara klar innan skolan börjar "
    "och den gamla bron rivs nästa år. Invånarna har länge önskat en säkrare väg till centrum."
)


def test_an_enrichment_without_the_language_says_so_instead_of_guessing(worker: EnrichWorker, samples) -> None:
    [enriched] = worker.process(samples.article(title="Ny bro över ån", body=SWEDISH_BODY))
    assert enriched.language == "sv"
    assert enriched.unsupported_language == ["sentiment", "topics"]
    assert enriched.sentiment is None and enriched.topics == []
    assert enriched.keywords  # Swedish stop words are known


def test_a_five_megabyte_body_is_enriched_in_bounded_time(worker: EnrichWorker, samples) -> None:
    paragraph = samples.chip_body + "\n\n"
    body = paragraph * (5_000_000 // len(paragraph) + 1)
    started = time.perf_counter()
    [enriched] = worker.process(samples.article(body=body))
    elapsed = time.perf_counter() - started
    assert enriched.word_count == len(tokenize(samples.chip_body)) * (5_000_000 // len(paragraph) + 1)
    assert enriched.summary and "technology" in {topic.key for topic in enriched.topics}
    assert elapsed < 10  # whole-body work is one regex count; the rest reads a bounded opening


def test_language_hint_is_used_when_the_text_cannot_tell(worker: EnrichWorker, samples) -> None:
    [enriched] = worker.process(samples.article(body="OK", language_hint="en"))
    assert (enriched.language, enriched.language_confidence) == ("en", None)


def test_create_worker_uses_the_settings_paths(samples) -> None:
    worker = create_worker(EnrichSettings())
    assert [enricher.name for enricher in worker.enrichers] == [cls.name for cls in REGISTRY]
    assert worker.process(samples.article())[0].topics
