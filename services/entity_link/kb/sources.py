"""Reading the team's entity lists (``wikidata-entities``, ``kb-extra``) into KB entities.

Neither list carries popularity (see their SOURCE.md), so ``prior`` is a
heuristic: what kind of thing it is (a country before a village, a head of
state before a back-bencher), its size (population), how many names other
languages give it (a proxy for Wikidata sitelinks) and how many sources hold it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from services.entity_link.kb.entity import KBEntity
from services.entity_link.text import UNSPACED_NAME, local_id, normalise_alias
from shared.messages import EntityType

# Latin script, its extensions and general punctuation: the aliases English news can contain.
_NON_LATIN = re.compile(r"[^\x00-\u024f\u1e00-\u1eff\u2000-\u206f]")
# "Apple (United States)", "Alibaba Group (China)": ROR's country qualifiers, never written in text.
_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*$")
_MAX_ALIASES = 24
_MAX_DESCRIPTION = 90
# Aliases that name nothing on their own, even when a source lists them.
_STOP_ALIASES = frozenset({"the", "and", "of", "in", "on", "at", "to", "for", "a", "an", "it", "he", "she"})


def clean_aliases(name: str, aliases: Iterable[str]) -> tuple[str, ...]:
    """Aliases worth matching: Latin script, not all lower case, not the name again, no duplicates.

    Lower-case aliases are dropped because in the lists they are match tags, not
    names ("government", "public", "private" for thousands of bodies); a brand
    written in lower case is kept when it is the entity's own name.
    """
    seen = {normalise_alias(name)}
    kept: list[str] = []
    for raw in aliases:
        alias = _QUALIFIER.sub("", raw).strip()
        key = normalise_alias(alias)
        if (
            len(key) < 2
            or key in seen
            or key in _STOP_ALIASES
            or key.replace(" ", "").isdigit()
            or _NON_LATIN.search(alias)
            or (alias.islower() and key != normalise_alias(name))
        ):
            continue
        seen.add(key)
        kept.append(alias)
    return tuple(kept[:_MAX_ALIASES])


# Chinese, Japanese and Korean names are kept for well-known entities only: the lists carry 137k of them.
_UNSPACED_MIN_PRIOR = 0.5
_MAX_UNSPACED = 4


def unspaced_names(aliases: Iterable[str], prior: float) -> tuple[str, ...]:
    """A well-known entity's names in unspaced scripts, matched in Chinese and Japanese text."""
    if prior < _UNSPACED_MIN_PRIOR:
        return ()
    return tuple(dict.fromkeys(a for a in aliases if UNSPACED_NAME.fullmatch(a)))[:_MAX_UNSPACED]


def _count_bonus(aliases: list[str]) -> float:
    # Many translated names mean a well-known entity: the closest thing to sitelinks the lists have.
    return 0.012 * min(len(aliases), 20)


def _population_bonus(extra: dict[str, Any]) -> float:
    population = extra.get("population")
    if not isinstance(population, int | float) or population <= 0:
        return 0.0
    return 0.09 * max(0.0, math.log10(population) - 3.0)


def age_bonus(qid: str | None) -> float:
    """Older Wikidata items are, on the whole, better known ones.

    The first items (2012) were made from the English Wikipedia's most linked
    articles: Q60 New York City, Q90 Paris, Q312 Apple, against Q50835353 for
    a Maryland hamlet. With no sitelinks in the lists, the QID's size is the
    best popularity signal they carry.
    """
    if not qid or not qid.startswith("Q") or not qid[1:].isdigit():
        return 0.0
    return 0.3 * min(1.0, max(0.0, (7.5 - math.log10(int(qid[1:]))) / 6.0))


def _clip(prior: float) -> float:
    return round(min(0.99, max(0.01, prior)), 3)


_PLACE_KIND = {"country": "country", "state": "state", "city": "city"}
_PLACE_BASE = {"country": 0.7, "state": 0.3, "capital": 0.55, "city": 0.12}


