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
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from services.enrich.text import tokenize

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


def featurize(tokens: Iterable[str], index: dict[str, int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sublinear tf-idf, L2-normalised, over the model's vocabulary: (column indices, values)."""
    counts = Counter(column for column in map(index.get, tokens) if column is not None)
    if not counts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
    values = tf * idf[columns]
    return columns, values / np.linalg.norm(values)


@dataclass(frozen=True)
class LinearTopicModel:
    vocabulary: tuple[str, ...]
    idf: np.ndarray  # (features,)
    coef: np.ndarray  # (features, classes)
    intercept: np.ndarray  # (classes,)
    classes: tuple[str, ...]
    index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", {word: i for i, word in enumerate(self.vocabulary)})

    def probabilities(self, tokens: Iterable[str]) -> dict[str, float]:
        columns, values = featurize(tokens, self.index, self.idf)
        logits = values @ self.coef[columns] + self.intercept
        exp = np.exp(logits - logits.max())
        return dict(zip(self.classes, (exp / exp.sum()).tolist(), strict=True))

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            vocabulary=np.array(self.vocabulary),
            idf=self.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            classes=np.array(self.classes),
        )

    @classmethod
    def load(cls, path: Path) -> LinearTopicModel:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                vocabulary=tuple(data["vocabulary"].tolist()),
                idf=data["idf"].astype(np.float64),
                coef=data["coef"].astype(np.float64),
                intercept=data["intercept"].astype(np.float64),
                classes=tuple(data["classes"].tolist()),
            )


# -- the taxonomy ------------------------------------------------------------


@dataclass(frozen=True)
class TopicNode:
    key: str  # "technology" or "technology/semiconductors"
    keywords: tuple[tuple[str, ...], ...]
    model_class: str | None = None
    children: tuple[TopicNode, ...] = ()


class KeywordMatcher:
    """Counts keyword-phrase hits per topic in one scan over the tokens.

    A phrase written in lower case matches any case; one with a capital
    letter ("AI", "WHO", "NHS") matches only as written, so that "who" the
    pronoun is not the World Health Organization. A hit counts for the topic
    that lists the phrase and for its parent, once for each even when both
    list it.
    """

    def __init__(self, roots: Iterable[TopicNode]) -> None:
        topics_of: dict[tuple[str, ...], set[str]] = {}
        for root in roots:
            for node in (root, *root.children):
                for phrase in node.keywords:
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
                TopicNode(key=f"{key}/{child}", keywords=_phrases((child_spec or {}).get("keywords", [])))
                for child, child_spec in (spec.get("children") or {}).items()
            )
            roots.append(
                TopicNode(
                    key=key,
                    keywords=_phrases(spec.get("keywords", [])),
                    model_class=spec.get("model_class"),
                    children=children,
                )
            )
        return cls(tuple(roots))


def _phrases(keywords: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(phrase for phrase in (tuple(tokenize(keyword)) for keyword in keywords) if phrase)


# -- combining the two ---------------------------------------------------------


@dataclass(frozen=True)
class ScoredTopic:
    key: str
    score: float


class TopicClassifier:
    """Model and taxonomy together; without a model (``None``) the taxonomy's keywords decide alone."""

    def __init__(self, model: LinearTopicModel | None, taxonomy: Taxonomy) -> None:
        self.model = model
        self.taxonomy = taxonomy
        self.matcher = KeywordMatcher(taxonomy.roots)

    def keyword_density(
        self, title: Sequence[str], title_lower: Sequence[str], body: Sequence[str], body_lower: Sequence[str]
    ) -> dict[str, float]:
        """Keyword hits per 100 words for every topic with a hit (title hits count double)."""
        hits = self.matcher.count(body, body_lower)
        for key, count in self.matcher.count(title, title_lower).items():
            hits[key] += TITLE_HIT_WEIGHT * count
        per_hundred = 100.0 / max(len(body_lower) + len(title_lower), 100)
        return {key: min(MAX_DENSITY, count * per_hundred) for key, count in hits.items()}

    def top_level_scores(self, probabilities: dict[str, float], density: dict[str, float]) -> dict[str, float]:
        """Each top-level topic's share of belief, model and keywords combined in log space."""
        log_scores = []
        for root in self.taxonomy.roots:
            if not probabilities:
                prior = 1.0
            elif root.model_class in probabilities:
                prior = max(PROBABILITY_FLOOR, probabilities[root.model_class])
            else:
                prior = UNMODELLED_PRIOR
            log_scores.append(math.log(prior) + EVIDENCE_WEIGHT * density.get(root.key, 0.0))
        top = max(log_scores)
        weights = [math.exp(score - top) for score in log_scores]
        total = sum(weights)
        return {root.key: weight / total for root, weight in zip(self.taxonomy.roots, weights, strict=True)}

    def classify(
        self,
        title: Sequence[str],
        title_lower: Sequence[str],
        body: Sequence[str],
        body_lower: Sequence[str],
    ) -> list[ScoredTopic]:
        """Topics for a document, primary first; ``title``/``body`` as written, ``*_lower`` lower-cased."""
        if not body_lower and not title_lower:
            return []
        density = self.keyword_density(title, title_lower, body, body_lower)
        probabilities = self.model.probabilities([*title_lower, *body_lower]) if self.model else {}
        scores = self.top_level_scores(probabilities, density)
        ranked = sorted(self.taxonomy.roots, key=lambda root: -scores[root.key])
        topics: list[ScoredTopic] = []
        for rank, root in enumerate(ranked[:MAX_TOP_LEVEL]):
            parent_score = scores[root.key]
            if rank > 0 and parent_score < SECONDARY_MIN:
                break
            topics.append(ScoredTopic(root.key, round(parent_score, 3)))
            subtopics = [
                ScoredTopic(child.key, round(parent_score * (1.0 - math.exp(-density[child.key] / 2.0)), 3))
                for child in root.children
                if density.get(child.key, 0.0) >= SUBTOPIC_MIN_DENSITY
            ]
            topics.extend(sorted(subtopics, key=lambda topic: -topic.score))
        return topics
