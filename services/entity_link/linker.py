"""Entity linking of one article: mentions, their entities, and what the article says about each.

Only ``title`` and ``body`` are read. Ingest has already removed aggregator
padding from the body (and keeps facts from it in ``metadata``, which is
never read here), so no entity comes from padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from services.entity_link.confidence import ConfidenceModel
from services.entity_link.context import story_kinds
from services.entity_link.disambiguation import Choice, Disambiguator, Weights
from services.entity_link.kb.index import KnowledgeBase
from services.entity_link.kb.more import UNTYPED
from services.entity_link.mentions import Mention, MentionFinder
from services.entity_link.ner.tagger import Tagger
from services.entity_link.settings import DEFAULT_CONFIDENCE, DEFAULT_KB, DEFAULT_NER_MODEL, DEFAULT_OVERLAY
from services.entity_link.text import LEGAL_FORMS, fold, handle_for, local_id, normalise_alias
from shared.messages import ArticleFields, Entity, EntityType

# How much a mention counts toward salience, by where it is.
TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 1.5
LEAD_CHARS = 400
# raw / (raw + SALIENCE_HALF): an entity named in the title, the lead and a few times after is ~0.7.
SALIENCE_HALF = 3.0
_NER_TO_TYPE: dict[str, EntityType] = {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "MISC": "MISC"}
# Last words that make a name an organisation's, whatever the recogniser thought ("Tramonta Holdings").
# fmt: off
_ORGANISATION_WORDS = LEGAL_FORMS | frozenset({
    "group", "technologies", "technology", "labs", "studios", "studio", "securities",
    "capital", "partners", "ventures", "bank", "airlines", "airways", "motors", "pharmaceuticals", "systems",
    "networks", "semiconductor", "electronics", "media", "entertainment", "foundation", "institute", "university",
    "agency", "association", "council", "ministry", "authority", "commission", "federation", "union",
})
# fmt: on
# First words that make a name a storm's, which the recogniser takes for a person's ("Typhoon Kalinaw").
_STORM_WORDS = frozenset({"typhoon", "hurricane", "cyclone", "storm"})
# The same entities come back article after article; their handles are worth remembering.
_handle = lru_cache(maxsize=1 << 15)(handle_for)


def load_knowledge_base(kb_path: Path = DEFAULT_KB, overlay_path: Path | None = DEFAULT_OVERLAY) -> KnowledgeBase:
    return KnowledgeBase.load(kb_path, overlay_path if overlay_path is not None and overlay_path.exists() else None)


ENGLISH = "en"
# What the stage records (``enrichments["entity_link"]``) when it can only look names up.
UNSUPPORTED_LANGUAGE = "unsupported_language"
LOCAL_PREFIX = "nf:"
# The confidence a link needs to name the article's withheld mentions of the same name (``_one_sense_per_name``).
ONE_SENSE_CONFIDENCE = 0.8
# A heading-like line: short, no sentence punctuation at its end, most words capitalised.
_HEADING_MAX_WORDS = 10
_HEADING_END = (".", "!", "?", ":", ";", ",", '"', "”")


@dataclass
class ArticleLinks:
    entities: list[Entity]
    status: dict[str, str] | None  # set when the stage could do less than usual (another language)


def heading_spans(article: ArticleFields) -> list[tuple[int, int]] | None:
    """The body's headings ingest found, as (start, end) offsets; None when it found none (an HTML
    page, or text without sections), and the body's heading-like lines are looked at instead."""
    if not article.headings:
        return None
    return [(heading.start, heading.start + len(heading.text)) for heading in article.headings]


def heading_like_lines(body: str) -> list[tuple[int, int]]:
    """Lines of the body that read as headings: short, unpunctuated at the end, mostly capitalised."""
    spans = []
    offset = 0
    for line in body.split("\n"):
        words = line.split()
        if (
            words
            and len(words) <= _HEADING_MAX_WORDS
            and not line.rstrip().endswith(_HEADING_END)
            and sum(w[:1].isupper() for w in words) * 2 > len(words)
        ):
            spans.append((offset, offset + len(line)))
        offset += len(line) + 1
    return spans


