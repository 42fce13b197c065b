"""The enrichers and their registry.

Each enricher is a small unit that reads a shared ``Text`` (sentences and
tokens computed once) and returns the ``EnrichedFields`` it owns. Adding one
is a new class taking ``Resources`` and a line in ``REGISTRY``; no other
enricher changes. Models and data files are loaded once per process, on
first use, through ``Resources``.

The sentiment lexicon, topic model and stop words are English: for other
languages those enrichers return their empty values rather than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from services.enrich.keywords import KeywordExtractor
from services.enrich.language import identifier
from services.enrich.sentiment import SentimentScorer, load_vader_lexicon
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
    def sentiment_lexicon(self) -> dict[str, float]:
        return load_vader_lexicon()


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
        self.scorer = SentimentScorer(resources.sentiment_lexicon)

    def enrich(self, text: Text) -> dict[str, Any]:
        if not text.is_english or not text.prose:
            return {"sentiment": None}
        sentiment = self.scorer.score(text.prose)
        return {"sentiment": {"label": sentiment.label, "score": sentiment.score}}


class TopicsEnricher:
    name = "topics"

    def __init__(self, resources: Resources) -> None:
        self.classifier = TopicClassifier(resources.topic_model, resources.taxonomy)

    def enrich(self, text: Text) -> dict[str, Any]:
        if not text.is_english:
            return {"topics": []}
        topics = self.classifier.classify(
            title=text.title_surface,
            title_lower=text.title_tokens,
            body=text.content_surface,
            body_lower=text.content_tokens,
        )
        return {"topics": [{"key": topic.key, "score": topic.score} for topic in topics]}


class KeywordsEnricher:
    name = "keywords"

    def __init__(self, resources: Resources) -> None:
        self.extractor = KeywordExtractor(resources.background)

    def enrich(self, text: Text) -> dict[str, Any]:
        if not text.is_english:
            return {"keywords": []}
        return {"keywords": self.extractor.extract(text.title, text.content_sentences)}


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
        return {"signature": {"lsh_bands": signature.lsh_bands, "minhash": signature.minhash}}


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
