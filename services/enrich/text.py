"""Shared text analysis: tokens and sentences computed once per article, read by every enricher.

Sentence splitting is a regular expression over candidate boundaries plus a
few checks for abbreviations ("Mr.", "U.S.", "Nov. 3", initials); decimals
never split because a boundary needs whitespace after the stop. pysbd does
this more thoroughly but costs ~12 ms per article (measured here), four
times this stage's whole budget.

A sentence is flagged ``prose`` when it reads like article text rather than
site furniture (share bars, breadcrumbs, "read 2 min", sign-up prompts);
extractive fields (summary, takeaways, keywords, signature) only use prose,
so padding that slipped past ingest never becomes a summary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

from services.enrich.language import LanguageGuess, detect_language
from shared.messages import ArticleFields

# Bodies far longer than any news article (ingest allows up to 400k characters)
# are analysed on their opening only, so one huge document costs a bounded time.
ANALYSED_CHARS = 60_000


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string (long word lists stay readable)."""
    return frozenset(words.split())


TOKEN = re.compile(r"\w+(?:[-'’.]\w+)*")


def _load_stop_words(path: Path) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return word_set(" ".join(line for line in lines if not line.startswith("#")))


# Function words, reporting verbs and calendar words (English): never keywords, no weight in centrality.
STOP_WORDS = _load_stop_words(Path(__file__).with_name("stopwords_en.txt"))

# A candidate sentence end: stops, optional closing quotes or brackets, whitespace,
# then something that can open a sentence.
_BOUNDARY = re.compile(r"[.!?…]+[\"”’»)\]]*\s+(?=[\"“‘«(\[]?[A-Z0-9])")

_ABBREVIATIONS = word_set(
    "mr mrs ms dr prof st sr jr gen col lt sgt capt cmdr adm gov sen rep rev hon inc ltd co corp plc bros "
    "dept est approx vs etc fig al e.g i.e a.m p.m"
)
# "Nov. 3", "No. 10": these only continue the sentence before a number.
_BEFORE_NUMBER = word_set("jan feb mar apr jun jul aug sep sept oct nov dec no nos vol art")
_DOTTED_ACRONYM = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$")
# After "U.S." a new sentence usually starts with one of these; anything else continues it.
_SENTENCE_OPENERS = word_set(
    "The A An It Its He She They We I This That These Those There But And In On At For As If When While "
    "After Before His Her Their Our Shares Officials"
)

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_DATE = rf"(?:{_MONTH}\s+\d{{1,2}}(?:,?\s+\d{{4}})?|\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}})"
# "WASHINGTON", "HONG KONG", "ANTALYA, Turkey"
_CAPS_PLACE = r"[A-Z][A-Z.'’-]+(?:[ ,]+[A-Z][A-Z.'’-]+)*(?:,\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)?"
_AGENCY = r"\([^()]{1,40}\)"
_TITLE_PLACE = r"[A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,3}"
# "HONG KONG —", "LONDON, Nov 3 (Reuters) -", "Hong Kong (Reuters) -", "(Global Wire) -", "Nov 3, 2026 —".
DATELINE = re.compile(
    rf"^(?:{_CAPS_PLACE}(?:,?\s+{_DATE})?(?:\s*{_AGENCY})?"
    rf"|{_TITLE_PLACE}(?:,?\s+{_DATE})?\s*{_AGENCY}"
    rf"|{_AGENCY}"
    rf"|{_DATE})"
    r"\s*(?:[—–]|--?)\s+"
)

# Characters that appear in site furniture (share bars, breadcrumbs, teaser lists) and not in prose.
_CHROME = re.compile(r"[|·•▸►›»«■●★☆✓✔→←↑↓#@]|[\u2500-\u259f]|[\U0001f000-\U0001faff]|[\u2600-\u27bf]|https?://|www\.")
# Words and word pairs of site furniture ("Sign in", "3 min read", "TL;DR", "Key takeaways"), lower-cased.
_PADDING_WORDS = word_set("subscribe newsletter advertisement sponsored cookies login")
_PADDING_PAIRS = frozenset(
    tuple(pair.split("+"))
    for pair in word_set("sign+in log+in read+more min+read key+takeaways click+here share+this follow+us tl+dr")
)
_TERMINAL = re.compile(r"[.!?…][\"”’»)\]]*$")
MIN_PROSE_WORDS = 5


class Sentence(NamedTuple):  # a tuple: built ~20 times per article, cheaper than a frozen dataclass
    text: str  # without its dateline
    tokens: tuple[str, ...]  # as written
    lower: tuple[str, ...]
    position: int  # index among all sentences of the body
    prose: bool
    dateline_words: int  # words of the dateline stripped from its start

    @property
    def word_count(self) -> int:
        return len(self.tokens)


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(text)


