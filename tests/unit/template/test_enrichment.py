from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services._template.enrichment import (
    HARDEST_LEVEL,
    LEVELS,
    count_sentences,
    count_syllables,
    level_of,
    readability,
)

LABELS = [label for _, label in LEVELS] + [HARDEST_LEVEL]


@pytest.mark.parametrize(
    ("word", "syllables"),
    [
        ("cat", 1),
        ("make", 1),  # silent e
        ("makes", 1),
        ("jumped", 1),  # silent -ed
        ("wanted", 2),  # but not after t or d
        ("table", 2),  # -le is a syllable
        ("people", 2),
        ("business", 3),
        ("yesterday", 3),  # a leading y is a consonant
        ("communication", 5),
    ],
)
def test_count_syllables_follows_the_dictionary_on_common_words(word: str, syllables: int) -> None:
    assert count_syllables(word) == syllables
    assert count_syllables(word.upper()) == syllables


def test_sentences_end_at_stops_but_not_inside_numbers() -> None:
    assert count_sentences("It rained. Then it stopped! Why? Because") == 4
    assert count_sentences("Shares rose 3.5 percent... Then fell.") == 2
    assert count_sentences("No stop at all") == 1
    assert count_sentences("... !!! ?") == 0


def test_scores_are_flesch_formulas_of_the_counts() -> None:
    # Two sentences, four one-syllable words: the published formulas with 2 words per sentence and 1 syllable per word.
    scores = readability("Cats sat. Dogs ran.")
    assert scores is not None
    assert (scores.sentences, scores.words) == (2, 4)
    assert scores.flesch_reading_ease == round(206.835 - 1.015 * 2 - 84.6 * 1, 1)
    assert scores.flesch_kincaid_grade == round(0.39 * 2 + 11.8 * 1 - 15.59, 1)


def test_plain_text_reads_easier_than_committee_prose(easy_text: str, hard_text: str) -> None:
    easy, hard = readability(easy_text), readability(hard_text)
    assert easy is not None and hard is not None
    assert easy.flesch_reading_ease > hard.flesch_reading_ease
    assert easy.flesch_kincaid_grade < hard.flesch_kincaid_grade
    assert LABELS.index(easy.level) < LABELS.index(hard.level)


def test_repeating_whole_sentences_keeps_the_scores(easy_text: str, hard_text: str) -> None:
    for text in (easy_text, hard_text):
        once, thrice = readability(text), readability(" ".join([text] * 3))
        assert once is not None and thrice is not None
        assert thrice.words == 3 * once.words and thrice.sentences == 3 * once.sentences
        assert (thrice.flesch_reading_ease, thrice.flesch_kincaid_grade) == (
            once.flesch_reading_ease,
            once.flesch_kincaid_grade,
        )


@pytest.mark.parametrize("text", ["", "   ", "2026 - 11 - 20", "... ?!"])
def test_text_without_words_has_no_score(text: str) -> None:
    assert readability(text) is None


def test_levels_follow_fleschs_bands_in_order() -> None:
    bounds = [bound for bound, _ in LEVELS]
    assert bounds == sorted(bounds, reverse=True)
    for bound, label in LEVELS:
        assert level_of(bound) == label
        assert level_of(bound - 0.1) != label
    assert level_of(-50.0) == HARDEST_LEVEL
    assert level_of(150.0) == LEVELS[0][1]


@given(st.text())
def test_any_text_gives_no_score_or_well_typed_finite_scores(text: str) -> None:
    scores = readability(text)
    if scores is None:
        return
    assert scores.words >= 1 and scores.sentences >= 1
    # The index maps a field from its first value's JSON type: scores must stay floats, counts ints.
    assert all(
        isinstance(value, float) and math.isfinite(value)
        for value in (scores.flesch_reading_ease, scores.flesch_kincaid_grade)
    )
    assert isinstance(scores.words, int) and isinstance(scores.sentences, int)
    assert scores.level in LABELS
