"""Choosing among an alias's candidates from context.

A candidate's score adds up:

* popularity: the KB prior times how strongly the alias points to it;
* type compatibility with what the recogniser called the mention (soft:
  LOC -> ORG is allowed at a cost; a government is named by its capital, so
  "Washington said" fits the government fully, but "in Washington" is the city);
* context cues: words of the article that go with the candidate's kind
  ("tariffs", "officials" for a government; "museum", "hotel" for a city)
  and with its description ("technology company" for Apple Inc.);
* coherence: other entities of the article it goes with (same country, or
  related in the KB, as DeepSeek-V4 is to DeepSeek).

Coherence needs the others' entities, so linking runs twice: a first pass
without it gives each mention a provisional entity, the second adds it.
Both passes are linear in the article's distinct names: coherence reads
counts of the provisional entities (``ArticleEntities``), and the context
cues of an entity are computed once per article.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from services.entity_link.confidence import ConfidenceModel
from services.entity_link.context import SPORT
from services.entity_link.kb.entity import KBEntity
from services.entity_link.kb.index import LABEL_WEIGHT, SURNAME_WEIGHT, Candidate
from services.entity_link.kb.more import TEAM_KINDS, UNTYPED
from services.entity_link.mentions import ACRONYM_MAX_LETTERS, Mention
from services.entity_link.text import fold, without_legal_form

# Which KB types a recogniser type is compatible with, and at what strength.
_TYPE_FIT: dict[str | None, dict[str, float]] = {
    "PER": {"PER": 1.0},
    "ORG": {"ORG": 1.0, "PRODUCT": 0.5, "LOC": 0.3},
    "LOC": {"LOC": 1.0, "ORG": 0.4},
    "MISC": {"PRODUCT": 1.0, "EVENT": 1.0, "MISC": 1.0, "ORG": 0.3},
    None: {"ORG": 0.6, "PER": 0.6, "LOC": 0.6, "PRODUCT": 0.6, "EVENT": 0.6, "MISC": 0.6},
}


# A government is named by its capital or country ("Washington said", "Beijing condemned"), which the
# recogniser, like CoNLL-2003's annotators, calls a place.
_NAMED_BY_PLACE = frozenset({"government"})


def _words(text: str) -> frozenset[str]:
    return frozenset(fold(text).split())


_GOVERNMENT = _words(
    "government administration officials official policy policies sanctions tariffs tariff export exports controls "
    "curbs rule rules regulators regulation regulations lawmakers congress senate treasury department ministry "
    "minister diplomatic diplomats talks negotiations trade ban bans embargo federal agency legislation bill law "
    "announced measures security national election president spokesperson"
)
_PLACE = _words(
    "city visit visitors visiting travel travellers travelers tourists tourist tourism trip hotel hotels museum "
    "museums streets street downtown restaurant restaurants mayor residents neighbourhood neighborhood weekend "
    "sightseeing monuments monument park parks river airport tour flights guide landmarks galleries festival"
)
_COMPANY = _words(
    "company companies shares stock revenue profit profits sales customers products product launched launch chief "
    "executive ceo investors quarter billion million market firm startup brand devices software users platform "
    "technology tech business"
)
_AI = _words(
    "ai model models artificial intelligence language chatbot chatbots parameters open weights inference training "
    "tokens benchmark developers lab reasoning"
)
_CHIP = _words("chip chips processor processors semiconductor semiconductors gpu gpus accelerator data centre center")
_SPORT = _words(
    "match game season team league cup championship coach players player goal goals won win scored final tournament "
    "club innings wickets runs race"
)
_SPACE = _words(
    "space planet planets rover rovers orbit orbiter lander landing mission missions spacecraft probe launch "
    "astronauts astronomers telescope surface crater moon solar sun gravity atmosphere samples martian nasa esa"
)
_POLITICS = _words(
    "party parliament election minister president vote voters campaign opposition government policy senator mp"
)
_FINANCE = _words("analyst analysts brokerage securities shares stock rating target research note investors")

KIND_CUES: dict[str, frozenset[str]] = {
    "government": _GOVERNMENT,
    "international": _GOVERNMENT,
    "country": _PLACE | _GOVERNMENT,
    "capital": _PLACE,
    "city": _PLACE,
    "state": _PLACE,
    "place": _PLACE,
    "company": _COMPANY,
    "lab": _COMPANY | _AI,
    "model": _AI,
    "model_family": _AI,
    "product": _COMPANY,
    "chip": _CHIP,
    "planet": _SPACE,
    "brokerage": _FINANCE,
    "politician": _POLITICS,
    "head_of_state": _POLITICS,
    "sports_club": _SPORT,
    "national_team": _SPORT,
    "athlete": _SPORT,
}
# Places that lend their names to teams: towns to clubs, countries to national sides.
_TEAM_PLACE_KINDS = frozenset({"city", "state", "county", "country", "capital"})
# A place reached by another of its names (not its label) must be well known: the lists give villages
# translated names that read like famous ones ("Nice" for a Malawian district).
PROMINENT_PLACE = 0.85
# The recogniser's margin (perceptron units) from which its type is a hard constraint: below it, it guessed.
SURE_MARGIN = 0.0
# A surname alone names a person only if that person is famous and the only famous one of that name.
FAMOUS_SURNAME = 0.8
# How well known another meaning of a surname must be to keep the person out ("Washington" the capital).
OTHER_MEANING = 0.5
# How well known a one-word name must be to stand against the recogniser's type ("Washington").
FAMOUS_ALONE = 0.7
_STOP = _words("the a an of in on at for and or to by with from as is its company based")


@dataclass(frozen=True)
class Weights:
    popularity: float = 1.0
    type_fit: float = 0.6
    kind_context: float = 0.8
    description_context: float = 0.5
    coherence: float = 0.6
    exact_label: float = 0.15
    locative: float = 0.5
    threshold: float = 0.55  # below it, a mention is left unlinked (a local id)


@dataclass
class Choice:
    entity: KBEntity | None
    score: float
    confidence: float
    weight: float = 0.0  # how strongly the name points to the entity
    vouched: bool = False  # the operator gave the entity this name (the overlay)
    runner_up: float = 0.0  # the best other admissible candidate's score
    evidence: tuple[float, ...] = ()  # what the confidence was judged on (``confidence.EVIDENCE``)


# Everything a choice reads of a mention: two mentions alike in all of it get the same choice.
Reading = tuple[str, str | None, bool, bool]


def _signature(mention: Mention) -> Reading:
    return (mention.text, mention.ner_type, mention.locative, mention.acronym)


def _saturate(hits: int, half: float) -> float:
    return hits / (hits + half) if hits else 0.0


class ArticleEntities:
    """The provisional entities of an article (one per distinct mention reading), counted for coherence.

    Coherence compares a candidate with every other provisional entity; the
    counts make that a few look-ups instead of a scan, so a long article with
    thousands of distinct names stays linear.
    """

    def __init__(self, entities: Iterable[KBEntity]) -> None:
        self._count: Counter[str] = Counter()  # entity id -> how many readings chose it
        self._by_id: dict[str, KBEntity] = {}
        self._countries: Counter[str] = Counter()
        self._listed_by: Counter[str] = Counter()  # entity id -> how many chosen entities list it as related
        self._kin: Counter[str] = Counter()  # how many readings chose an entity of each kin (``kin_of``)
        for entity in entities:
            self._count[entity.id] += 1
            self._by_id[entity.id] = entity
            if entity.country:
                self._countries[entity.country] += 1
            self._listed_by.update(entity.related)
            self._kin[kin_of(entity)] += 1
        self._total = sum(self._count.values())

    def peers(self, entity: KBEntity, excluding: KBEntity | None) -> float:
        """How many of the others are the same kin of thing, in [0, 1]: a lab among labs, a club among clubs.

        News names its entities in kind ("Google, Baidu and DeepSeek"; a table of clubs): a pick of
        the kind the article is about is likelier than a namesake of another kind.
        """
        kin = kin_of(entity)
        others = self._kin[kin] - (excluding is not None and kin_of(excluding) == kin)
        return min(1.0, others / 3.0)

    def coherence(self, entity: KBEntity, excluding: KBEntity | None) -> float:
        """How well ``entity`` fits the others, in [0, 1]: all of them but ``excluding``, the mention's own.

        A KB relation (a model and its lab, a city and its state) counts fully;
        sharing a country only a little and only up to a point, as a story about
        China names many Chinese things, of which the obscure ones gain nothing.
        """
        if self._total - (excluding is not None) <= 0:
            return 0.0
        # Others related either way round, each counted once.
        related = self._listed_by[entity.id] + sum(
            self._count[other]
            for other in entity.related
            if other in self._by_id and entity.id not in self._by_id[other].related
        )
        same_country = self._countries[entity.country] - self._count[entity.id] if entity.country else 0
        if excluding is not None:
            related -= excluding.id in entity.related or entity.id in excluding.related
            same_country -= bool(entity.country) and excluding.country == entity.country and excluding.id != entity.id
        return min(1.0, related / 2.0 + min(0.25, 0.08 * same_country))


# Kinds of business news names alike: a lab is a company, and so is a bank or a brokerage.
_BUSINESS_KINDS = frozenset({"company", "lab", "brokerage", "bank", "exchange"})


def kin_of(entity: KBEntity) -> str:
    """The entity's kind, with the kinds news names alike taken together."""
    if entity.kind in TEAM_KINDS:
        return "team"
    if entity.kind in _BUSINESS_KINDS:
        return "business"
    return entity.kind or entity.type


