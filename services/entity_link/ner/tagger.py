"""A linear-chain tagger (BIO over PER/ORG/LOC/MISC) with Viterbi decoding per candidate segment.

The weights are an averaged structured perceptron's (``ner/train.py``),
shipped as a small compressed file of the rows that are not zero.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from services.entity_link.ner.features import Featurizer, TokenDoc, segments

TYPES = ("PER", "ORG", "LOC", "MISC")
TAGS = ("O", *(f"B-{t}" for t in TYPES), *(f"I-{t}" for t in TYPES))
OUTSIDE = 0
N_TAGS = len(TAGS)
_NEG = np.float32(-1e9)


def _allowed() -> tuple[np.ndarray, np.ndarray]:
    """BIO rules: I-X only continues B-X or I-X; a segment cannot open with I-X."""
    follow = np.ones((N_TAGS, N_TAGS), dtype=bool)
    opening = np.ones(N_TAGS, dtype=bool)
    for to, tag in enumerate(TAGS):
        if tag.startswith("I-"):
            opening[to] = False
            follow[:, to] = [prev in (f"B-{tag[2:]}", tag) for prev in TAGS]
    return follow, opening


_FOLLOW, _OPENING = _allowed()


@dataclass
class NamedSpan:
    start: int  # token index
    end: int  # token index, exclusive
    type: str
    score: float  # the margin of the decoded tags over O, per token: a rough confidence


@dataclass
class Decoded:
    """What the tagger made of a document's candidate tokens."""

    positions: np.ndarray  # token indices scored
    rows: np.ndarray  # their feature rows (positions x features)
    emissions: np.ndarray  # their tag scores (positions x tags)
    tags: np.ndarray  # the best tags
    runs: list[tuple[int, int]]  # the candidate segments, [start, end) token ranges

    @classmethod
    def nothing(cls) -> Decoded:
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, np.zeros((0, 0), dtype=np.int64), np.zeros((0, N_TAGS), dtype=np.float32), empty, [])


def viterbi(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, opening: np.ndarray) -> np.ndarray:
    """Best tag sequence of every segment at once.

    ``emissions`` (positions, T) hold the segments one after another, of the
    given ``lengths``; ``transitions`` (T, T) and ``opening`` (T,) include the
    BIO rules. The segments advance together, a step per position, each
    stopping at its own length: a document's forty segments cost as many numpy
    operations as its longest one has words, not forty Viterbi runs.
    """
    if not len(lengths):
        return np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    longest = int(lengths.max())
    score = emissions[starts] + opening
    back = np.zeros((len(lengths), longest, N_TAGS), dtype=np.int64)
    for step in range(1, longest):
        going = np.flatnonzero(lengths > step)
        total = score[going, :, None] + transitions
        back[going, step] = total.argmax(axis=1)
        score[going] = total.max(axis=1) + emissions[starts[going] + step]
    tags = np.zeros((len(lengths), longest), dtype=np.int64)
    segments = np.arange(len(lengths))
    tags[segments, lengths - 1] = score.argmax(axis=1)
    for step in range(longest - 1, 0, -1):
        going = np.flatnonzero(lengths > step)
        tags[going, step - 1] = back[going, step, tags[going, step]]
    return tags[np.arange(longest) < lengths[:, None]]


def word_hashes(words: Iterable[str]) -> np.ndarray:
    """Sorted CRC-32 hashes of the words' lower-case forms: how the model stores a vocabulary, not the words."""
    return np.unique(np.fromiter((zlib.crc32(w.lower().encode("utf-8")) for w in words), dtype=np.uint32))