def from_wikidata_entities(row: dict[str, Any], state_ids: dict[str, str], capitals: set[str]) -> KBEntity | None:
    """A row of ``wikidata-entities/entities.jsonl`` (places, US newspapers, US politicians)."""
    qid, label, kind = row.get("qid"), row.get("label"), row.get("type")
    if not qid or not label:
        return None
    extra: dict[str, Any] = row.get("extra") or {}
    all_aliases: list[str] = row.get("aliases") or []
    demonyms: tuple[str, ...] = ()
    if kind == "country" and extra.get("demonym"):
        # "Chinese", "German": the adjective leads to the country. The list writes "Dutch, Netherlandic".
        demonyms = clean_aliases(label, [d.strip() for d in str(extra["demonym"]).split(",")])
    subtype = str(row.get("subtype") or "")
    country = str(row.get("country") or "")
    related: list[str] = []
    entity_type: EntityType
    if kind in _PLACE_KIND:
        entity_type = "LOC"
        is_capital = subtype == "capital" or (kind != "country" and qid in capitals)
        fine_kind = "capital" if is_capital else _PLACE_KIND[kind]
        prior = _PLACE_BASE[fine_kind] + _population_bonus(extra)
        state = extra.get("state_code") or extra.get("state")
        if kind == "city" and state and f"{country}-{state}" in state_ids:
            related.append(state_ids[f"{country}-{state}"])
    elif kind == "organization":
        entity_type, fine_kind = "ORG", "newspaper" if subtype == "newspaper" else "organisation"
        prior = 0.2 if fine_kind == "newspaper" else 0.1
    elif kind == "person":
        entity_type, fine_kind = "PER", "politician"
        prior = 0.6 if "president" in subtype else 0.3
    else:
        return None
    prior = _clip(prior + _count_bonus(all_aliases) + age_bonus(qid))
    return KBEntity(
        id=qid,
        name=label,
        type=entity_type,
        prior=prior,
        kind=fine_kind,
        country=country,
        aliases=clean_aliases(label, all_aliases) + unspaced_names(all_aliases, prior),
        related=tuple(related),
        demonyms=demonyms,
    )


# kb-extra's ``subtype`` (first part) -> our kind and base prior.
_EXTRA_KINDS: dict[str, tuple[str, float]] = {
    "international_organisation": ("international", 0.55),
    "head_of_state_or_government": ("head_of_state", 0.5),
    "politician": ("politician", 0.2),
    "company": ("company", 0.3),
    "brand": ("company", 0.25),
    "operator": ("company", 0.2),
    "funder": ("organisation", 0.15),
    "government": ("government", 0.25),
    "newspaper": ("newspaper", 0.2),
    "education": ("education", 0.15),
    "healthcare": ("healthcare", 0.1),
    "nonprofit": ("organisation", 0.1),
    "transit": ("company", 0.1),
    "ai_model_family": ("model_family", 0.4),
    "ai_model": ("model", 0.35),
}