_NO_ENTITIES = ArticleEntities(())


class _Context:
    """An article's words, and how well each entity's kind and description match them (computed once)."""

    def __init__(
        self,
        words: frozenset[str],
        weights: Weights,
        descriptions: dict[str, frozenset[str]],
        story: frozenset[str] = frozenset(),
    ) -> None:
        self.words = words
        self.story = story
        self.team_sport = SPORT in story and bool(_sports_of(words))
        self._weights = weights
        self._descriptions = descriptions
        self._fit: dict[str, float] = {}

    def fit(self, entity: KBEntity) -> float:
        fit = self._fit.get(entity.id)
        if fit is None:
            cues = KIND_CUES.get(entity.kind)
            kind_context = _saturate(len(cues & self.words), 3.0) if cues else 0.0
            description = self._describe(entity)
            description_context = _saturate(len(description & self.words), 2.0) if description else 0.0
            fit = self._weights.kind_context * kind_context + self._weights.description_context * description_context
            self._fit[entity.id] = fit
        return fit

    @staticmethod
    def _own_name(entity: KBEntity) -> str:
        """The words every mention of the entity repeats, which say nothing about the context."""
        return entity.name.split(" national ")[0] if entity.kind == "national_team" else entity.name

    def _describe(self, entity: KBEntity) -> frozenset[str]:
        words = self._descriptions.get(entity.id)
        if words is None:
            # The label's words too: "Australia national cricket team" goes with "wickets", "innings", "cricket".
            words = _words(f"{entity.name} {entity.description}") - _STOP - _words(self._own_name(entity))
            self._descriptions[entity.id] = words
        return words


