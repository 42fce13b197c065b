"""The enrichers and their registry.

Each enricher is a small unit that reads a shared ``Text`` (sentences and
tokens computed once) and returns the ``EnrichedFields`` it owns. Adding one
is a new class taking ``Resources`` and a line in ``REGISTRY``; no other
enricher changes. Models and data files are loaded once per process, on
first use, through ``Resources``.

Sentiment, topics and keywords depend on the article's language (detected
once, in ``Text``). An enricher that has nothing for that language leaves its
field empty and names itself in ``unsupported_language``, so that "no topic"
or "neutral" is never confused with "not analysed".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from services.enrich.keywords import KeywordExtractor, stop_words_for
from services.enrich.language import identifier
from services.enrich.sentiment import ENGLISH, RULES, SentimentScorer, load_lexicon
from services.enrich.signature import signature_of
from services.enrich.summary import Summarizer
from services.enrich.text import Text
from services.enrich.topics import DEFAULT_TAXONOMY, DEFAULT_TOPIC_MODEL, LinearTopicModel, Taxonomy, TopicClassifier
from shared.background import DEFAULT_BACKGROUND, BackgroundFrequencies

WORDS_PER_MINUTE = 230


@dataclass
class Resources:
    """Models and data files the enrichers read; each is loaded once, when first needed."""

    taxonomy_path: Path = DEFAULT_TAXONOMY
    topic_model_path: Path = DEFAULT_TOPIC_MODEL
    background_path: Path = DEFAULT_BACKGROUND

    @cached_property
    def taxonomy(self) -> Taxonomy:
        return Taxonomy.load(self.taxonomy_path)

    @cached_property
    def topic_model(self) -> LinearTopicModel:
        return LinearTopicModel.load(self.topic_model_path)

    @cached_property
    def background(self) -> BackgroundFrequencies:
        return BackgroundFrequencies.load(self.background_path)

    @cached_property
    def sentiment_lexicons(self) -> dict[str, dict[str, float] | None]:
        """Lexicons by language, each loaded when an article in that language first needs it."""
        return {}

    def sentiment_lexicon(self, language: str) -> dict[str, float] | None:
        if language not in self.sentiment_lexicons:
            self.sentiment_lexicons[language] = load_lexicon(language)
        return self.sentiment_lexicons[language]


UNSUPPORTED = "unsupported_language"


def unsupported(name: str, **empty_fields: Any) -> dict[str, Any]:
    """The fields of an enricher that cannot read the article's language: empty, and saying why."""
    return {**empty_fields, UNSUPPORTED: [name]}


class Enricher(Protocol):
    name: str

    def __init__(self, resources: Resources) -> None: ...

    def enrich(self, text: Text) -> dict[str, Any]: ...


class LanguageEnricher:
    name = "language"

    def __init__(self, resources: Resources) -> None:
        identifier()  # load the model now, not on the first message

    def enrich(self, text: Text) -> dict[str, Any]:
        guess = text.language
        return {"language": guess.language, "language_confidence": guess.confidence}


class ReadingTimeEnricher:
    name = "reading_time"

    def __init__(self, resources: Resources) -> None:
        pass

    def enrich(self, text: Text) -> dict[str, Any]:
        count = text.word_count
        return {"word_count": count, "reading_time_minutes": max(1, round(count / WORDS_PER_MINUTE))}


class SentimentEnricher:
    name = "sentiment"

    def __init__(self, resources: Resources) -> None:
        self.resources = resources
        self.scorers: dict[str, SentimentScorer | None] = {}
        self.scorer_for("en")  # load the English lexicon now, not on the first message

    def scorer_for(self, language: str) -> SentimentScorer | None:
        if language not in self.scorers:
            lexicon = self.resources.sentiment_lexicon(language)
            self.scorers[language] = SentimentScorer(lexicon, RULES.get(language, ENGLISH)) if lexicon else None
        return self.scorers[language]

    def enrich(self, text: Text) -> dict[str, Any]:
        scorer = self.scorer_for(text.language.language or "")
        if scorer is None:
            return unsupported(self.name, sentiment=None)
        if not text.prose:
            return {"sentiment": None}
        sentiment = scorer.score(text.prose)
        return {"sentiment": {"label": sentiment.label, "score": sentiment.score}}


class TopicsEnricher:
    name = "topics"

    def __init__(self, resources: Resources) -> None:
        self.classifier = TopicClassifier(resources.topic_model, resources.taxonomy)

    def enrich(self, text: Text) -> dict[str, Any]:
        language = text.language.language or ""
        if language not in self.classifier.languages:
            return unsupported(self.name, topics=[])
        topics = self.classifier.classify(
            title=text.title_surface,
            title_lower=text.title_tokens,
            body=text.content_surface,
            body_lower=text.content_tokens,
            language=language,
        )
        return {"topics": [{"key": topic.key, "score": topic.score, "iptc": topic.iptc} for topic in topics]}


class KeywordsEnricher:
    name = "keywords"

    def __init__(self, resources: Resources) -> None:
        self.background = resources.background
        self.extractors: dict[str, KeywordExtractor | None] = {}

    def extractor_for(self, language: str) -> KeywordExtractor | None:
        if language not in self.extractors:
            stop_words = stop_words_for(language)
            self.extractors[language] = KeywordExtractor(self.background, stop_words) if stop_words else None
        return self.extractors[language]

    def enrich(self, text: Text) -> dict[str, Any]:
        extractor = self.extractor_for(text.language.language or "")
        if extractor is None:
            return unsupported(self.name, keywords=[])
        return {"keywords": extractor.extract(text.title, text.content_sentences)}


class DigestEnricher:
    name = "summary"

    def __init__(self, resources: Resources) -> None:
        self.summarizer = Summarizer(resources.background)

    def enrich(self, text: Text) -> dict[str, Any]:
        digest = self.summarizer.digest(text.prose)
        return {"summary": digest.summary, "takeaways": digest.takeaways}


class SignatureEnricher:
    name = "signature"

    def __init__(self, resources: Resources) -> None:
        pass

    def enrich(self, text: Text) -> dict[str, Any]:
        signature = signature_of(text.content_tokens)
        if signature is None:
            return {"signature": None}
        return {"signature": signature}


REGISTRY: tuple[type[Enricher], ...] = (
    LanguageEnricher,
    ReadingTimeEnricher,
    SentimentEnricher,
    TopicsEnricher,
    KeywordsEnricher,
    DigestEnricher,
    SignatureEnricher,
)


def build_enrichers(resources: Resources | None = None) -> list[Enricher]:
    resources = resources or Resources()
    return [enricher(resources) for enricher in REGISTRY]
