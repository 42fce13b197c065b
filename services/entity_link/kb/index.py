"""The knowledge base in memory: entities by id, candidates by alias, and the alias matcher.

Loaded from the artifact, then the operators' overlay is applied on top
(``kb/overlay.py``), so adding an entity or blocking a false alias needs no
rebuild. Every alias an entity answers to carries a weight: how strongly the
name points to it (1 for its own label, less for secondary names, and the
observed share when mention counts are added).

Memory matters (the stage's budget is 600 MB with the bundled KB): an
entity's names live only in the alias index, never also on the entity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from services.entity_link.kb.entity import KBEntity, read_artifact
from services.entity_link.kb.matcher import AliasMatch, AliasMatcher, key_variants
from services.entity_link.text import UNSPACED_NAME, fold, normalise_alias, without_legal_form

LABEL_WEIGHT = 1.0
ALIAS_WEIGHT = 0.8
# A well-known person is often named by surname alone ("Lukashenko"); the surname points to them weakly.
SURNAME_WEIGHT = 0.4
SURNAME_MIN_PRIOR = 0.4
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
BLOCK_ALL = "*"
# The kind of an entity whose type no source gave (``kb/more.py`` makes them).
UNTYPED_KIND = "untyped"
_ROMAN = re.compile(r"[IVXL]+")
_LOOKUP_CACHE_LIMIT = 100_000

# Bits of ``token_types``: which kinds of name a word is part of (features for the recogniser).
TYPE_BITS = {"ORG": 1, "PER": 2, "LOC": 4, "PRODUCT": 8, "EVENT": 8, "MISC": 8}


@dataclass(frozen=True, slots=True)
class Candidate:
    entity: KBEntity
    weight: float  # how strongly the alias points to this entity, in [0, 1]
    vouched: bool = False  # the operator gave the entity this name (the overlay)


_ACRONYM = re.compile(r"[A-Z]{2,5}")


def _alias_keys(alias: str) -> list[str]:
    """The keys an alias is found by: its normalised form, and for an acronym also its dotted spelling.

    "UN" is also written "U.N.", which folds to "u n".
    """
    key = normalise_alias(alias)
    if len(key) < 2:
        return []
    if _ACRONYM.fullmatch(alias):
        return [key, " ".join(key)]
    return [key]


class KnowledgeBase:
    def __init__(self, entities: Iterable[KBEntity] = ()) -> None:
        self.entities: dict[str, KBEntity] = {}
        self.redirects: dict[str, str] = {}
        # alias key -> ((entity id, weight), ...): tuples, as a dict per alias would double the memory.
        self.aliases: dict[str, tuple[tuple[str, float], ...]] = {}
        self.blocked: set[tuple[str, str]] = set()  # (alias key, entity id or BLOCK_ALL)
        self.demonyms: dict[str, str] = {}  # demonym key ("german") -> the country's id
        self.vouched: set[tuple[str, str]] = set()  # (alias key, entity id) the operator's overlay gave
        self._matcher: AliasMatcher | None = None
        self._unspaced: tuple[frozenset[str], int] | None = None  # unspaced-script keys, the longest's length
        self._group_keys: list[str] = []
        self._token_types: dict[str, int] | None = None
        self._lookups: dict[str, tuple[Candidate, ...]] = {}
        self._type_bits: dict[str, int] = {}
        for entity in entities:
            self.add(entity)

    @classmethod
    def load(cls, artifact: Path, overlay: Path | None = None) -> KnowledgeBase:
        kb = cls(read_artifact(artifact))
        if overlay is not None:
            # Imported here: the overlay module builds on this one.
            from services.entity_link.kb.overlay import apply_overlay, read_overlay

            apply_overlay(kb, read_overlay(overlay))
        return kb

    # -- changes ---------------------------------------------------------------
    def add(self, entity: KBEntity) -> KBEntity:
        """Add an entity (or give more names to the one held under its id); returns the held one."""
        names, demonyms = entity.all_names(), entity.demonyms
        held = self.get(entity.id)
        if held is not None and held is not entity:
            held.related = tuple(sorted({*held.related, *entity.related}))
            entity = held
        entity.aliases = ()  # names live in the alias index only
        self.entities[entity.id] = entity
        for other in entity.also:
            self.redirects[other] = entity.id
        self.add_alias(entity.id, names[0], LABEL_WEIGHT)
        if entity.type == "ORG":
            # The label without "Inc." or "Ltd." is as much the entity's own name as the label.
            if (bare_label := without_legal_form(names[0])) != names[0]:
                self.add_alias(entity.id, bare_label, LABEL_WEIGHT)
        elif entity.type == "PER" and entity.prior >= SURNAME_MIN_PRIOR:
            words = [w for w in names[0].split() if w.lower() not in _NAME_SUFFIXES]
            # "Elizabeth I of England", "Henry VIII": a title, not a surname, ends the name.
            if len(words) >= 2 and all(w[:1].isupper() for w in words) and not _ROMAN.fullmatch(words[-1]):
                self.add_alias(entity.id, words[-1], SURNAME_WEIGHT)
        label_words = len(names[0].split())
        for alias in names[1:]:
            # One word for a person of a longer name is a surname, whatever list gave it ("Washington").
            surname = entity.type == "PER" and label_words > 1 and " " not in alias.strip()
            self.add_alias(entity.id, alias, SURNAME_WEIGHT if surname else ALIAS_WEIGHT)
        for demonym in demonyms:
            self.add_alias(entity.id, demonym, ALIAS_WEIGHT)
            for key in _alias_keys(demonym):
                self.demonyms.setdefault(key, entity.id)
        entity.demonyms = ()  # like names, held in the index only
        self._invalidate()  # the held entity's prior may have changed, and with it the candidates' order
        return entity

    def vouch(self, entity_id: str, alias: str) -> None:
        """Record that the operator gave the entity this name: a link by it is their word, never withheld."""
        entity_id = self.resolve(entity_id)
        self.vouched.update((key, entity_id) for key in _alias_keys(alias))
        self._lookups.clear()

    def add_alias(self, entity_id: str, alias: str, weight: float = ALIAS_WEIGHT) -> None:
        entity_id = self.resolve(entity_id)
        for key in _alias_keys(alias):
            if (key, entity_id) not in self.blocked and (key, BLOCK_ALL) not in self.blocked:
                self._set_weight(key, entity_id, weight, keep_higher=True)

    def set_alias_weight(self, entity_id: str, alias: str, weight: float) -> None:
        """Set a name's weight for an entity, lower or higher than it was (mention statistics)."""
        for key in _alias_keys(alias):
            self._set_weight(key, self.resolve(entity_id), weight, keep_higher=False)

    def _set_weight(self, key: str, entity_id: str, weight: float, keep_higher: bool) -> None:
        held = dict(self.aliases.get(key, ()))
        if keep_higher and held.get(entity_id, -1.0) >= weight:
            return
        held[entity_id] = weight
        self.aliases[key] = tuple(held.items())
        self._invalidate()

    def block(self, alias: str, entity_id: str = BLOCK_ALL) -> None:
        entity_id = entity_id if entity_id == BLOCK_ALL else self.resolve(entity_id)
        for key in _alias_keys(alias):
            self.blocked.add((key, entity_id))
            kept = tuple((id_, w) for id_, w in self.aliases.get(key, ()) if entity_id not in (BLOCK_ALL, id_))
            if kept:
                self.aliases[key] = kept
            else:
                self.aliases.pop(key, None)
        self._invalidate()

    def merge(self, secondary_id: str, main_id: str) -> None:
        """Make ``secondary_id`` another name for ``main_id`` (a list's duplicate or stale item)."""
        main = self.get(main_id)
        secondary = self.entities.pop(secondary_id, None)
        if main is None:
            if secondary is None:
                return
            secondary.id = main_id
            self.entities[main_id] = main = secondary
        elif secondary is not None:
            main.prior = max(main.prior, secondary.prior)
        main.also = tuple(sorted({*main.also, secondary_id}))
        self.redirects[secondary_id] = main.id
        for key, weights in list(self.aliases.items()):
            if any(id_ == secondary_id for id_, _ in weights):
                for id_, weight in weights:
                    if id_ == secondary_id:
                        self._set_weight(key, main.id, weight, keep_higher=True)
                self.aliases[key] = tuple((id_, w) for id_, w in self.aliases[key] if id_ != secondary_id)
        for entity in self.entities.values():
            if secondary_id in entity.related:
                entity.related = tuple(sorted({main.id if r == secondary_id else r for r in entity.related}))
        self._invalidate()

    def _invalidate(self) -> None:
        self._matcher = None
        self._unspaced = None
        self._token_types = None
        self._lookups.clear()
        self._type_bits.clear()

    # -- look-ups --------------------------------------------------------------
    def resolve(self, entity_id: str) -> str:
        seen: set[str] = set()
        while entity_id in self.redirects and entity_id not in seen:
            seen.add(entity_id)
            entity_id = self.redirects[entity_id]
        return entity_id

    def is_blocked(self, key: str) -> bool:
        """Whether operators said a name is no name at all ("AI"): not even an unknown entity."""
        return (key, BLOCK_ALL) in self.blocked

    def demonym_of(self, key: str) -> KBEntity | None:
        """The country an adjective names its people or things after ("German" -> Germany), if it is one."""
        country = self.demonyms.get(key)
        return self.get(country) if country is not None and (key, BLOCK_ALL) not in self.blocked else None

    def get(self, entity_id: str) -> KBEntity | None:
        return self.entities.get(self.resolve(entity_id))

    def candidates(self, key: str) -> list[Candidate]:
        """Entities a normalised alias may name, strongest first."""
        found = [
            Candidate(self.entities[id_], w, (key, id_) in self.vouched)
            for id_, w in self.aliases.get(key, ())
            if id_ in self.entities
        ]
        return sorted(found, key=lambda c: -c.weight * c.entity.prior)

    def lookup(self, name: str) -> list[Candidate]:
        """Candidates for a name as written, strongest first."""
        return list(self.lookup_key(normalise_alias(name)))

    def lookup_key(self, key: str) -> tuple[Candidate, ...]:
        """Candidates for a normalised name under all its spellings (``key_variants``), strongest first.

        Remembered: news repeats the same few thousand names, and an article
        its own names many times over.
        """
        found = self._lookups.get(key)
        if found is None:
            best: dict[str, Candidate] = {}
            for variant in key_variants(key):
                for candidate in self.candidates(variant):
                    held = best.get(candidate.entity.id)
                    if held is None or candidate.weight > held.weight:
                        best[candidate.entity.id] = candidate
            found = tuple(sorted(best.values(), key=lambda c: -c.weight * c.entity.prior))
            if len(self._lookups) >= _LOOKUP_CACHE_LIMIT:
                self._lookups.clear()
            self._lookups[key] = found
        return found

    @property
    def matcher(self) -> AliasMatcher:
        if self._matcher is None:
            self._group_keys = list(self.aliases)
            self._matcher = AliasMatcher((key, group) for group, key in enumerate(self._group_keys))
        return self._matcher

    def find_aliases(self, text: str) -> list[tuple[AliasMatch, str]]:
        """Every alias occurrence in ``text``, with the alias key it matched."""
        matcher = self.matcher
        return [(match, self._group_keys[match.group]) for match in matcher.find(text)]

    def find_unspaced(self, text: str) -> list[tuple[int, int, str]]:
        """Known names in Chinese or Japanese text, which has no spaces to find words by: longest first.

        Returns (start, end, alias key) for each, never overlapping.
        """
        if self._unspaced is None:
            keys = frozenset(key for key in self.aliases if UNSPACED_NAME.fullmatch(key))
            self._unspaced = (keys, max(map(len, keys), default=0))
        keys, longest = self._unspaced
        folded = fold(text)  # keys are folded ("ガ" reads "カ"); folding keeps every offset
        found: list[tuple[int, int, str]] = []
        for run in UNSPACED_NAME.finditer(folded):
            start, end = run.span()
            while start < end - 1:
                sizes = range(min(longest, end - start), 1, -1)
                size = next((n for n in sizes if folded[start : start + n] in keys), 0)
                if size:
                    found.append((start, start + size, folded[start : start + size]))
                start += size or 1
        return found

    def type_bits(self, key: str) -> int:
        """The ``TYPE_BITS`` of every entity an alias key may name (remembered: asked for every alias found)."""
        bits = self._type_bits.get(key)
        if bits is None:
            bits = 0
            for entity_id, _ in self.aliases.get(key, ()):
                entity = self.entities.get(entity_id)
                if entity is not None and entity.kind != UNTYPED_KIND:  # a bare title says nothing of its type
                    bits |= TYPE_BITS[entity.type]
            self._type_bits[key] = bits
        return bits

    @property
    def token_types(self) -> dict[str, int]:
        """Word -> bit set of the entity types whose names it appears in ("obama" -> PER)."""
        if self._token_types is None:
            types: dict[str, int] = {}
            for key in self.aliases:
                bits = self.type_bits(key)
                for word in key.split():
                    types[word] = types.get(word, 0) | bits
            self._token_types = types
        return self._token_types

    def __len__(self) -> int:
        return len(self.entities)