class Tagger:
    def __init__(
        self,
        featurizer: Featurizer,
        weights: np.ndarray,
        transitions: np.ndarray,
        opening: np.ndarray,
        common_words: np.ndarray | None = None,
    ):
        self.featurizer = featurizer
        self.weights = weights  # (2**bits, N_TAGS)
        self.transitions = transitions  # (N_TAGS, N_TAGS) learned scores
        self.opening = opening  # (N_TAGS,) learned scores of a segment's first tag
        # ``word_hashes`` of words the training text writes mostly in lower case ("cool", "reform"): a
        # capital on one of them at a sentence start says nothing about it being a name.
        self.common_words = common_words if common_words is not None else np.zeros(0, dtype=np.uint32)

    def is_common_word(self, word: str) -> bool:
        hashed = zlib.crc32(word.lower().encode("utf-8"))
        at = int(np.searchsorted(self.common_words, hashed))
        return at < len(self.common_words) and int(self.common_words[at]) == hashed

    @classmethod
    def empty(cls, featurizer: Featurizer) -> Tagger:
        return cls(
            featurizer,
            np.zeros((featurizer.rows, N_TAGS), dtype=np.float32),
            np.zeros((N_TAGS, N_TAGS), dtype=np.float32),
            np.zeros(N_TAGS, dtype=np.float32),
        )

    def constrained(self) -> tuple[np.ndarray, np.ndarray]:
        return np.where(_FOLLOW, self.transitions, _NEG), np.where(_OPENING, self.opening, _NEG)

    def decode(self, doc: TokenDoc) -> Decoded:
        table = self.featurizer.word_table(doc.words)
        runs = segments(self.featurizer.candidates(doc, table), doc.sentence)
        if not runs:
            return Decoded.nothing()
        bounds = np.array(runs, dtype=np.int64)
        lengths = bounds[:, 1] - bounds[:, 0]
        # The runs' tokens in order: each run's start, then one step at a time to its end.
        positions = np.repeat(bounds[:, 0] - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        positions += np.arange(len(positions))
        rows = self.featurizer.features(doc, table, positions)
        emissions = self.weights[rows].sum(axis=1)
        transitions, opening = self.constrained()
        return Decoded(positions, rows, emissions, viterbi(emissions, lengths, transitions, opening), runs)

    def spans(self, doc: TokenDoc) -> list[NamedSpan]:
        decoded = self.decode(doc)
        return tags_to_spans(decoded.positions, decoded.tags, decoded.emissions)

    def save(self, path: Path) -> None:
        """Only rows with a weight are stored, as float16: a few megabytes instead of tens."""
        used = np.flatnonzero(np.abs(self.weights).max(axis=1) > 0)
        np.savez_compressed(
            path,
            bits=np.array(self.featurizer.bits),
            rows=used.astype(np.uint32),
            weights=self.weights[used].astype(np.float16),
            transitions=self.transitions,
            opening=self.opening,
            common_words=self.common_words,
        )

    @classmethod
    def load(cls, path: Path, kb_token_types: dict[str, int]) -> Tagger:
        with np.load(path) as stored:
            featurizer = Featurizer(int(stored["bits"]), kb_token_types)
            tagger = cls.empty(featurizer)
            tagger.weights[stored["rows"]] = stored["weights"].astype(np.float32)
            tagger.transitions = stored["transitions"].astype(np.float32)
            tagger.opening = stored["opening"].astype(np.float32)
            if "common_words" in stored:
                tagger.common_words = stored["common_words"].astype(np.uint32)
        return tagger


def tags_to_spans(positions: np.ndarray, tags: np.ndarray, emissions: np.ndarray) -> list[NamedSpan]:
    spans: list[NamedSpan] = []
    current: NamedSpan | None = None
    previous = -2
    for k, (position, tag) in enumerate(zip(positions.tolist(), tags.tolist(), strict=True)):
        name = TAGS[tag]
        continues = current is not None and name == f"I-{current.type}" and position == previous + 1
        if current is not None and not continues:
            spans.append(current)
            current = None
        if name.startswith("B-") or (name.startswith("I-") and current is None):
            margin = float(emissions[k, tag] - emissions[k, OUTSIDE])
            current = NamedSpan(position, position + 1, name[2:], margin)
        elif continues and current is not None:
            current.end = position + 1
            current.score = min(current.score, float(emissions[k, tag] - emissions[k, OUTSIDE]))
        previous = position
    if current is not None:
        spans.append(current)
    return spans
