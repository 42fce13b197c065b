"""The enrichers and their registry.

Each enricher is a small unit that reads a shared ``Text`` (tokens and
sentences computed once) and returns the fields it owns. Adding one is a new
class and a line in ``REGISTRY``; no other enricher changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from shared.messages import ArticleIngested

WORDS_PER_MINUTE = 230
_WORD = re.compile(r"\w+(?:['’]\w+)*")

# Function words that set the commonest languages apart; enough for a first guess.
_STOPWORDS = {
    "en": {"the", "and", "of", "to", "in", "is", "that", "for", "it", "with", "was", "on", "as", "said"},
    "de": {"der", "die", "und", "das", "ist", "nicht", "mit", "von", "sich", "den", "auf", "für"},
    "fr": {"le", "la", "les", "et", "des", "est", "une", "dans", "pour", "que", "qui", "pas"},
    "es": {"el", "la", "los", "y", "que", "en", "una", "por", "para", "con", "del", "las"},
}


@dataclass
class Text:
    article: ArticleIngested
    fields: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def words(self) -> list[str]:
        return _WORD.findall(self.article.body)


class Enricher(Protocol):
    name: str

    def enrich(self, text: Text) -> dict[str, Any]: ...


class ReadingTime:
    name = "reading_time"

    def enrich(self, text: Text) -> dict[str, Any]:
        count = len(text.words)
        return {"word_count": count, "reading_time_minutes": max(1, round(count / WORDS_PER_MINUTE))}


class Language:
    name = "language"

    def enrich(self, text: Text) -> dict[str, Any]:
        lowered = [w.lower() for w in text.words[:400]]
        counts = {lang: sum(w in stops for w in lowered) for lang, stops in _STOPWORDS.items()}
        best = max(counts, key=lambda lang: counts[lang])
        total = sum(counts.values())
        if total == 0:
            return {"language": text.article.language_hint, "language_confidence": 0.0}
        return {"language": best, "language_confidence": round(counts[best] / total, 3)}


REGISTRY: list[Enricher] = [Language(), ReadingTime()]
