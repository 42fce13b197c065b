"""The pairwise story model: how likely an article belongs to a story, from ``pair_features``.

A logistic regression fitted by bench/stories_cluster.py on the development sets' training parts
(pairs met in a single pass in date order, hard negatives included) and shipped as
``models/story_model.json``; nothing is fetched at run time.

Whether an article joins its best story is a second, small logistic model over how clearly that story
wins: its pairwise score and its lead over the runner-up (``JOIN_FEATURES``). A retelling in other
words often scores below any absolute bar yet stands far above every other candidate; a new story's
article usually has two or more middling candidates. Below a pairwise 0.5 no lead counts: in the
development sets nearly every article has its story close by, so leading is telling there; in a quiet
stream an article leads unrelated stories by far (the sample corpus: two chip-maker stories at 0.45,
the runner-up at 0.04). ``join`` is the probability of that model at
which the article joins; ``merge`` is the pairwise probability at which an article that fits two
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
JOIN_FEATURES = ("best_logit", "lead_over_runner_up")
# Pairwise scores as log-odds, bounded: a probability of 1.0 (a near-duplicate) is not infinitely sure,
# and a missing runner-up counts as one this unlikely.
LOGIT_BOUND = 14.0
NO_RUNNER_UP = -8.0
# A story the pairwise model finds more likely not the article's is never joined, however far it leads:
# a lead over unrelated stories (a quiet stream) says nothing about the best one.
MORE_LIKELY_THAN_NOT = 0.5


def logit(probability: float) -> float:
    if probability <= 0.0:
        return -LOGIT_BOUND
    if probability >= 1.0:
        return LOGIT_BOUND
    return max(-LOGIT_BOUND, min(LOGIT_BOUND, math.log(probability / (1.0 - probability))))


def _sigmoid(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-score)) if score > -30 else 0.0


def join_features(best: float, runner_up: float | None) -> list[float]:
    """``JOIN_FEATURES`` of an article whose best story scored ``best`` and the next ``runner_up`` (probabilities)."""
    best_logit = logit(best)
    runner_up_logit = NO_RUNNER_UP if runner_up is None else max(NO_RUNNER_UP, logit(runner_up))
    return [best_logit, max(0.0, best_logit - runner_up_logit)]


@dataclass(frozen=True)
class StoryModel:
    weights: tuple[float, ...]
    bias: float
    join_weights: tuple[float, ...]
    join_bias: float
    join: float
    merge: float
    window_days: float

    @property
    def version(self) -> str:
        """A digest of the fitted parameters (per-field provenance of ``story_id``)."""
        return hashlib.blake2b(self.to_json().encode(), digest_size=6).hexdigest()

    def probability(self, features: Sequence[float]) -> float:
        """How likely an article tells a story, from their ``pair_features``."""
        return _sigmoid(self.bias + sum(weight * value for weight, value in zip(self.weights, features, strict=True)))

    def join_probability(self, best: float, runner_up: float | None) -> float:
        """How likely the best candidate is the article's story, given its probability and the runner-up's
        (0 below ``MORE_LIKELY_THAN_NOT``)."""
        if best < MORE_LIKELY_THAN_NOT:
            return 0.0
        features = join_features(best, runner_up)
        return _sigmoid(
            self.join_bias + sum(weight * value for weight, value in zip(self.join_weights, features, strict=True))
        )

    @classmethod
    def load(cls, path: Path = MODEL) -> StoryModel:
        data = json.loads(path.read_text())
        if tuple(data["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on features {data['features']}, the code computes {list(FEATURES)}")
        if tuple(data["join_model"]["features"]) != JOIN_FEATURES:
            raise ValueError(
                f"{path}'s join model uses {data['join_model']['features']}, the code {list(JOIN_FEATURES)}"
            )
        return cls(
            weights=tuple(data["weights"]),
            bias=data["bias"],
            join_weights=tuple(data["join_model"]["weights"]),
            join_bias=data["join_model"]["bias"],
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
                "join_model": {
                    "features": list(JOIN_FEATURES),
                    "weights": [round(weight, 6) for weight in self.join_weights],
                    "bias": round(self.join_bias, 6),
                },
                "join": self.join,
                "merge": self.merge,
                "window_days": self.window_days,
                **about,
            },
            indent=2,
        )
