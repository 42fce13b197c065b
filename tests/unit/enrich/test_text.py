from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrich.text import ANALYSED_CHARS, Text, looks_like_prose, split_sentences, strip_dateline, tokenize


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("Mr. Reyes spoke first. Then Dr. Okafor replied.", ["Mr. Reyes spoke first.", "Then Dr. Okafor replied."]),
        ("Revenue rose 18.5 per cent. Costs fell.", ["Revenue rose 18.5 per cent.", "Costs fell."]),
        ("The U.S. plant opens in May. It employs 900.", ["The U.S. plant opens in May.", "It employs 900."]),
        ("Talks with the U.S. Treasury went well.", ["Talks with the U.S. Treasury went well."]),
        ("It was written by J. K. Rowling in Edinburgh.", ["It was written by J. K. Rowling in Edinburgh."]),
        (
            "The vote is on Nov. 3 in the capital. Polls open early.",
            ["The vote is on Nov. 3 in the capital.", "Polls open early."],
        ),
        ('"We are ready," she said. "Are you?" he asked.', ['"We are ready," she said.', '"Are you?" he asked.']),
        ("Is it over? Not yet! Wait for it.", ["Is it over?", "Not yet!", "Wait for it."]),
    ],
)
def test_split_sentences_keeps_abbreviations_initials_and_decimals(paragraph: str, expected: list[str]) -> None:
    assert split_sentences(paragraph) == expected


@given(st.text(max_size=300))
def test_split_sentences_loses_no_words(paragraph: str) -> None:
    assert tokenize(" ".join(split_sentences(paragraph))) == tokenize(paragraph)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("HONG KONG — Two labs are racing.", "Two labs are racing."),
        ("LONDON (Reuters) - Shares fell on Monday.", "Shares fell on Monday."),
        ("WASHINGTON, Nov 3 (AP) — The vote was close.", "The vote was close."),
        ("ANTALYA, Turkey — The summit opened.", "The summit opened."),
        ("Hong Kong (Global Wire) - Prices rose.", "Prices rose."),
        ("(Global Wire) - Prices rose.", "Prices rose."),
        ("Nov 3, 2026 — The plant opened.", "The plant opened."),
        ("3 November 2026 - The plant opened.", "The plant opened."),
    ],
)
def test_strip_dateline(sentence: str, expected: str) -> None:
    assert strip_dateline(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "Apple - the company - said it would wait.",
        "Prices rose 3 per cent in October.",
        "NASA said the launch would slip to May.",
    ],
)
def test_strip_dateline_leaves_ordinary_sentences_alone(sentence: str) -> None:
    assert strip_dateline(sentence) == sentence


@pytest.mark.parametrize(
    "line",
    [
        "🔗 Share  💬 Comment  ⭐ Save",
        "Home › Tech › Chips",
        "By Staff Writer · 3 min read",
        "Subscribe to our newsletter for daily chip news.",
        "Sign in to read the full story today.",
        "Related Stories You Might Have Missed Today.",
        "read 2 min",
        "See https://example.test/story for the full report.",
    ],
)
def test_padding_lines_are_not_prose(line: str) -> None:
    tokens = tokenize(line)
    assert not looks_like_prose(line, tokens, [token.lower() for token in tokens])


def test_article_sentences_are_prose() -> None:
    line = "The plant will employ about 1,800 people when it reaches full output in 2028."
    tokens = tokenize(line)
    assert looks_like_prose(line, tokens, [token.lower() for token in tokens])


def test_text_drops_datelines_and_flags_padding(samples) -> None:
    text = Text(samples.chip_title, samples.padded_body)
    assert text.prose[0].text.startswith("Harbourline Semiconductor opened")
    prose = " ".join(sentence.text for sentence in text.prose)
    assert "Subscribe" not in prose and "Share" not in prose and "COLUMBUS" not in prose
    assert len(text.prose) < len(text.sentences)
    assert text.content_tokens == [token for sentence in text.prose for token in sentence.lower]
    assert len(text.content_surface) == len(text.content_tokens)


def test_text_without_prose_falls_back_to_every_sentence() -> None:
    text = Text("Scores", "Arsenal 2 Chelsea 1\nLeeds 0 Everton 0")
    assert not text.prose
    assert text.content_tokens == ["arsenal", "2", "chelsea", "1", "leeds", "0", "everton", "0"]


@pytest.mark.parametrize("filler", ["word ", "longerword\n"])
def test_word_count_covers_a_body_longer_than_the_analysed_part(filler: str) -> None:
    repeats = ANALYSED_CHARS // len(filler) * 3 + 7
    text = Text("Long", filler * repeats)
    assert len(text.body) <= ANALYSED_CHARS
    assert text.word_count == repeats
