"""Key phrases: names and content-word n-grams, scored by frequency and specificity (tf-idf).

A sentence is cut into runs of content words at punctuation, stop words,
numbers and possessives ("Alibaba's Qwen team" gives "Alibaba" and "Qwen
team"). Inside a run, capitalised words form names, kept whole ("Josh
Hazlewood", "Recording Academy"); lower-case stretches give every 1- to
3-word n-gram ("trillion parameters"). A lone surname later in the text
counts for the full name it belongs to ("Vale" for "Odessa Vale"). A
lower-case phrase of several words must occur twice (or in the title).

A phrase scores ``(1 + ln count) * mean idf * length bonus``, with bonuses
for the title and for an early first mention; idf comes from the background
table, so "said" and "company" lose to "trillion parameters" and "DeepSeek".
The best phrases are taken greedily, skipping any that shares a word with
one already taken (singular and plural count as one word), so the list names
different things. Other languages use the stop-word lists of the
``stop-words`` package (``stop_words_for``); their idf still comes from the
English background table, where their words are unseen and score alike, so
frequency and position decide among them. YAKE does similar work at ~24 ms per article
(measured on this project's 2-core machine); this costs about half a millisecond.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from stop_words import LANGUAGE_MAPPING, get_stop_words

from services.enrich.text import STOP_WORDS, Sentence
from shared.background import BackgroundFrequencies

MAX_KEYWORDS = 10
MAX_PHRASE_WORDS = 3
MAX_NAME_WORDS = 4
LENGTH_BONUS = 0.25  # per extra word: "interest rates" beats "rates"
TITLE_BONUS = 0.5
EARLY_BONUS = 0.2  # first mentioned in the opening sentences
EARLY_SENTENCES = 3

# One pass per sentence yields its words and the punctuation a phrase cannot cross (a stop inside
# "U.S." or "1.3" is part of the token; a sentence's final stop needs no break).
_WORDS_AND_BREAKS = re.compile(r"\w+(?:[-'’.]\w+)*|[,;:()\[\]\"“”!?—–/|]|(?<=\s)[-–](?=\s)")
_POSSESSIVE = ("'s", "’s")
# Languages written without spaces between words: a run of \w+ is a whole clause, not a word.
_UNSPACED = frozenset({"zh", "ja"})


@cache
def stop_words_for(language: str) -> frozenset[str] | None:
    """Stop words of an ISO 639-1 language, or None when keywords cannot be extracted in it."""
    if language == "en":
        return STOP_WORDS
    if language not in LANGUAGE_MAPPING or language in _UNSPACED:
        return None
    return frozenset(word.lower() for word in get_stop_words(language))


@dataclass(slots=True)
class _Candidate:
    first_position: int
    surface: str
    is_name: bool
    # Capitals at the start of a sentence say nothing: a later mention decides how to write the phrase.
    seen_only_at_sentence_start: bool
    count: int = 0
    in_title: bool = False


def _runs(text: str, stop_words: frozenset[str]) -> Iterable[tuple[bool, list[str]]]:
    """Runs of content words, as written, each with whether it opens the text."""
    run: list[str] = []
    run_opens_text = opens_text = True
    for item in _WORDS_AND_BREAKS.findall(text):
        if not run:
            run_opens_text = opens_text
        if not item[0].isalnum() and item[0] != "_":
            if run:
                yield run_opens_text, run
            run = []
            continue
        opens_text = False
        possessive = item.endswith(_POSSESSIVE)
        word = item[:-2] if possessive else item
        if len(word) < 2 or word.lower() in stop_words or (word[0].isdigit() and not any(map(str.isalpha, word))):
            if run:
                yield run_opens_text, run
            run = []
            continue
        run.append(word)
        if possessive:
            yield run_opens_text, run
            run = []
    if run:
        yield run_opens_text, run


def _segments(run: list[str], opens_sentence: bool) -> Iterable[tuple[bool, int, list[str]]]:
    """(is a name, offset in the run, words): the run cut where capitalisation changes.

    A sentence's first word is capitalised whatever it is, so it takes the
    case of the word after it ("Shares rose" is not a name, "Alibaba Group" is).
    """
    capitalised = [word[0].isupper() for word in run]
    if opens_sentence and len(run) > 1:
        capitalised[0] = capitalised[1]
    start = 0
    for end in range(1, len(run) + 1):
        if end == len(run) or capitalised[end] != capitalised[start]:
            yield capitalised[start], start, run[start:end]
            start = end


def _phrases(is_name: bool, words: list[str]) -> Iterable[tuple[int, list[str]]]:
    """(offset, words): a name whole, or every 1- to 3-word n-gram of a lower-case stretch."""
    if is_name and len(words) <= MAX_NAME_WORDS:
        yield 0, words
        return
    for size in range(1, min(MAX_PHRASE_WORDS, len(words)) + 1):
        for start in range(len(words) - size + 1):
            yield start, words[start : start + size]


def _singular(word: str) -> str:
    """A crude singular, only to tell that "model" and "models" name one thing."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) else word


