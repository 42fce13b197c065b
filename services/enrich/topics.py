"""Topics: a linear model for the classes it was trained on, keyword rules from the taxonomy for the rest.

The model (``models/topics.npz``, built by ``training/train_topics.py`` from
the BBC corpus) is a logistic regression over sublinear tf-idf unigrams: it
knows business, entertainment, politics, sport and technology, as the BBC
saw them in 2004-05. The taxonomy (``taxonomy.yaml``, an operator's file)
adds topics no training data covers (science, health, world) and every
second-level topic, as keyword phrases.

The two are combined in log space, naive-Bayes style: a top-level topic's
log score is ``ln p`` (the model's probability, or ``UNMODELLED_PRIOR`` for a
topic the model does not know) plus ``EVIDENCE_WEIGHT`` per keyword hit per
100 words (hits of its children's keywords count for it, title hits
double). Scores are normalised over the top level, so each is a share of
belief in [0, 1]. Without keywords the model decides; a topic the model has
never seen wins only on clear keyword evidence (about 4 more hits per 100
words than a topic the model gives 0.9). The two weights were chosen on
bench/enrich_topics.py: raising EVIDENCE_WEIGHT to 0.7 gains one development
article and costs 0.8 points of BBC accuracy (BBC files video games and
music downloads under technology, trade under business). A second-level topic is
listed under its parent when its own keywords reach ``SUBTOPIC_MIN_DENSITY``,
scored ``parent score * (1 - exp(-density / 2))`` so it never outranks its parent.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from services.enrich.text import Text, tokenize

PACKAGE_DIR = Path(__file__).parent
DEFAULT_TAXONOMY = PACKAGE_DIR / "taxonomy.yaml"
DEFAULT_TOPIC_MODEL = PACKAGE_DIR / "models" / "topics.npz"

EVIDENCE_WEIGHT = 0.6
UNMODELLED_PRIOR = 0.1
PROBABILITY_FLOOR = 0.01  # so that keywords can still lift a topic the model all but rules out
MAX_DENSITY = 10.0  # hits per 100 words; a keyword-stuffed text gains nothing past this
TITLE_HIT_WEIGHT = 2
SECONDARY_MIN = 0.2
MAX_TOP_LEVEL = 3
SUBTOPIC_MIN_DENSITY = 1.0


# -- the linear model ----------------------------------------------------------

CHAR_NGRAM_SIZES = (3, 4, 5)
WORD_CACHE_LIMIT = 100_000  # distinct words whose logit shares are remembered (~25 MB at most)


def word_features(word: str) -> list[str]:
    """A word and its character n-grams (accents folded, with boundary marks), fastText-style.

    The n-grams carry a model across inflections and languages that share
    roots ("économie", "economy", "Ökonomie" share "<eco", "onom").
    """
    folded = "<" + unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii") + ">"
    grams = [word]
    for size in CHAR_NGRAM_SIZES:
        grams.extend("#" + folded[start : start + size] for start in range(len(folded) - size + 1))
    return grams


class FeatureSpace:
    """Maps tokens to tf-idf vectors over words and their character n-grams.

    Each distinct word contributes its features' idf, scaled by ``1 + ln(count)``;
    the vector is divided by the root of the words' summed squared norms (an
    n-gram two different words share is not merged first). The vector is thus a
    sum of per-word vectors, so a linear model can precompute each word's share
    of the logits (``LinearTopicModel``) and an article costs one cached look-up
    per distinct word.
    """

    def __init__(self, vocabulary: Sequence[str], idf: np.ndarray) -> None:
        self.vocabulary = tuple(vocabulary)
        self.idf = idf
        self.index = {feature: column for column, feature in enumerate(self.vocabulary)}

    def columns_of(self, word: str) -> np.ndarray:
        index = self.index
        return np.array([index[f] for f in word_features(word) if f in index], dtype=np.int64)

    def vector(self, tokens: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """(column indices, values) of the document's feature vector; a column may repeat (values add up)."""
        columns, values, squared_norm = [], [], 0.0
        for word, count in Counter(tokens).items():
            word_columns = self.columns_of(word)
            weights = (1.0 + math.log(count)) * self.idf[word_columns]
            columns.append(word_columns)
            values.append(weights)
            squared_norm += float(weights @ weights)
        if not squared_norm:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return np.concatenate(columns), np.concatenate(values) / math.sqrt(squared_norm)


