from __future__ import annotations

import pytest

from services.enrich.language import CONFIDENT, detect_language

ENGLISH = "The city council approved a plan on Monday to build more than a hundred kilometres of new cycle lanes."
FRENCH = (
    "Le conseil municipal a approuvé lundi un plan visant à construire plus de cent kilomètres de pistes cyclables."
)
SPANISH = "El ayuntamiento aprobó el lunes un plan para construir más de cien kilómetros de nuevos carriles bici."


@pytest.mark.parametrize(("sample", "language"), [(ENGLISH, "en"), (FRENCH, "fr"), (SPANISH, "es")])
def test_detects_the_language_of_a_sentence(sample: str, language: str) -> None:
    guess = detect_language(sample)
    assert guess.language == language
    assert guess.confidence is not None and guess.confidence >= CONFIDENT


def test_german_body(samples) -> None:
    assert detect_language(samples.german_body).language == "de"


@pytest.mark.parametrize("sample", ["", "Hello", "12 345 678", "!!! ???"])
def test_too_little_text_falls_back_on_the_hint(sample: str) -> None:
    assert detect_language(sample, hint="pt").language == "pt"
    assert detect_language(sample).language is None


def test_a_confident_detection_overrides_a_wrong_hint() -> None:
    guess = detect_language(FRENCH, hint="en")
    assert guess.language == "fr"


def test_newlines_do_not_break_the_detector() -> None:
    assert detect_language(ENGLISH.replace(" ", "\n")).language == "en"
