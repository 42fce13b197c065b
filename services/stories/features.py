"""What an article and a story look like to the story model, and how alike they are.

An article becomes an ``ArticleProfile``: tf-idf weights of its content words (title and
opening of the body), of its title alone, its linked entities weighted by salience, the words
of those entities' names (so a QID, a local id the linker kept when it withheld the link, and a
surname said alone still meet), the numbers it states, its MinHash and its date. A story keeps the sums of its members'
profiles (a centroid that grows as members arrive), their numbers and the MinHashes of
its first members. ``pair_features`` compares an article with a story: the signals that
survive rewording (shared entities, rare words, figures, headline words) and the
near-duplicate signature as one strong signal among them.

Word weights: idf from a background table of news document frequencies (the enrich
stage's BBC table, ``shared/background.npz``); a word missing from it (a new name, "covid") gets the highest weight.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from shared.background import BackgroundFrequencies
from shared.messages import ArticleLinked
from shared.signature import MINHASH_TYPECODE, estimated_similarity

# The opening carries the news; later paragraphs add background that other stories share.
BODY_CHARS = 3_000
# Words at least this common in news (idf below) say nothing about which story it is.
MIN_IDF = 2.0
# A story remembers this many MinHashes (its first members): enough for copies of the original.
MINHASHES_KEPT = 4
# Terms and entities a story keeps in its centroid (the heaviest): bounds its size in the index.
CENTROID_TERMS = 120
CENTROID_ENTITIES = 30
CENTROID_SIZES = {
    "terms": CENTROID_TERMS,
    "title": CENTROID_TERMS // 4,
    "entities": CENTROID_ENTITIES,
    "keywords": CENTROID_TERMS // 4,
    "names": CENTROID_ENTITIES,
}

_WORD = re.compile(r"[^\W_]+(?:[-'’.,][^\W_]+)*")
_DIGIT = re.compile(r"\d")
FEATURES = (
    "terms",
    "title",
    "title_body",
    "entities",
    "shared_entities",
    "entity_names",
    "numbers",
    "keywords",
    "near_duplicate",
    "terms_x_entities",
)


def _stem(word: str) -> str:
    """Singular and plural count as one word ("strikes", "strike"); nothing cleverer is needed here."""
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _number(token: str) -> str | None:
    """A stated figure, normalised ("1,500" and "1500" meet); lone digits say nothing."""
    digits = token.replace(",", "")
    return digits if _DIGIT.search(digits) and len(digits) >= 2 else None


def term_weights(text: str, background: BackgroundFrequencies) -> dict[str, float]:
    """A text's content words (stemmed, not too common in news) as a unit tf-idf vector."""
    counts: Counter[str] = Counter()
    for token in _WORD.findall(text.lower()):
        if not _DIGIT.search(token) and len(token) >= 3:
            counts[token] += 1
    weights: dict[str, float] = {}
    for word, count in counts.items():
        idf = background.idf(word)
        if idf >= MIN_IDF:
            stem = _stem(word)
            weights[stem] = weights.get(stem, 0.0) + (1 + math.log(count)) * idf
    return _unit(weights)