@dataclass(frozen=True)
class LinearTopicModel:
    """Multinomial logistic regression over ``FeatureSpace`` vectors.

    Both thresholds are calibrated in training: ``threshold`` for every listed top-level topic,
    ``primary_threshold`` (lower, or the same when None) for the best one, which an article
    needs more often than a second opinion.
    """

    vocabulary: tuple[str, ...]
    idf: np.ndarray  # (features,)
    coef: np.ndarray  # (features, classes)
    intercept: np.ndarray  # (classes,)
    classes: tuple[str, ...]
    threshold: float = 0.5
    languages: tuple[str, ...] = ("en",)  # those of its training text
    primary_threshold: float | None = None
    features: FeatureSpace = field(init=False, repr=False, compare=False)
    # word -> (its idf-weighted share of the logits, its features' squared idf norm)
    _words: dict[str, tuple[np.ndarray, float]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", FeatureSpace(self.vocabulary, self.idf))
        object.__setattr__(self, "_words", {})

    def _word(self, word: str) -> tuple[np.ndarray, float]:
        known = self._words.get(word)
        if known is None:
            if len(self._words) >= WORD_CACHE_LIMIT:
                self._words.clear()
            columns = self.features.columns_of(word)
            idf = self.idf[columns]
            known = self._words[word] = (idf @ self.coef[columns], float(idf @ idf))
        return known

    def probabilities(self, tokens: Iterable[str]) -> dict[str, float]:
        counts = Counter(tokens)
        logits = self.intercept
        if counts:
            shares, squared_norms = zip(*map(self._word, counts), strict=True)
            weights = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            squared_norm = float(weights * weights @ np.array(squared_norms))
            if squared_norm:
                logits = logits + weights @ np.array(shares) / math.sqrt(squared_norm)
        exp = np.exp(logits - logits.max())
        return dict(zip(self.classes, (exp / exp.sum()).tolist(), strict=True))

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            vocabulary=np.array(self.vocabulary),
            idf=self.idf.astype(np.float16),
            coef=self.coef.astype(np.float16),  # half precision: the model's scores move by < 0.001
            intercept=self.intercept.astype(np.float32),
            classes=np.array(self.classes),
            threshold=np.array(self.threshold),
            primary_threshold=np.array(self.threshold if self.primary_threshold is None else self.primary_threshold),
            languages=np.array(self.languages),
        )

    @classmethod
    def load(cls, path: Path) -> LinearTopicModel:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                vocabulary=tuple(data["vocabulary"].tolist()),
                idf=data["idf"].astype(np.float64),
                coef=data["coef"].astype(np.float64),  # one dtype with the features: numpy's fast path
                intercept=data["intercept"].astype(np.float64),
                classes=tuple(data["classes"].tolist()),
                threshold=float(data["threshold"]),
                primary_threshold=float(data["primary_threshold"]) if "primary_threshold" in data else None,
                languages=tuple(data["languages"].tolist()),
            )


# -- the taxonomy ------------------------------------------------------------

ANY_LANGUAGE = "*"


@dataclass(frozen=True)
class TopicNode:
    key: str  # "technology" or "technology/semiconductors"
    keywords: dict[str, tuple[tuple[str, ...], ...]]  # language (or ANY_LANGUAGE) -> phrases
    label: str = ""
    iptc: str | None = None  # an IPTC Media Topic code, "medtop:13000000"
    children: tuple[TopicNode, ...] = ()

    def phrases(self, language: str) -> tuple[tuple[str, ...], ...]:
        return (*self.keywords.get(ANY_LANGUAGE, ()), *self.keywords.get(language, ()))


