"""How far a link can be trusted: the probability that a chosen entity is the one the text means.

The disambiguator picks the best of a name's candidates; whether to emit that
pick is a separate question, answered here. A wrong id is worse than none (an
analyst filtering on an entity expects every article listed to be about it),
so a link whose probability falls below the model's threshold is withheld and
the name keeps a local id. A name the operator gave an entity in the overlay
is the operator's word and never withheld.

The evidence is what the linker knows about a pick, none of it about
particular names: how popular the entity is and how strongly the name points
to it, how far it beat the runner-up and how strong the strongest other
meaning is, whether the recogniser's type agrees with the KB's, how well the
article's words and other entities fit it, and the mention's form (words,
capitals, place in a headline, repeats). A logistic model over it is fitted by
``bench/link_confidence.py`` on the tuning half of AIDA-dev (and the tuning
slice of the written hard cases), and its threshold is chosen there, by
cross-validation, for precision; the fitted weights live in
``data/link_confidence.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The evidence about one pick, in this order (``Disambiguator.evidence`` computes it).
EVIDENCE = (
    "popularity",  # the entity's prior times how strongly the name points to it
    "prior",
    "alias_weight",  # 1 for the entity's own label, less for another of its names or a surname
    "score",  # the disambiguator's score of the pick
    "margin",  # how far the pick beat the best other admissible candidate
    "rival",  # the strongest other meaning of the name (prior x weight), admissible or not
    "candidates",  # log(1 + how many entities the name may mean)
    "type_fit",  # the recogniser's type against the entity's, as the disambiguator weighs it
    "type_agrees",  # the recogniser gave exactly the entity's type
    "ner_margin",  # the recogniser's margin for its type, squashed to (-1, 1); 0 where only the KB saw a name
    "described",  # the KB describes the entity (well-known entities are; a list's village is not)
    "context",  # the article's words against the entity's kind and description
    "coherence",  # the article's other entities that go with this one
    "peers",  # the article's other entities of the same kin: a lab among labs, a club among clubs
    "exact_label",  # the mention is written exactly as the entity's label (a company's without "Inc.")
    "locative",  # after "in", "at", or in a dateline
    "words",  # the mention's words, up to 4, over 4
    "shouted",  # all capitals and no acronym: a headline or a dateline
    "acronym",
    "sentence_start",
    "in_title",  # the name is in the title
    "repeats",  # log(1 + how many mentions read the same way in the article)
    "person",
    "organisation",
    "place",
    "sport_story",
    "sport_place",  # a place picked in a sports story, not after "in": often the team named after it
    "team",
)


@dataclass(frozen=True)
class ConfidenceModel:
    """A logistic model over ``EVIDENCE`` and the probability below which a link is withheld."""

    weights: np.ndarray
    bias: float
    threshold: float
    provenance: dict[str, object]

    def probability(self, evidence: Sequence[float]) -> float:
        z = self.bias + float(np.dot(self.weights, np.asarray(evidence, dtype=np.float64)))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def trusts(self, probability: float) -> bool:
        return probability >= self.threshold

    @classmethod
    def load(cls, path: Path) -> ConfidenceModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["features"]) != EVIDENCE:
            raise ValueError(
                f"{path}: fitted on evidence {data['features']}, the linker computes {list(EVIDENCE)}; "
                "refit it with bench/link_confidence.py"
            )
        return cls(
            np.asarray(data["weights"], dtype=np.float64),
            float(data["bias"]),
            float(data["threshold"]),
            dict(data.get("provenance", {})),
        )

    def save(self, path: Path) -> None:
        data = {
            "features": list(EVIDENCE),
            "weights": [round(float(w), 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "threshold": round(self.threshold, 4),
            "provenance": self.provenance,
        }
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
