"""Background document frequencies: how common a word is in news, for tf-idf weighting.

Built by ``services/enrich/training/train_topics.py`` from the BBC corpus (words in at
least two documents) and shipped beside this module as ``background.npz``: enrich weighs
keywords and summaries with it, the stories stage the words two tellings share. A word missing from
the table counts as seen in no document, so it gets the highest weight.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DEFAULT_BACKGROUND = Path(__file__).with_name("background.npz")


@dataclass(frozen=True)
class BackgroundFrequencies:
    documents: int
    frequencies: dict[str, int]
    _idf: dict[str, float] = field(init=False, repr=False, compare=False)
    unseen_idf: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        table = {word: self._smoothed_idf(count) for word, count in self.frequencies.items()}
        object.__setattr__(self, "_idf", table)
        object.__setattr__(self, "unseen_idf", self._smoothed_idf(0))

    def _smoothed_idf(self, document_frequency: int) -> float:
        return math.log((1 + self.documents) / (1 + document_frequency)) + 1.0

    def idf(self, word: str) -> float:
        return self._idf.get(word, self.unseen_idf)

    @classmethod
    def count(cls, documents: Iterable[Iterable[str]], min_documents: int = 2) -> BackgroundFrequencies:
        frequencies: Counter[str] = Counter()
        total = 0
        for tokens in documents:
            frequencies.update(set(tokens))
            total += 1
        kept = {word: count for word, count in frequencies.items() if count >= min_documents}
        return cls(documents=total, frequencies=kept)

    def save(self, path: Path) -> None:
        words = sorted(self.frequencies, key=lambda word: (-self.frequencies[word], word))
        np.savez_compressed(
            path,
            words=np.array(words),
            counts=np.array([self.frequencies[word] for word in words], dtype=np.uint32),
            documents=np.array(self.documents, dtype=np.uint32),
        )

    @classmethod
    def load(cls, path: Path = DEFAULT_BACKGROUND) -> BackgroundFrequencies:
        with np.load(path, allow_pickle=False) as data:
            words = data["words"].tolist()
            counts = data["counts"].tolist()
            return cls(documents=int(data["documents"]), frequencies=dict(zip(words, counts, strict=True)))