def _fills_a_line(mention: Mention, lines: Sequence[tuple[int, int]]) -> bool:
    """Whether a mention takes up most of one of these lines (the line is the name, or its wording is)."""
    for start, end in lines:
        if start <= mention.start and mention.end <= end:
            return 2 * (mention.end - mention.start) >= end - start
    return False


@dataclass
class LinkedMention:
    mention: Mention
    entity_id: str
    name: str
    type: EntityType
    confidence: float
    kind: Literal["demonym"] | None = None
    evidence: tuple[float, ...] = ()  # what a KB link's confidence was judged on (``confidence.EVIDENCE``)


@dataclass
class _Group:
    id: str
    name: str
    type: EntityType
    kind: Literal["demonym"] | None = None
    weight: float = 0.0
    confidence: float = 0.0
    mentions: int = 0
    spans: list[tuple[int, int]] = field(default_factory=list)


class Linker:
    def __init__(
        self,
        kb: KnowledgeBase,
        tagger: Tagger,
        weights: Weights | None = None,
        confidence: ConfidenceModel | None = None,
    ) -> None:
        self.kb = kb
        self.finder = MentionFinder(kb, tagger)
        self.disambiguator = Disambiguator(weights, confidence)

    @classmethod
    def from_files(
        cls,
        kb_path: Path = DEFAULT_KB,
        ner_model_path: Path = DEFAULT_NER_MODEL,
        overlay_path: Path | None = DEFAULT_OVERLAY,
        confidence_path: Path | None = DEFAULT_CONFIDENCE,
    ) -> Linker:
        kb = load_knowledge_base(kb_path, overlay_path)
        _ = kb.matcher  # built now, while the service starts, not while its first article waits (~10 s)
        confidence = ConfidenceModel.load(confidence_path) if confidence_path is not None else None
        return cls(kb, Tagger.load(ner_model_path, kb.token_types), confidence=confidence)

    def link(self, article: ArticleFields) -> list[Entity]:
        return self.link_article(article).entities

    def link_article(self, article: ArticleFields) -> ArticleLinks:
        """An article's entities, read as its language allows.

        English text goes through the recogniser; text in another language
        (``language`` comes from the enrich stage) only gets the names the KB
        knows, and says so: the recogniser learnt English and would take
        German nouns and weekdays for names.
        """
        linked, status = self.linked_mentions(article)
        return ArticleLinks(self.entities(linked, len(article.body)), status)

    def linked_mentions(self, article: ArticleFields) -> tuple[list[LinkedMention], dict[str, str] | None]:
        """An article's mentions with their entities, before they are grouped (see ``link_article``)."""
        language = getattr(article, "language", None)
        if language and language != ENGLISH:
            status = {"status": UNSUPPORTED_LANGUAGE, "language": language, "mode": "dictionary"}
            return self.link_known(article.title, article.body), status
        return self.link_mentions(article.title, article.body, heading_spans(article)), None

    def link_text(self, title: str, body: str) -> list[Entity]:
        return self.entities(self.link_mentions(title, body), len(body))

    def link_mentions(
        self, title: str, body: str, headings: Sequence[tuple[int, int]] | None = None
    ) -> list[LinkedMention]:
        """Every mention with the entity it names: a KB id, or a local id for a name the KB lacks.

        ``headings`` are the body's heading lines (offsets); when not given,
        lines that look like headings are found in the body. A name the KB
        does not know that fills most of a heading (or the title) is the
        heading's wording, not a name, and is left out.
        """
        mentions = [m for m in self.finder.find(title, body) if _has_letters(m.text)]
        words = fold(f"{title} {body}").split()
        choices = self.disambiguator.choose(mentions, frozenset(words), story_kinds(words, body))
        linked: list[LinkedMention | None] = [
            None if self.kb.is_blocked(m.key) else self._demonym(m) or self._linked(m, c)
            for m, c in zip(mentions, choices, strict=True)
        ]
        _resolve_short_forms(mentions, choices, linked)
        _one_sense_per_name(linked)
        lines = [(0, len(title))] if title else []
        body_lines = list(headings) if headings is not None else heading_like_lines(body)
        return [
            item
            for item in linked
            if item is not None
            and not (
                item.entity_id.startswith(LOCAL_PREFIX)
                and _fills_a_line(item.mention, lines if item.mention.in_title else body_lines)
            )
        ]

    def link_known(self, title: str, body: str) -> list[LinkedMention]:
        """Only the names the KB knows, by its labels and aliases (any language, unspaced scripts too)."""
        mentions = self.finder.find_known(title, body)
        # The confidence model learnt from English text through the recogniser; here it only grades the links.
        words = frozenset(fold(f"{title} {body}").split())
        choices = self.disambiguator.choose(mentions, words, withhold_doubtful=False)
        return [
            LinkedMention(m, c.entity.id, c.entity.name, c.entity.type, c.confidence)
            for m, c in zip(mentions, choices, strict=True)
            if c.entity is not None and not self.kb.is_blocked(m.key)
        ]

    def _demonym(self, mention: Mention) -> LinkedMention | None:
        """ "German" in "the German striker": Germany as a facet, never a mention of the country.

        The recogniser calls such adjectives MISC (or nothing); a demonym it
        calls a person or an organisation is a name of its own.
        """
        if mention.ner_type not in ("MISC", None):
            return None
        country = self.kb.demonym_of(mention.key)
        if country is None:
            return None
        return LinkedMention(mention, country.id, country.name, "MISC", 1.0, kind="demonym")

    @staticmethod
    def _linked(mention: Mention, choice: Choice) -> LinkedMention | None:
        if choice.entity is not None:
            entity = choice.entity
            # A bare title of unknown type is whatever the recogniser saw in it.
            kind = unknown_name_type(mention) if entity.kind == UNTYPED else entity.type
            return LinkedMention(mention, entity.id, entity.name, kind, choice.confidence, evidence=choice.evidence)
        if mention.ner_type is None:
            return None  # only the KB thought this a name, and none of its entities fits
        kind = unknown_name_type(mention)
        # The recogniser's margin (perceptron units) as a rough confidence for a name the KB lacks.
        confidence = round(min(0.95, max(0.05, 0.5 + mention.ner_score / 40)), 3)
        return LinkedMention(mention, local_id(kind, mention.text), mention.text, kind, confidence)

    @staticmethod
    def entities(linked: Sequence[LinkedMention], body_length: int) -> list[Entity]:
        groups: dict[str, _Group] = {}
        for item in linked:
            key = f"{item.entity_id}#{item.kind}" if item.kind else item.entity_id
            group = groups.setdefault(key, _Group(item.entity_id, item.name, item.type, item.kind))
            mention = item.mention
            group.mentions += 1
            group.confidence = max(group.confidence, item.confidence)
            if mention.in_title:
                group.weight += TITLE_WEIGHT
                continue
            group.spans.append((mention.start, mention.end))
            if mention.start < LEAD_CHARS:
                group.weight += LEAD_WEIGHT
            else:
                # Later mentions count a little less: news puts what matters first.
                group.weight += 1.0 - 0.5 * mention.start / max(body_length, 1)
        entities = [
            Entity(
                id=g.id,
                name=g.name,
                type=g.type,
                handle=_handle(g.name),
                mentions=g.mentions,
                salience=round(g.weight / (g.weight + SALIENCE_HALF), 3),
                confidence=round(g.confidence, 3),
                spans=sorted(g.spans),
                kind=g.kind,
            )
            for g in groups.values()
        ]
        return sorted(entities, key=lambda e: (-e.salience, e.id))