class Disambiguator:
    def __init__(self, weights: Weights | None = None, confidence: ConfidenceModel | None = None) -> None:
        self.weights = weights or Weights()
        # Without a model every pick is emitted, with a confidence from its score and margin alone.
        self.confidence = confidence
        self._description_words: dict[str, frozenset[str]] = {}

    def choose(
        self,
        mentions: Sequence[Mention],
        words: frozenset[str],
        story: frozenset[str] = frozenset(),
        withhold_doubtful: bool = True,
    ) -> list[Choice]:
        """The entity of every mention (``None``: not in the KB), coherent with the others.

        Mentions that read alike (same text, recogniser type and place cue) get
        the same choice, computed once: a name repeated through an article
        costs one decision. ``story`` holds the article's kinds (``context.story_kinds``).
        A pick the confidence model does not trust is withheld (entity ``None``,
        its confidence and evidence kept) unless ``withhold_doubtful`` is off.
        """
        context = _Context(words, self.weights, self._description_words, story)
        readings: dict[Reading, Mention] = {}
        repeats: Counter[Reading] = Counter()
        for mention in mentions:
            signature = _signature(mention)
            readings.setdefault(signature, mention)
            repeats[signature] += 1
        first = {signature: self._best(m, context, _NO_ENTITIES, None) for signature, m in readings.items()}
        chosen = ArticleEntities(c.entity for c in first.values() if c.entity is not None)
        final: dict[Reading, Choice] = {}
        for signature, choice in first.items():
            mention = readings[signature]
            if len(mention.candidates) < 2 and choice.entity is not None:
                final[signature] = choice  # one candidate, already accepted: the others cannot change it
                continue
            final[signature] = self._best(mention, context, chosen, choice.entity)
        if self.confidence is not None:
            for signature, choice in final.items():
                if choice.entity is not None:
                    own, mention = first[signature].entity, readings[signature]
                    evidence = self.evidence(mention, choice, context, chosen, own, repeats[signature])
                    final[signature] = self._weighed(choice, evidence, withhold_doubtful)
        return [final[_signature(m)] for m in mentions]

    def _weighed(self, choice: Choice, evidence: tuple[float, ...], withhold_doubtful: bool) -> Choice:
        """The pick with the model's probability as its confidence, or withheld when the model distrusts it."""
        assert self.confidence is not None and choice.entity is not None
        probability = round(self.confidence.probability(evidence), 3)
        trusted = choice.vouched or self.confidence.trusts(probability) or not withhold_doubtful
        entity = choice.entity if trusted else None
        return Choice(entity, choice.score, probability, choice.weight, choice.vouched, choice.runner_up, evidence)

    def evidence(
        self,
        mention: Mention,
        choice: Choice,
        context: _Context,
        others: ArticleEntities,
        own: KBEntity | None,
        repeats: int,
    ) -> tuple[float, ...]:
        """What the confidence model judges a pick on, in ``confidence.EVIDENCE`` order."""
        entity = choice.entity
        assert entity is not None
        # A type the recogniser is unsure of says nothing either way: read as if it had given none.
        sure = mention.ner_type is not None and mention.ner_score >= SURE_MARGIN
        ner = mention.ner_type if sure else None
        rival = max((c.entity.prior * c.weight for c in mention.candidates if c.entity.id != entity.id), default=0.0)
        sport = SPORT in context.story
        place = entity.type == "LOC"
        return (
            entity.prior * choice.weight,
            entity.prior,
            choice.weight,
            choice.score,
            min(1.0, choice.score - choice.runner_up),
            rival,
            math.log1p(len(mention.candidates)),
            _type_fit(mention, entity) if sure else _TYPE_FIT[None][entity.type],
            float(ner == entity.type or (ner == "MISC" and entity.type in ("PRODUCT", "EVENT"))),
            math.tanh(mention.ner_score / 50.0) if mention.ner_type is not None else 0.0,
            float(bool(entity.description)),
            context.fit(entity),
            others.coherence(entity, own),
            others.peers(entity, own),
            float(_written_as_its_name(mention, entity)),
            float(mention.locative),
            min(len(mention.text.split()), 4) / 4,
            float(mention.text.isupper() and not mention.acronym),
            float(mention.acronym),
            float(mention.sentence_start),
            float(mention.in_title),
            math.log1p(repeats),
            float(entity.type == "PER"),
            float(entity.type == "ORG"),
            float(place),
            float(sport),
            float(sport and place and not mention.locative),
            float(entity.kind in TEAM_KINDS),
        )

    def _best(self, mention: Mention, context: _Context, others: ArticleEntities, own: KBEntity | None) -> Choice:
        plausible = [c for c in mention.candidates if not _unexpanded_acronym(mention, c, context.words)]
        admissible = [c for c in plausible if _admissible(mention, c, context)]
        admissible = _without_shared_surnames(admissible, mention.candidates)
        not_people = [c for c in plausible if c.entity.type != "PER"]
        famous = any(c.entity.prior * c.weight >= FAMOUS_ALONE for c in not_people)
        if not admissible and " " not in mention.text and famous and SPORT not in context.story:
            # A name famous as something else ("Washington has ...") outweighs the recogniser's "person";
            # not in sport, where players go by names that are also countries and clubs'.
            admissible = not_people
        candidates = _organisations_first(mention, admissible)
        candidates = _teams_in_sport(mention, candidates, context)
        if not candidates:
            return Choice(None, 0.0, 0.0)
        scored = sorted(
            ((self.score(mention, c, context, others, own), c) for c in candidates),
            key=lambda pair: -pair[0],
        )
        best_score, best = scored[0]
        if best_score < self.weights.threshold:
            return Choice(None, best_score, 0.0)
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        # Confidence grows with the margin over the runner-up and with the score itself.
        confidence = (1 - math.exp(-2.5 * (best_score - runner_up + 0.2))) * min(1.0, best_score)
        confidence = round(max(0.01, min(1.0, confidence)), 3)
        return Choice(best.entity, best_score, confidence, best.weight, best.vouched, runner_up)

    def score(
        self, mention: Mention, candidate: Candidate, context: _Context, others: ArticleEntities, own: KBEntity | None
    ) -> float:
        """A candidate's score; ``others`` are the article's provisional entities, ``own`` the mention's among them."""
        entity, w = candidate.entity, self.weights
        fit = _type_fit(mention, entity)
        exact = 1.0 if _written_as_its_name(mention, entity) else 0.0
        place = 1.0 if mention.locative and entity.type == "LOC" else 0.0
        return (
            w.locative * place
            + w.popularity * entity.prior * candidate.weight
            + w.type_fit * fit
            + context.fit(entity)
            + w.coherence * others.coherence(entity, own)
            + w.exact_label * exact
        )