def from_kb_extra(row: dict[str, Any]) -> KBEntity | None:
    """A row of ``kb-extra/entities.jsonl`` (companies, organisations, politicians, AI models)."""
    label = _QUALIFIER.sub("", str(row.get("label") or "")).strip() or row.get("label")
    if not label:
        return None
    extra: dict[str, Any] = row.get("extra") or {}
    subtype = str(row.get("subtype") or "")
    kind, base = _EXTRA_KINDS.get(re.split(r"[|:]", subtype)[0], ("organisation", 0.2))
    raw_type = row.get("type")
    entity_type: EntityType
    if raw_type == "MODEL":
        entity_type = "PRODUCT"
    elif raw_type in ("ORG", "PER", "LOC"):
        entity_type = raw_type
    else:
        return None
    if entity_type == "LOC":
        kind = "place"
    all_aliases: list[str] = row.get("aliases") or []
    prior = base + _count_bonus(all_aliases) + age_bonus(row.get("qid")) + 0.04 * (len(row.get("sources") or []) - 1)
    if isinstance(extra.get("nsi_entries"), int):
        prior += 0.02 * min(extra["nsi_entries"], 10)
    if isinstance(extra.get("citations"), int):
        prior += 0.03 * math.log10(1 + extra["citations"])
    prior = _clip(prior)
    return KBEntity(
        id=row.get("qid") or local_id(entity_type, label),
        name=label,
        type=entity_type,
        prior=prior,
        kind=kind,
        country=str(row.get("country") or ""),
        aliases=clean_aliases(label, all_aliases) + unspaced_names(all_aliases, prior),
        related=tuple(str(q) for q in extra.get("organization_qids") or []),
        description=str(row.get("description") or "")[:_MAX_DESCRIPTION],
    )


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _state_ids(path: Path) -> dict[str, str]:
    """ISO 3166-2 code -> QID of first-level divisions, to relate cities to their state."""
    return {
        str(row["extra"]["iso3166_2"]): str(row["qid"])
        for row in _rows(path)
        if row.get("type") == "state" and (row.get("extra") or {}).get("iso3166_2") and row.get("qid")
    }


def _capitals(path: Path) -> set[str]:
    """QIDs of national capitals: the place of the capital's name in its country, when only one has it.

    Countries name their capital ("Paris"); a capital that is also a
    first-level division (Paris, Berlin, Tokyo) is listed only as a state, so
    it would otherwise rank with every same-named village. Where a country
    has several places of that name (the US has many Washingtons), none is
    chosen: the overlay says which.
    """
    capital_names = {
        (str(row.get("country")), str((row.get("extra") or {}).get("capital")))
        for row in _rows(path)
        if row.get("type") == "country" and (row.get("extra") or {}).get("capital")
    }
    places: dict[tuple[str, str], list[str]] = {}
    for row in _rows(path):
        key = (str(row.get("country")), str(row.get("label")))
        if row.get("type") in ("state", "city") and key in capital_names:
            places.setdefault(key, []).append(str(row["qid"]))
    return {qids[0] for qids in places.values() if len(qids) == 1}


def read_lists(data_dir: Path) -> Iterator[KBEntity]:
    """Every entity of the two shared lists, in list order (duplicates across lists included)."""
    places = data_dir / "wikidata-entities" / "entities.jsonl"
    state_ids = _state_ids(places)
    capitals = _capitals(places)
    for row in _rows(places):
        entity = from_wikidata_entities(row, state_ids, capitals)
        if entity:
            yield entity
    for row in _rows(data_dir / "kb-extra" / "entities.jsonl"):
        entity = from_kb_extra(row)
        if entity:
            yield entity


def merge_same_id(entities: Iterable[KBEntity]) -> dict[str, KBEntity]:
    """One entity per id: the first row sets name and type, later rows add names and facts."""
    merged: dict[str, KBEntity] = {}
    for entity in entities:
        held = merged.get(entity.id)
        if held is None:
            merged[entity.id] = entity
            continue
        names = [*held.aliases, entity.name, *entity.aliases]
        held.aliases = clean_aliases(held.name, names) + unspaced_names(names, max(held.prior, entity.prior))
        held.prior = max(held.prior, entity.prior)
        held.description = held.description or entity.description
        held.demonyms = held.demonyms or entity.demonyms
        held.country = held.country or entity.country
        held.related = tuple(sorted({*held.related, *entity.related}))
        if held.kind in ("organisation", "politician") and entity.kind not in ("organisation", ""):
            held.kind = entity.kind  # kb-extra knows a newspaper's or a leader's finer kind
    return merged


def qid_number(entity_id: str) -> int:
    return int(entity_id[1:]) if entity_id.startswith("Q") and entity_id[1:].isdigit() else 1 << 62