def _unit(weights: Mapping[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(value * value for value in weights.values()))
    return {key: value / norm for key, value in weights.items()} if norm else {}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two sparse vectors; ``a`` is a unit vector, ``b`` need not be."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(value * b.get(key, 0.0) for key, value in a.items())
    if not dot:
        return 0.0
    norm = math.sqrt(sum(value * value for value in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm


@dataclass(frozen=True)
class ArticleProfile:
    article_id: str
    terms: dict[str, float]
    title: dict[str, float]
    entities: dict[str, float]
    numbers: frozenset[str]
    keywords: dict[str, float]  # the enrich stage's key phrases, as a unit vector
    names: dict[str, float]  # the words of its entities' names, weighted by salience and rarity
    minhash: array[int]
    at: float  # seconds since the epoch: published, else ingested

    @classmethod
    def of(cls, article: ArticleLinked, background: BackgroundFrequencies) -> ArticleProfile:
        opening = article.body[:BODY_CHARS]
        entities: dict[str, float] = {}
        names: dict[str, float] = {}
        for entity in article.entities:
            # A passing mention still counts a little: salience alone gives it ~0.
            entities[entity.id] = entities.get(entity.id, 0.0) + 0.1 + entity.salience
            for word, weight in term_weights(entity.name, background).items():
                names[word] = names.get(word, 0.0) + (0.1 + entity.salience) * weight
        numbers = {number for token in _WORD.findall(f"{article.title} {opening}") if (number := _number(token))}
        dated: datetime = article.published_at or article.ingested_at
        return cls(
            article_id=article.article_id,
            terms=term_weights(f"{article.title}\n{article.title}\n{opening}", background),
            title=term_weights(article.title, background),
            entities=_unit(entities),
            numbers=frozenset(numbers),
            keywords=_unit({phrase.lower(): 1.0 for phrase in article.keywords}),
            names=_unit(names),
            minhash=article.signature.values if article.signature else array(MINHASH_TYPECODE),
            at=dated.timestamp(),
        )


@dataclass
class StoryProfile:
    """A story's centroid: sums of its members' vectors, the numbers they state, early MinHashes."""

    story_id: str
    size: int = 0
    terms: dict[str, float] = field(default_factory=dict)
    title: dict[str, float] = field(default_factory=dict)
    entities: dict[str, float] = field(default_factory=dict)
    numbers: Counter[str] = field(default_factory=Counter)
    keywords: dict[str, float] = field(default_factory=dict)
    names: dict[str, float] = field(default_factory=dict)
    minhashes: list[array[int]] = field(default_factory=list)
    first_at: float = math.inf
    last_at: float = -math.inf

    def add(self, article: ArticleProfile) -> None:
        self.size += 1
        self._sum(article)
        if article.minhash and len(self.minhashes) < MINHASHES_KEPT:
            self.minhashes.append(article.minhash)
        self.first_at = min(self.first_at, article.at)
        self.last_at = max(self.last_at, article.at)

    def absorb(self, other: StoryProfile) -> None:
        """Take in a story merged into this one."""
        self.size += other.size
        self._sum(other)
        self.minhashes = (self.minhashes + other.minhashes)[:MINHASHES_KEPT]
        self.first_at = min(self.first_at, other.first_at)
        self.last_at = max(self.last_at, other.last_at)

    def _sum(self, other: ArticleProfile | StoryProfile) -> None:
        """Add ``other``'s vectors and keep only the heaviest entries, as the index stores them: the
        story a replica reads back is the one its writer compared with, and a much-retold story costs
        no more to compare with than a new one."""
        for name, kept in CENTROID_SIZES.items():
            mine: dict[str, float] = getattr(self, name)
            for key, value in getattr(other, name).items():
                mine[key] = mine.get(key, 0.0) + value
            setattr(self, name, _heaviest(mine, kept))
        self.numbers.update(other.numbers)
        self.numbers = Counter(dict(self.numbers.most_common(CENTROID_TERMS // 4)))


def _heaviest(weights: Mapping[str, float], count: int) -> dict[str, float]:
    if len(weights) <= count:
        return dict(weights)
    return dict(sorted(weights.items(), key=lambda item: -item[1])[:count])


def pair_features(article: ArticleProfile, story: StoryProfile) -> list[float]:
    """How alike an article and a story are, in the order of ``FEATURES``."""
    terms = cosine(article.terms, story.terms)
    entities = cosine(article.entities, story.entities) if article.entities and story.entities else 0.0
    shared_entities = sum(1 for key in article.entities if key in story.entities)
    shared_numbers = sum(1 for number in article.numbers if number in story.numbers)
    near_duplicate = max(
        (
            estimated_similarity(article.minhash, minhash)
            for minhash in story.minhashes
            if len(minhash) == len(article.minhash)
        ),
        default=0.0,
    )
    return [
        terms,
        cosine(article.title, story.title) if article.title and story.title else 0.0,
        cosine(article.title, story.terms) if article.title else 0.0,
        entities,
        math.log1p(shared_entities),
        cosine(article.names, story.names) if article.names and story.names else 0.0,
        math.log1p(shared_numbers),
        cosine(article.keywords, story.keywords) if article.keywords and story.keywords else 0.0,
        near_duplicate,
        terms * entities,
    ]


def candidate_keys(profile: ArticleProfile | StoryProfile, terms: int = 8, entities: int = 5) -> list[str]:
    """What a story is found by: its heaviest entities and rarest-and-heaviest words."""
    heaviest_terms = _heaviest(profile.terms, terms)
    heaviest_entities = _heaviest(profile.entities, entities)
    return [*(f"e:{key}" for key in heaviest_entities), *(f"t:{key}" for key in heaviest_terms)]
