"""How close a passage is to the article around it: the share of its content words the article also uses.

Teasers for other stories, consent notices and mastheads share almost no
content words with the article; a crosshead, a deck or a summary of the
article shares many. Words are compared by their first five letters, a crude
stem that makes "tenancy"/"tenants" and "rises"/"rise" meet.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]{4,}")
_ANY_WORD = re.compile(r"[^\W\d_]+")
_STEM_LETTERS = 5
# Words of four letters or more that every English story uses: they say nothing about its topic.
_COMMON = frozenset(
    {
        "that",
        "with",
        "from",
        "said",
        "says",
        "will",
        "have",
        "this",
        "they",
        "were",
        "been",
        "their",
        "which",
        "would",
        "about",
        "after",
        "more",
        "than",
        "also",
        "into",
        "over",
        "when",
        "what",
        "your",
        "there",
        "some",
        "other",
        "could",
        "only",
        "just",
        "like",
        "them",
        "then",
        "most",
        "many",
        "such",
        "very",
        "much",
        "well",
        "where",
        "while",
        "these",
        "those",
        "because",
        "being",
        "does",
        "here",
        "year",
        "years",
        "week",
        "weeks",
        "first",
        "last",
        "next",
        "make",
        "made",
        "takes",
        "take",
        "told",
        "tell",
        "still",
        "even",
        "back",
        "down",
        "each",
        "both",
        "before",
        "under",
        "again",
        "against",
        "between",
        "during",
        "through",
    }
)


def content_words(text: str) -> set[str]:
    return {word[:_STEM_LETTERS] for word in _WORD.findall(text.lower()) if word not in _COMMON}


def words_of(text: str) -> set[str]:
    """Every word, function words included: what tells a headline in the body's language from a translation's."""
    return set(_ANY_WORD.findall(text.lower()))


def language_fit(passage: str, context: set[str]) -> float:
    """Share of the passage's words, function words included, that the context (``words_of``) uses."""
    words = _ANY_WORD.findall(passage.lower())
    return sum(1 for word in words if word in context) / len(words) if words else 0.0


def overlap(passage: str, context: set[str]) -> float | None:
    """Share of the passage's content words found in ``context``; None when it has no content words."""
    words = content_words(passage)
    if not words:
        return None
    return len(words & context) / len(words)