def _admissible(mention: Mention, candidate: Candidate, context: _Context) -> bool:
    """Whether a candidate may be the mention's entity at all: a wrong id is worse than none.

    The recogniser's type is a hard constraint where it is telling (a
    person's name never names a place or a company; a name used as an
    adjective or a work never names a place); in a sports story a team's name
    (the recogniser's ORG) never names the place it is called after, and a
    team is named by its place's name only there. A place reached through
    another of its names must be prominent; a title of unknown type must
    match the mention's words exactly.
    """
    entity, ner, story = candidate.entity, mention.ner_type, context.story
    if entity.kind == UNTYPED:
        return ner is not None and candidate.weight >= LABEL_WEIGHT and " " in mention.text
    sure = mention.ner_score >= SURE_MARGIN
    if sure and ner == "PER" and entity.type != "PER":
        return False
    if sure and ner == "MISC" and entity.type in ("PER", "LOC"):
        return False
    # An organisation's acronym is no code a place also goes by ("IRA" is not Iran).
    if sure and ner == "ORG" and mention.acronym and entity.type == "LOC" and candidate.weight < LABEL_WEIGHT:
        return False
    if entity.type == "PER" and ner not in ("PER", None):
        return False
    sport = SPORT in story
    if entity.kind in TEAM_KINDS and candidate.weight < LABEL_WEIGHT and not (sport and not mention.locative):
        return False
    # Results and tables name clubs by their towns ("Reading 2 Oldham 1") and sponsors ("Hyundai"), and
    # national sides by their countries ("Latvia 0 Sweden 1"): a team the KB lacks is no place.
    if context.team_sport and not mention.locative and (entity.kind in _TEAM_PLACE_KINDS or entity.kind == "company"):
        return False
    if entity.type == "LOC":
        if sport and ner == "ORG":
            return False
        if candidate.weight < LABEL_WEIGHT and entity.prior < PROMINENT_PLACE:
            return False
    return not (candidate.weight <= SURNAME_WEIGHT and entity.type == "PER" and entity.prior < FAMOUS_SURNAME)