def strip_dateline(text: str) -> str:
    match = DATELINE.match(text)
    return text[match.end() :] if match else text


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences, keeping abbreviations, initials and decimals intact."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        if not _ends_sentence(paragraph, start, match):
            continue
        sentence = paragraph[start : match.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def _ends_sentence(paragraph: str, start: int, match: re.Match[str]) -> bool:
    stop = match.group(0)
    if not stop.startswith(".") or stop.startswith(".."):
        return True  # "!", "?", "…" and ellipses always end a sentence here
    word_start = max(paragraph.rfind(" ", start, match.start()), paragraph.rfind("\n", start, match.start())) + 1
    word = paragraph[word_start : match.start()].lstrip("\"“‘'([")
    following = paragraph[match.end() :].lstrip('"“‘«([')
    next_word = following.split(" ", 1)[0] if following else ""
    lowered = word.lower()
    if lowered in _ABBREVIATIONS:
        return False
    if lowered in _BEFORE_NUMBER and next_word[:1].isdigit():
        return False
    if len(word) == 1 and word.isupper():
        return False  # an initial: "J. K. Rowling"
    if _DOTTED_ACRONYM.match(word):
        return next_word.rstrip(",") in _SENTENCE_OPENERS
    return True


def looks_like_prose(sentence: str, tokens: Sequence[str], lower: Sequence[str]) -> bool:
    """True for sentences of article text; False for padding-like lines a site wraps around it."""
    if len(tokens) < MIN_PROSE_WORDS or not _TERMINAL.search(sentence) or _CHROME.search(sentence):
        return False
    if not _PADDING_WORDS.isdisjoint(lower) or any(pair in _PADDING_PAIRS for pair in pairwise(lower)):
        return False
    letters = sum(map(str.isalpha, sentence))
    if letters < 0.6 * len(sentence):
        return False
    capitalised = sum(token[0].isupper() for token in tokens)
    return capitalised <= 0.6 * len(tokens)  # Title Case Teaser Lines are not sentences


def _opening(body: str, limit: int) -> str:
    """The body's first ``limit`` characters, cut at whitespace so that no word is split."""
    if len(body) <= limit:
        return body
    cut = max(body.rfind(" ", 0, limit), body.rfind("\n", 0, limit))
    return body[: cut if cut > 0 else limit]


class Text:
    """One article as the enrichers see it: title, sentences and tokens, computed once."""

    def __init__(self, title: str, body: str, language_hint: str | None = None) -> None:
        self.title = title
        self.full_body = body
        self.body = _opening(body, ANALYSED_CHARS)
        self.language_hint = language_hint

    @classmethod
    def of(cls, article: ArticleFields) -> Text:
        return cls(article.title, article.body, article.language_hint)

    @cached_property
    def sentences(self) -> list[Sentence]:
        sentences: list[Sentence] = []
        for paragraph in self.body.split("\n"):
            for index, raw in enumerate(split_sentences(paragraph.strip())):
                sentence = strip_dateline(raw) if index == 0 else raw
                tokens = tuple(tokenize(sentence))
                if not tokens:
                    continue
                lower = tuple(map(str.lower, tokens))
                dateline_words = len(tokenize(raw[: len(raw) - len(sentence)]))
                prose = looks_like_prose(sentence, tokens, lower)
                sentences.append(Sentence(sentence, tokens, lower, len(sentences), prose, dateline_words))
        return sentences

    @cached_property
    def prose(self) -> list[Sentence]:
        return [sentence for sentence in self.sentences if sentence.prose]

    @property
    def content_sentences(self) -> list[Sentence]:
        """What the models read: the prose when there is any, else every sentence (a body of bullet lines)."""
        return self.prose or self.sentences

    @cached_property
    def content_tokens(self) -> list[str]:
        """Lower-cased tokens of ``content_sentences``."""
        return [token for sentence in self.content_sentences for token in sentence.lower]

    @cached_property
    def content_surface(self) -> list[str]:
        """Tokens of ``content_sentences`` as written, aligned with ``content_tokens``."""
        return [token for sentence in self.content_sentences for token in sentence.tokens]

    @cached_property
    def title_surface(self) -> list[str]:
        return tokenize(self.title)

    @cached_property
    def title_tokens(self) -> list[str]:
        return list(map(str.lower, self.title_surface))

    @cached_property
    def word_count(self) -> int:
        """Words of the whole body, datelines and padding included; past the analysed opening, counted only."""
        rest = self.full_body[len(self.body) :]
        analysed = sum(len(sentence.tokens) + sentence.dateline_words for sentence in self.sentences)
        return analysed + sum(1 for _ in TOKEN.finditer(rest))

    @cached_property
    def language(self) -> LanguageGuess:
        sample = " ".join(sentence.text for sentence in self.prose[:8]) or self.body
        return detect_language(sample, self.language_hint)
