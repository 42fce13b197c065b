"""Sentiment: VADER's lexicon and its main rules, applied to tokens the stage has already made.

vaderSentiment costs ~8 ms per article (measured here), mostly in
re-tokenising and rebuilding lower-cased copies of each sentence for every
word it looks at. This scorer reads the lexicon that ships inside the
vaderSentiment wheel (no download) and keeps the rules that move scores in
news prose: negation in the three preceding words, boosters and dampeners
("very", "slightly") decaying with distance, emphasis by ALL CAPS in a
mixed-case sentence, "least", the contrastive "but" (halve before it, 1.5x
after) and "!" emphasis. Left out: emoji and emoticons, the idiom table
and "?" emphasis, which barely occur in news copy.

French and German use the polarity lexicons of Pattern (De Smedt and
Daelemans), shipped inside the ``textblob-fr`` and ``textblob-de`` wheels
and read from the installed files without importing TextBlob: polarities in
[-1, 1] are stretched by ``PATTERN_TO_VADER`` onto VADER's [-4, 4] valences
and scored by the same rules, with each language's negations and contrast
word. The French lexicon covers adjectives only (~5,000 forms), the German
one adjectives, nouns and verbs (~8,000). Other languages have no lexicon
here: ``lexicon_for`` returns None and the enricher says so. Spanish among
them: no maintained package ships a Spanish valence lexicon on its own (asent
carries Chen and Skiena's induced word list, which marks "como" and "general"
positive, and needs spaCy; the other packages are models or online services).

A sentence's compound is VADER's ``s / sqrt(s^2 + 15)``. An article's
score is the mean compound over its prose sentences: summing a whole
article's valence would push every long article to +-1.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from importlib.metadata import distribution
from importlib.resources import files

from services.enrich.text import Sentence, word_set

BOOST = 0.293  # VADER's empirically derived booster increment
CAPS_BOOST = 0.733
NEGATION_SCALAR = -0.74
NORMALISATION_ALPHA = 15.0
EXCLAMATION_BOOST = 0.292
MAX_EXCLAMATIONS = 4
# Mean compounds of news articles sit near zero; beyond this an article reads positive or negative.
LABEL_THRESHOLD = 0.05

NEGATIONS = word_set(
    "aint arent cannot cant couldnt darent didnt doesnt ain't aren't can't couldn't daren't didn't "
    "doesn't dont hadnt hasnt havent isnt mightnt mustnt neither don't hadn't hasn't haven't isn't "
    "mightn't mustn't neednt needn't never none nope nor not nothing nowhere oughtnt shant shouldnt uhuh "
    "wasnt werent oughtn't shan't shouldn't uh-uh wasn't weren't without wont wouldnt won't wouldn't "
    "rarely seldom despite"
)
_BOOSTERS = word_set(
    "absolutely amazingly awfully completely considerable considerably decidedly deeply enormous "
    "enormously entirely especially exceptional exceptionally extreme extremely fabulously fully greatly "
    "highly hugely incredible incredibly intensely major majorly more most particularly purely quite "
    "really remarkably so substantially thoroughly total totally tremendous tremendously unbelievably "
    "unusually utter utterly very"
)
_DAMPENERS = word_set(
    "almost barely hardly kinda less little marginal marginally occasional occasionally partly scarce "
    "scarcely slight slightly somewhat sorta"
)
BOOSTERS: dict[str, float] = {word: BOOST for word in _BOOSTERS} | {word: -BOOST for word in _DAMPENERS}
# Decay of a modifier's effect with its distance from the word it modifies (VADER's 1, 0.95, 0.9).
_DISTANCE_DECAY = (1.0, 0.95, 0.9)


PATTERN_TO_VADER = 4.0
# Pattern's lexicon files inside their wheels: (distribution, path in it).
PATTERN_LEXICONS = {
    "fr": ("textblob-fr", "textblob_fr/fr-sentiment.xml"),
    "de": ("textblob-de", "textblob_de/data/de-sentiment.xml"),
}
FRENCH_NEGATIONS = word_set("pas jamais aucun aucune rien personne ni sans guère plus")
GERMAN_NEGATIONS = word_set("nicht kein keine keinen keinem keiner keines nie niemals nichts ohne weder kaum")


@dataclass(frozen=True)
class LanguageRules:
    """What the scorer needs besides the lexicon: words that flip, boost and contrast."""

    negations: frozenset[str]
    boosters: dict[str, float] = field(default_factory=dict)
    contrast: str = "but"


ENGLISH = LanguageRules(NEGATIONS)
RULES = {
    "en": ENGLISH,
    "fr": LanguageRules(FRENCH_NEGATIONS, contrast="mais"),
    "de": LanguageRules(GERMAN_NEGATIONS, contrast="aber"),
}


def load_pattern_lexicon(language: str) -> dict[str, float]:
    """A Pattern polarity lexicon as lower-cased word -> VADER-scale valence (forms listed twice are averaged)."""
    package, path = PATTERN_LEXICONS[language]
    root = ElementTree.parse(str(distribution(package).locate_file(path))).getroot()
    valences: dict[str, list[float]] = {}
    for word in root.iter("word"):
        polarity = float(word.get("polarity", "0"))
        if polarity:
            valences.setdefault(word.get("form", "").lower(), []).append(polarity * PATTERN_TO_VADER)
    return {form: sum(values) / len(values) for form, values in valences.items() if form}


def load_lexicon(language: str) -> dict[str, float] | None:
    """The lexicon for an ISO 639-1 language, or None when there is none."""
    if language == "en":
        return load_vader_lexicon()
    if language in PATTERN_LEXICONS:
        return load_pattern_lexicon(language)
    return None


def load_vader_lexicon() -> dict[str, float]:
    text = files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8")
    lexicon = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            lexicon[parts[0]] = float(parts[1])
    return lexicon


@dataclass(frozen=True)
class SentimentScore:
    label: str
    score: float


class SentimentScorer:
    def __init__(self, lexicon: dict[str, float], rules: LanguageRules = ENGLISH) -> None:
        self.lexicon = lexicon
        self.negations = rules.negations
        self.boosters = BOOSTERS if rules is ENGLISH else rules.boosters
        self.contrast = rules.contrast

    def sentence_compound(self, tokens: tuple[str, ...], lower: tuple[str, ...], text: str = "") -> float:
        lexicon, boosters, negations = self.lexicon, self.boosters, self.negations
        mixed_case = any(token.isupper() for token in tokens) and not all(token.isupper() for token in tokens)
        valences: list[tuple[int, float]] = []  # (word position, valence)
        for i, word in enumerate(lower):
            valence = lexicon.get(word)
            if valence is None or word in boosters:
                continue
            if word == "no" and i + 1 < len(lower) and lower[i + 1] in lexicon:
                continue  # "no" negates the next word instead of counting itself
            if mixed_case and tokens[i].isupper():
                valence += CAPS_BOOST if valence > 0 else -CAPS_BOOST
            for distance in range(1, 4):
                if i < distance:
                    break
                before = lower[i - distance]
                if before in lexicon:
                    continue
                boost = boosters.get(before)
                if boost is not None:
                    boost *= _DISTANCE_DECAY[distance - 1]
                    valence += boost if valence > 0 else -boost
                if before in negations or before.endswith("n't") or (before == "no" and distance < 3):
                    valence *= NEGATION_SCALAR
            if i >= 1 and lower[i - 1] == "least" and (i < 2 or lower[i - 2] not in ("at", "very")):
                valence *= NEGATION_SCALAR
            valences.append((i, valence))
        if not valences:
            return 0.0
        total = self._apply_but(lower, valences)
        if text and total:
            emphasis = min(text.count("!"), MAX_EXCLAMATIONS) * EXCLAMATION_BOOST
            total += emphasis if total > 0 else -emphasis
        return total / math.sqrt(total * total + NORMALISATION_ALPHA)

    def _apply_but(self, lower: tuple[str, ...], valences: list[tuple[int, float]]) -> float:
        if self.contrast not in lower:
            return sum(valence for _, valence in valences)
        pivot = lower.index(self.contrast)
        return sum(valence * (0.5 if i < pivot else 1.5) for i, valence in valences)

    def score(self, sentences: list[Sentence]) -> SentimentScore:
        compounds = [self.sentence_compound(s.tokens, s.lower, s.text) for s in sentences]
        mean = sum(compounds) / len(compounds) if compounds else 0.0  # each compound is in [-1, 1]
        if mean >= LABEL_THRESHOLD:
            label = "positive"
        elif mean <= -LABEL_THRESHOLD:
            label = "negative"
        else:
            label = "neutral"
        return SentimentScore(label, round(mean, 4))