# Team sports, and the words that give each away in an article or in a team's label and description.
_TEAM_SPORTS: dict[str, frozenset[str]] = {
    "football": _words("football soccer striker midfielder goalkeeper goal goals goalless penalty qualifier friendly"),
    "cricket": _words("cricket innings wickets wicket bowled batsman"),
    "rugby": _words("rugby scrum tries"),
    "basketball": _words("basketball nba rebounds"),
    "hockey": _words("hockey nhl"),
    "baseball": _words("baseball pitcher homer inning"),
    "gridiron": _words("gridiron quarterback touchdown nfl cfl"),
}
# A team described as playing "American football" or "Canadian football" plays gridiron, not football.
_GRIDIRON = re.compile(r"\b(?:american|canadian) football\b")


def _sports_of(words: frozenset[str]) -> frozenset[str]:
    return frozenset(sport for sport, cues in _TEAM_SPORTS.items() if cues & words)


def _teams_in_sport(mention: Mention, candidates: list[Candidate], context: _Context) -> list[Candidate]:
    """In a team-sport story, a place's name that is also a team's is the team ("England beat Pakistan"),
    not the place or its government.

    Only a team of the story's sport: "England" in a cricket story is not the
    football team, and when the KB holds no team of that sport the name is
    left unlinked rather than given to the place. In a story of another
    sport (athletics, golf), or after "in", or in a dateline, it is the place.
    """
    if SPORT not in context.story or mention.locative or not any(c.entity.kind in TEAM_KINDS for c in candidates):
        return candidates
    story_sports = _sports_of(context.words)
    if not story_sports:  # athletics, golf: a place's name is the place; a club's own name is the club
        places = any(c.entity.type == "LOC" for c in candidates)
        return [c for c in candidates if not (places and c.entity.kind in TEAM_KINDS)]

    def plays(entity: KBEntity) -> bool:
        described = _GRIDIRON.sub("gridiron", fold(f"{entity.name} {entity.description}"))
        return bool(_sports_of(_words(described)) & story_sports)

    # The place's government, which news also names by the place ("Washington said"), is out as well.
    return [
        c
        for c in candidates
        if c.entity.type != "LOC"
        and c.entity.kind not in _NAMED_BY_PLACE
        and (c.entity.kind not in TEAM_KINDS or plays(c.entity))
    ]