def merge_duplicate_organisations(entities: dict[str, KBEntity]) -> dict[str, str]:
    """Fold organisations that two sources hold under two QIDs into the main item.

    Same normalised name, same country: one organisation. The lowest QID is
    kept because Wikidata's main item for a company is almost always the
    older one (registry-made items such as ROR's come later). People and
    places are left alone: same-named ones are usually different.
    Returns the redirects (secondary id -> main id).
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for entity in entities.values():
        if entity.type == "ORG" and entity.id.startswith("Q"):
            groups.setdefault((normalise_alias(entity.name), entity.country), []).append(entity.id)
    redirects: dict[str, str] = {}
    for ids in groups.values():
        if len(ids) < 2:
            continue
        main_id, *others = sorted(ids, key=qid_number)
        main = entities[main_id]
        for other_id in others:
            other = entities.pop(other_id)
            absorb(main, other, other.aliases)
            main.description = main.description or other.description
            redirects[other_id] = main_id
    return redirects


def absorb(kept: KBEntity, folded: KBEntity, names: Iterable[str]) -> None:
    """Fold a duplicate into the entity kept in its place: ``names`` of the folded one become aliases, the
    higher prior wins, and the folded id (with those it had absorbed) is remembered in ``also``."""
    kept.aliases = clean_aliases(kept.name, [*kept.aliases, *names])
    kept.prior = max(kept.prior, folded.prior)
    kept.also = tuple(sorted({*kept.also, folded.id, *folded.also}))


_MIN_CITY_PRIOR = 0.35


def prefer_cities_to_same_named_regions(entities: dict[str, KBEntity]) -> int:
    """Rank a city above the region of the same name in its country: "Leeds", "Minsk", "Liège".

    Such regions are named after their city, and news means the city far more
    often; the kind-based prior would otherwise put the region first. Only a
    city with some standing of its own is raised: a hamlet called California
    stays below the state.
    Returns how many cities were raised.
    """
    regions: dict[tuple[str, str], float] = {}
    for entity in entities.values():
        if entity.kind == "state":
            key = (normalise_alias(entity.name), entity.country)
            regions[key] = max(regions.get(key, 0.0), entity.prior)
    raised = 0
    for entity in entities.values():
        region_prior = regions.get((normalise_alias(entity.name), entity.country))
        if (
            entity.kind in ("city", "capital")
            and region_prior is not None
            and _MIN_CITY_PRIOR <= entity.prior <= region_prior
        ):
            entity.prior = _clip(region_prior + 0.05)
            raised += 1
    return raised


def resolve_related(entities: dict[str, KBEntity], redirects: dict[str, str]) -> None:
    for entity in entities.values():
        if entity.related:
            entity.related = tuple(sorted({redirects.get(id_, id_) for id_ in entity.related} - {entity.id}))


# Kinds of the AI models the lists hold (Epoch AI's notable models), and of whom they name as makers.
_MODEL_KINDS = frozenset({"model", "model_family"})
_DEVELOPER_KINDS = frozenset({"company", "organisation", "lab"})
# A maker of this many notable models is an AI lab, whatever else it does: its news is about models.
_LAB_MODELS = 3


def raise_model_developers(entities: dict[str, KBEntity]) -> int:
    """Organisations that made notable AI models are in today's news: their prior rises with the count.

    The lists carry no popularity for companies, and the QID's age favours
    those Wikipedia knew in 2012; a lab founded in 2023 with sixteen notable
    models (Epoch AI's list) is as newsworthy as an old firm. Returns how many
    organisations rose.
    """
    made: dict[str, int] = {}
    for model in entities.values():
        if model.kind in _MODEL_KINDS:
            for maker in model.related:
                made[maker] = made.get(maker, 0) + 1
    raised = 0
    for maker, count in made.items():
        developer = entities.get(maker)
        if developer is None or developer.type != "ORG":
            continue
        developer.prior = _clip(developer.prior + 0.06 * math.log2(1 + count))
        if count >= _LAB_MODELS and developer.kind in _DEVELOPER_KINDS:
            developer.kind = "lab"
        raised += 1
    return raised
