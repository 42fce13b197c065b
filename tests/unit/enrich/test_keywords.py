from __future__ import annotations

import pytest

from services.enrich.keywords import KeywordExtractor
from services.enrich.text import Text
from shared.background import BackgroundFrequencies

# A background where everyday news words are common and the story's own words are not.
BACKGROUND = BackgroundFrequencies(
    documents=1000,
    frequencies={"plant": 300, "people": 900, "company": 800, "year": 950, "chips": 40, "customers": 400},
)


@pytest.fixture(scope="module")
def extractor() -> KeywordExtractor:
    return KeywordExtractor(BACKGROUND)


def keywords(extractor: KeywordExtractor, title: str, body: str, limit: int = 10) -> list[str]:
    text = Text(title, body)
    return extractor.extract(text.title, text.content_sentences, limit)


def test_names_and_repeated_phrases_come_first(extractor: KeywordExtractor, samples) -> None:
    found = keywords(extractor, samples.chip_title, samples.chip_body)
    assert found[0] == "Harbourline Semiconductor" or found[0] == "Harbourline"
    assert "Maria Okonkwo" in found  # the full name, credited with the later "Okonkwo"
    assert "Okonkwo" not in found
    assert len(found) == 10


def test_no_stop_words_numbers_or_duplicated_words(extractor: KeywordExtractor, samples) -> None:
    found = keywords(extractor, samples.chip_title, samples.chip_body)
    words = [word.lower() for phrase in found for word in phrase.split()]
    assert len(words) == len(set(words))
    assert not {"said", "the", "and", "would", "per", "cent"} & set(words)
    assert not any(word.isdigit() for word in words)


def test_singular_and_plural_are_one_keyword(extractor: KeywordExtractor) -> None:
    body = "Chip makers sold more chips. The chip shortage eased as chips arrived. Each chip costs less."
    found = [phrase.lower() for phrase in keywords(extractor, "Chips", body)]
    assert sum(phrase in {"chip", "chips"} for phrase in found) == 1


def test_limit_and_empty_text(extractor: KeywordExtractor, samples) -> None:
    assert len(keywords(extractor, samples.chip_title, samples.chip_body, limit=3)) == 3
    assert keywords(extractor, "", "") == []


def test_capitals_at_the_start_of_a_sentence_do_not_decide_the_spelling(extractor: KeywordExtractor) -> None:
    body = (
        "Shares climbed sharply on Monday. Traders bought shares before lunch. Many shares changed hands. "
        "Hazlewood took five wickets. The crowd cheered Hazlewood loudly."
    )
    found = keywords(extractor, "", body)
    assert "shares" in found
    assert "Hazlewood" in found