def _without_shared_surnames(candidates: list[Candidate], every: Sequence[Candidate]) -> list[Candidate]:
    """People reached by a surname alone, dropped when the name means something else as much.

    Several famous people share it ("Henry"), or it is a well-known place's or
    company's own name ("Washington"): none of the people is meant more.
    ``every`` is all the mention's candidates, admissible or not.
    """
    by_surname = [c for c in candidates if c.entity.type == "PER" and c.weight <= SURNAME_WEIGHT]
    if not by_surname:
        return candidates
    other_meaning = any(c.entity.type != "PER" and c.entity.prior * c.weight >= OTHER_MEANING for c in every)
    if len(by_surname) < 2 and not other_meaning:
        return candidates
    return [c for c in candidates if c not in by_surname]


def _written_as_its_name(mention: Mention, entity: KBEntity) -> bool:
    """The mention reads as the entity's own name: its label, or a company's label without "Inc."."""
    if mention.text == entity.name:
        return True
    return (
        entity.type == "ORG"
        and entity.name.startswith(mention.text)
        and without_legal_form(entity.name) == mention.text
    )


def _type_fit(mention: Mention, entity: KBEntity) -> float:
    """How well what the recogniser called the mention suits the candidate's type, in [0, 1]."""
    if entity.kind == UNTYPED:
        return 1.0  # a bare title: it is whatever the recogniser saw
    if entity.kind in _NAMED_BY_PLACE:
        if mention.locative:
            return 0.0  # "in Washington" is the city, not the government
        if mention.ner_type == "LOC":
            return 1.0  # "Washington said": the government's name is a place name
    return _TYPE_FIT.get(mention.ner_type, _TYPE_FIT[None]).get(entity.type, 0.0)


_POPULAR = 0.6


def _unexpanded_acronym(mention: Mention, candidate: Candidate, context: frozenset[str]) -> bool:
    """An acronym ("US", "API") names an obscure entity only if the article also spells its name out.

    "US" is the United States, not the University of Silesia, unless the
    article says "University of Silesia" somewhere.
    """
    letters = mention.text.replace(".", "")
    if not (letters.isupper() and len(letters) <= ACRONYM_MAX_LETTERS) or candidate.entity.prior >= _POPULAR:
        return False
    if candidate.weight >= LABEL_WEIGHT and candidate.entity.name.replace(".", "") == letters:
        return False  # the acronym is the entity's own name (ASML, BYD)
    return not (_words(candidate.entity.name) - _STOP) <= context


def _organisations_first(mention: Mention, candidates: list[Candidate]) -> list[Candidate]:
    """For an acronym amid lower-case text, the organisations it abbreviates over names it only spells.

    "AMD" in "Nvidia and AMD" is Advanced Micro Devices, not the town of Amd,
    whose name reads the same only in lower case.
    """
    if not mention.acronym:
        return candidates
    letters = fold(mention.text).replace(" ", "")

    def spelled(candidate: Candidate) -> bool:
        return fold(candidate.entity.name).replace(" ", "") == letters

    if not any(c.entity.type == "ORG" and not spelled(c) for c in candidates):
        return candidates
    return [c for c in candidates if not spelled(c)]