class KeywordMatcher:
    """Counts keyword-phrase hits per topic in one scan over the tokens.

    A phrase written in lower case matches any case; one with a capital
    letter ("AI", "WHO", "NHS") matches only as written, so that "who" the
    pronoun is not the World Health Organization. A hit counts for the topic
    that lists the phrase and for its parent, once for each even when both
    list it.
    """

    def __init__(self, roots: Iterable[TopicNode], language: str = "en") -> None:
        topics_of: dict[tuple[str, ...], set[str]] = {}
        for root in roots:
            for node in (root, *root.children):
                for phrase in node.phrases(language):
                    topics_of.setdefault(phrase, set()).update({node.key, root.key})
        # first word -> [(phrase, topic keys)], for lower-case and for exact-case phrases.
        self._folded: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = {}
        self._exact: dict[str, list[tuple[tuple[str, ...], frozenset[str]]]] = {}
        for phrase, keys in topics_of.items():
            table = self._folded if phrase == tuple(word.lower() for word in phrase) else self._exact
            table.setdefault(phrase[0], []).append((phrase, frozenset(keys)))

    def count(self, tokens: Sequence[str], lowered: Sequence[str]) -> Counter[str]:
        hits: Counter[str] = Counter()
        for table, words in ((self._folded, lowered), (self._exact, tokens)):
            for position, word in enumerate(words):
                for phrase, topics in table.get(word, ()):
                    if len(phrase) == 1 or tuple(words[position : position + len(phrase)]) == phrase:
                        hits.update(topics)
        return hits


@dataclass(frozen=True)
class Taxonomy:
    roots: tuple[TopicNode, ...]

    @classmethod
    def load(cls, path: Path = DEFAULT_TAXONOMY) -> Taxonomy:
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        return cls.from_mapping(document["topics"])

    @classmethod
    def from_mapping(cls, topics: dict[str, Any]) -> Taxonomy:
        roots = []
        for key, spec in topics.items():
            children = tuple(
                TopicNode(
                    key=f"{key}/{child}",
                    keywords=_keywords((child_spec or {}).get("keywords")),
                    label=(child_spec or {}).get("label", child.replace("-", " ")),
                    iptc=(child_spec or {}).get("iptc"),
                )
                for child, child_spec in (spec.get("children") or {}).items()
            )
            roots.append(
                TopicNode(
                    key=key,
                    keywords=_keywords(spec.get("keywords")),
                    label=spec.get("label", key.replace("-", " ")),
                    iptc=spec.get("iptc"),
                    children=children,
                )
            )
        return cls(tuple(roots))

    @property
    def languages(self) -> frozenset[str]:
        """Languages some topic has keywords for."""
        return frozenset(
            language
            for root in self.roots
            for node in (root, *root.children)
            for language in node.keywords
            if language != ANY_LANGUAGE
        )


def _keywords(spec: list[str] | dict[str, list[str]] | None) -> dict[str, tuple[tuple[str, ...], ...]]:
    """A list holds phrases for every language; a mapping holds them per language ("en", "fr", ...)."""
    by_language = {ANY_LANGUAGE: spec} if isinstance(spec, list) else (spec or {})
    return {language: _phrases(phrases or []) for language, phrases in by_language.items()}


