"""The pairwise story model: how likely an article belongs to a story, from ``pair_features``.

A logistic regression fitted by bench/stories_cluster.py on the development sets' training parts
(pairs met in a single pass in date order, hard negatives included) and shipped as
``models/story_model.json``; nothing is fetched at run time. ``join`` is the probability at which
an article joins its best story; ``merge`` (higher) is the one at which an article that fits two
stories that well makes them one.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.stories.features import FEATURES

MODEL = Path(__file__).parent / "models" / "story_model.json"


@dataclass(frozen=True)
class StoryModel:
    weights: tuple[float, ...]
    bias: float
    join: float
    merge: float
    window_days: float

    @property
    def version(self) -> str:
        """A digest of the fitted parameters (per-field provenance of ``story_id``)."""
        return hashlib.blake2b(self.to_json().encode(), digest_size=6).hexdigest()

    def probability(self, features: Sequence[float]) -> float:
        score = self.bias + sum(weight * value for weight, value in zip(self.weights, features, strict=True))
        return 1.0 / (1.0 + math.exp(-score)) if score > -30 else 0.0

    @classmethod
    def load(cls, path: Path = MODEL) -> StoryModel:
        data = json.loads(path.read_text())
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on features {data['features']}, the code computes {list(FEATURES)}")
        return cls(
            weights=tuple(data["weights"]),
            bias=data["bias"],
            join=data["join"],
            merge=data["merge"],
            window_days=data["window_days"],
        )

    def to_json(self, **about: object) -> str:
        return json.dumps(
            {
                "features": list(FEATURES),
                "weights": [round(weight, 6) for weight in self.weights],
                "bias": round(self.bias, 6),
                "join": self.join,
                "merge": self.merge,
                "window_days": self.window_days,
                **about,
            },
            indent=2,
        )