def _has_letters(text: str) -> bool:
    """Numbers ("76", "1 2 3", "1996-08-31 A") are never names, whatever an alias list says."""
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    return any(char.isalpha() for char in first)


def unknown_name_type(mention: Mention) -> EntityType:
    """The type of a name the KB lacks: the recogniser's, but an acronym, a company or a storm is no person.

    The recogniser learnt people from 1996 newswire, where a lone unknown
    capitalised word was mostly a surname; "TSMC" amid lower-case text, or
    "Lanternfield Holdings", is an organisation ("SHEARER" in a headline is not).
    """
    kind = _NER_TO_TYPE[mention.ner_type or "MISC"]
    if kind != "PER":
        return kind
    words = mention.text.lower().split()
    if mention.acronym or (words and words[-1].rstrip(".") in _ORGANISATION_WORDS):
        return "ORG"
    if len(words) > 1 and words[0] in _STORM_WORDS:
        return "EVENT"
    return kind


def _may_be_short_form(mention: Mention, choice: Choice) -> bool:
    """A name the KB does not know, or one word the KB knows only as another's short name ("Lebed")."""
    entity = choice.entity
    return entity is None or (" " not in mention.text and mention.key != normalise_alias(entity.name))


def _one_sense_per_name(linked: list[LinkedMention | None]) -> None:
    """A name the article links once to one KB entity names it everywhere in the article.

    A mention whose own context was too thin to link (the confidence model withheld it) keeps a
    local id; where the same name is linked elsewhere in the article, one article using one name
    for two things is far rarer than a withheld mention of the same one, and a facet listing the
    name twice (a local id and a QID) serves nobody. Only a confident link names the others (at
    any confidence, AIDA precision fell a point: a doubtful link spread); a name linked to two
    entities is left alone.
    """
    senses: dict[str, set[int]] = {}
    for index, item in enumerate(linked):
        if (
            item is not None
            and item.kind is None
            and not item.entity_id.startswith(LOCAL_PREFIX)
            and item.confidence >= ONE_SENSE_CONFIDENCE
        ):
            senses.setdefault(item.mention.key, set()).add(index)
    for index, item in enumerate(linked):
        if item is None or item.kind is not None or not item.entity_id.startswith(LOCAL_PREFIX):
            continue
        sources = [source for j in sorted(senses.get(item.mention.key, ())) if (source := linked[j]) is not None]
        if len({source.entity_id for source in sources}) == 1:
            source = sources[0]
            linked[index] = LinkedMention(
                item.mention, source.entity_id, source.name, source.type, source.confidence, evidence=source.evidence
            )