def _phrases(keywords: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(phrase for phrase in (tuple(tokenize(keyword)) for keyword in keywords) if phrase)


# -- combining the two ---------------------------------------------------------


@dataclass(frozen=True)
class ScoredTopic:
    key: str
    score: float
    iptc: str | None = None


class TopicClassifier:
    """Model and taxonomy together; without a model (``None``) the taxonomy's keywords decide alone."""

    def __init__(self, model: LinearTopicModel | None, taxonomy: Taxonomy, threshold: float | None = None) -> None:
        """``threshold`` (for tests and experiments) replaces both of the model's thresholds."""
        self.model = model
        self.taxonomy = taxonomy
        self.threshold = threshold if threshold is not None else model.threshold if model else SECONDARY_MIN
        primary = model.primary_threshold if model and threshold is None else None
        self.primary_threshold = self.threshold if primary is None else primary
        self._matchers: dict[str, KeywordMatcher] = {}
        # Languages it can classify: the model's training languages and those the keywords are written in.
        self.languages = taxonomy.languages | frozenset(model.languages if model else ())

    def matcher(self, language: str) -> KeywordMatcher:
        matcher = self._matchers.get(language)
        if matcher is None:
            matcher = self._matchers[language] = KeywordMatcher(self.taxonomy.roots, language)
        return matcher

    def keyword_density(
        self,
        title: Sequence[str],
        title_lower: Sequence[str],
        body: Sequence[str],
        body_lower: Sequence[str],
        language: str = "en",
    ) -> dict[str, float]:
        """Keyword hits per 100 words for every topic with a hit (title hits count double)."""
        matcher = self.matcher(language)
        hits = matcher.count(body, body_lower)
        for key, count in matcher.count(title, title_lower).items():
            hits[key] += TITLE_HIT_WEIGHT * count
        per_hundred = 100.0 / max(len(body_lower) + len(title_lower), 100)
        return {key: min(MAX_DENSITY, count * per_hundred) for key, count in hits.items()}

    def top_level_scores(self, probabilities: dict[str, float], density: dict[str, float]) -> dict[str, float]:
        """Each top-level topic's share of belief, model and keywords combined in log space."""
        log_scores = []
        for root in self.taxonomy.roots:
            if not probabilities:
                prior = 1.0
            elif root.key in probabilities:
                prior = max(PROBABILITY_FLOOR, probabilities[root.key])
            else:
                prior = UNMODELLED_PRIOR
            log_scores.append(math.log(prior) + EVIDENCE_WEIGHT * density.get(root.key, 0.0))
        top = max(log_scores)
        weights = [math.exp(score - top) for score in log_scores]
        total = sum(weights)
        return {root.key: weight / total for root, weight in zip(self.taxonomy.roots, weights, strict=True)}

    def top_level_scores_of(self, text: Text) -> dict[str, float]:
        """``top_level_scores`` for a whole ``Text``, as ``classify`` computes them."""
        language = text.language.language or "en"
        density = self.keyword_density(
            text.title_surface, text.title_tokens, text.content_surface, text.content_tokens, language
        )
        probabilities = self.model.probabilities([*text.title_tokens, *text.content_tokens]) if self.model else {}
        return self.top_level_scores(probabilities, density)

    def classify(
        self,
        title: Sequence[str],
        title_lower: Sequence[str],
        body: Sequence[str],
        body_lower: Sequence[str],
        language: str = "en",
    ) -> list[ScoredTopic]:
        """Topics for a document, primary first; ``title``/``body`` as written, ``*_lower`` lower-cased.

        A top-level topic is listed when its score clears the calibrated
        threshold (the best one: the primary threshold), at most
        ``MAX_TOP_LEVEL`` of them, each followed by its subtopics.
        """
        if not body_lower and not title_lower:
            return []
        density = self.keyword_density(title, title_lower, body, body_lower, language)
        probabilities = self.model.probabilities([*title_lower, *body_lower]) if self.model else {}
        scores = self.top_level_scores(probabilities, density)
        ranked = sorted(self.taxonomy.roots, key=lambda root: -scores[root.key])
        topics: list[ScoredTopic] = []
        for rank, root in enumerate(ranked[:MAX_TOP_LEVEL]):
            parent_score = scores[root.key]
            if parent_score < (self.threshold if rank else self.primary_threshold):
                break
            topics.append(ScoredTopic(root.key, round(parent_score, 3), root.iptc))
            subtopics = [
                ScoredTopic(child.key, round(parent_score * (1.0 - math.exp(-density[child.key] / 2.0)), 3), child.iptc)
                for child in root.children
                if density.get(child.key, 0.0) >= SUBTOPIC_MIN_DENSITY
            ]
            topics.extend(sorted(subtopics, key=lambda topic: -topic.score))
        return topics