class KeywordExtractor:
    def __init__(self, background: BackgroundFrequencies, stop_words: frozenset[str] = STOP_WORDS) -> None:
        self.background = background
        self.stop_words = stop_words

    def extract(self, title: str, sentences: list[Sentence], limit: int = MAX_KEYWORDS) -> list[str]:
        candidates: dict[str, _Candidate] = {}
        for sentence in sentences:
            for opens_sentence, run in _runs(sentence.text, self.stop_words):
                for is_name, segment_offset, words in _segments(run, opens_sentence):
                    for offset, phrase in _phrases(is_name, words):
                        surface = " ".join(phrase)
                        key = surface.lower()
                        at_start = opens_sentence and segment_offset + offset == 0
                        candidate = candidates.get(key)
                        if candidate is None:
                            candidate = candidates[key] = _Candidate(sentence.position, surface, is_name, at_start)
                        elif candidate.seen_only_at_sentence_start and not at_start:
                            candidate.surface, candidate.is_name = surface, is_name
                            candidate.seen_only_at_sentence_start = False
                        candidate.count += 1
        _credit_surnames(candidates)
        title_words = {_singular(word.lower()) for _, run in _runs(title, self.stop_words) for word in run}
        idf: dict[str, float] = {}
        scores = {}
        for key, candidate in candidates.items():
            words = key.split()
            candidate.in_title = all(_singular(word) in title_words for word in words)
            if len(words) > 1 and not candidate.is_name and candidate.count == 1 and not candidate.in_title:
                continue  # a lower-case phrase said once is usually a clause fragment ("bonds edged")
            scores[key] = self._score(words, candidate, idf)
        chosen: list[str] = []
        taken_words: set[str] = set()
        for key in sorted(scores, key=scores.__getitem__, reverse=True):
            words = [_singular(word) for word in key.split()]
            if not taken_words.isdisjoint(words):
                continue
            chosen.append(candidates[key].surface)
            taken_words.update(words)
            if len(chosen) == limit:
                break
        return chosen

    def _score(self, words: list[str], candidate: _Candidate, idf_cache: dict[str, float]) -> float:
        total_idf = 0.0
        for word in words:
            value = idf_cache.get(word)
            if value is None:
                value = idf_cache[word] = self.background.idf(word)
            total_idf += value
        score = (1.0 + math.log(candidate.count)) * (total_idf / len(words)) * (1.0 + LENGTH_BONUS * (len(words) - 1))
        if candidate.in_title:
            score *= 1.0 + TITLE_BONUS
        if candidate.first_position < EARLY_SENTENCES:
            score *= 1.0 + EARLY_BONUS
        return score


def _credit_surnames(candidates: dict[str, _Candidate]) -> None:
    """Fold a one-word name into the commonest longer name ending with it: news names people in full once."""
    full_names: dict[str, str] = {}
    for key, candidate in candidates.items():
        words = key.split()
        if candidate.is_name and len(words) > 1:
            best = full_names.get(words[-1])
            if best is None or candidates[best].count < candidate.count:
                full_names[words[-1]] = key
    for surname, full_name in full_names.items():
        alone = candidates.get(surname)
        if alone is not None and alone.is_name:
            candidates[full_name].count += alone.count
            del candidates[surname]