def _resolve_short_forms(
    mentions: Sequence[Mention], choices: Sequence[Choice], linked: list[LinkedMention | None]
) -> None:
    """A short name that is the start or end of a longer name in the article is that entity.

    "Altman" after "Sam Altman", "Lanternfield" after "Lanternfield Capital":
    news introduces a name in full and shortens it afterwards. Of several
    longer names, the longest (the first of those) is the source; a KB-only
    mention (no recogniser type) may be the source of any short form.
    """
    words = [tuple(m.text.split()) for m in mentions]
    # (leading or trailing words, recogniser type of the longer name) -> the index of the longest such name.
    longest: dict[tuple[tuple[str, ...], str | None], int] = {}
    for index, name in enumerate(words):
        item = linked[index]
        if item is None or item.kind is not None:
            continue
        for size in range(1, len(name)):
            for affix in {name[:size], name[-size:]}:
                held = longest.get((affix, mentions[index].ner_type))
                if held is None or len(words[held]) < len(name):
                    longest[(affix, mentions[index].ner_type)] = index
    for index, mention in enumerate(mentions):
        short = linked[index]
        if short is None or short.kind is not None or not _may_be_short_form(mention, choices[index]):
            continue
        fuller = [
            j
            for j in (longest.get((words[index], mention.ner_type)), longest.get((words[index], None)))
            if j is not None
        ]
        if fuller:
            source = linked[min(fuller, key=lambda j: (-len(words[j]), j))]
            if source is not None:
                linked[index] = LinkedMention(
                    mention, source.entity_id, source.name, source.type, source.confidence, evidence=source.evidence
                )
