"""Reading ``kb-more`` (FB15k-237 entities, Wikitrivia categories, DW-NB titles) into KB entities.

None of the three says what type an entity is, so it is inferred: from the
head noun of a description ("American actor" -> a person, "association
football club" -> a sports club, "city in Texas" -> a place), or from the
category a Wikitrivia query belongs to ("nba-franchises" -> a sports club).
Wikitrivia carries sitelinks, the best popularity signal there is; FB15k-237
holds Freebase's most connected entities, which are well known by being
there. DW-NB's titles only add names to entities the other sources hold.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from services.entity_link.kb.entity import KBEntity
from services.entity_link.kb.index import UNTYPED_KIND
from services.entity_link.kb.sources import absorb, age_bonus, clean_aliases, qid_number, unspaced_names
from services.entity_link.text import fold, normalise_alias
from shared.messages import EntityType

# The kind of an entity whose type nobody gave (a bare Wikipedia title).
UNTYPED = UNTYPED_KIND
# Head nouns of descriptions, and what they make an entity: (type, kind). Read from the head backwards.
# fmt: off
_PERSON_NOUNS = frozenset({
    "actor", "actress", "singer", "songwriter", "musician", "rapper", "composer", "guitarist", "drummer",
    "pianist", "violinist", "dancer", "comedian", "presenter", "host", "model", "director", "producer",
    "screenwriter", "writer", "author", "novelist", "poet", "playwright", "journalist", "photographer", "painter",
    "sculptor", "artist", "architect", "designer", "animator", "cartoonist", "filmmaker", "politician",
    "diplomat", "lawyer", "judge", "businessman", "businesswoman", "businessperson", "entrepreneur",
    "executive", "investor", "banker", "economist", "engineer", "scientist", "physicist", "chemist",
    "mathematician", "biologist", "philosopher", "historian", "sociologist", "psychologist", "physician",
    "surgeon", "astronaut", "inventor", "officer", "general", "admiral", "soldier", "king", "queen", "prince",
    "princess", "emperor", "empress", "monarch", "president", "minister", "statesman", "stateswoman", "activist",
    "theologian", "priest", "pope", "bishop", "footballer", "player", "cricketer", "golfer", "cyclist", "boxer",
    "wrestler", "swimmer", "athlete", "sprinter", "runner", "skier", "skater", "jockey", "driver", "coach",
    "manager", "tennis", "racer", "personality", "socialite", "educator", "professor", "teacher", "chef",
    "magician", "conductor", "vocalist", "bassist", "saxophonist", "trumpeter", "dj", "youtuber", "lyricist",
})
_ATHLETE_NOUNS = frozenset({
    "footballer", "player", "cricketer", "golfer", "cyclist", "boxer", "wrestler", "swimmer", "athlete",
    "sprinter", "runner", "skier", "skater", "jockey", "racer", "tennis",
})
_ENTERTAINER_NOUNS = frozenset({
    "actor", "actress", "singer", "songwriter", "musician", "rapper", "comedian", "presenter", "dancer",
    "guitarist", "drummer", "vocalist", "dj", "model",
})
_POLITICIAN_NOUNS = frozenset({"politician", "president", "minister", "statesman", "stateswoman", "diplomat"})
_TEAM_NOUNS = frozenset({"team", "club", "franchise", "side"})
_ORG_NOUNS: dict[str, str] = {
    "company": "company", "corporation": "company", "manufacturer": "company", "conglomerate": "company",
    "business": "company", "retailer": "company", "brand": "company", "airline": "company",
    "carrier": "company", "automaker": "company", "publisher": "company", "label": "company",
    "studio": "company", "chain": "company", "firm": "company", "bank": "bank", "exchange": "exchange",
    "agency": "agency", "newspaper": "newspaper", "magazine": "newspaper", "broadcaster": "newspaper",
    "channel": "newspaper", "network": "newspaper", "station": "newspaper", "university": "education",
    "college": "education", "school": "education", "institute": "organisation", "party": "party",
    "organization": "organisation", "organisation": "organisation", "association": "organisation",
    "federation": "organisation", "union": "organisation", "league": "league", "council": "organisation",
    "committee": "organisation", "ministry": "government", "department": "government",
    "government": "government", "parliament": "government", "legislature": "government", "court": "government",
    "army": "government", "navy": "government", "band": "band", "group": "band", "orchestra": "band",
    "duo": "band", "trio": "band", "foundation": "organisation", "charity": "organisation",
    "museum": "organisation",
}
_PLACE_NOUNS: dict[str, str] = {
    "country": "country", "state": "state", "province": "state", "region": "state", "territory": "state",
    "county": "county", "city": "city", "town": "city", "capital": "capital", "village": "city",
    "municipality": "city", "commune": "city", "borough": "city", "district": "city", "suburb": "city",
    "neighborhood": "city", "neighbourhood": "city", "metropolis": "city", "island": "place",
    "archipelago": "place", "river": "place", "lake": "place", "mountain": "place", "sea": "place",
    "ocean": "place", "continent": "place", "peninsula": "place", "desert": "place", "valley": "place",
    "seat": "city", "area": "place", "stadium": "landmark", "arena": "landmark", "venue": "landmark",
    "airport": "landmark", "building": "landmark", "bridge": "landmark", "park": "landmark",
}
_EVENT_NOUNS = frozenset({
    "war", "battle", "election", "elections", "championship", "championships", "tournament", "cup", "olympics",
    "games", "festival", "ceremony", "revolution", "conflict", "crisis", "disaster", "attack", "summit",
})
_WORK_NOUNS = frozenset({
    "film", "movie", "album", "song", "single", "novel", "book", "series", "sitcom", "show", "game", "opera",
    "musical", "play", "painting", "poem", "episode", "soundtrack", "comedy", "drama", "documentary",
})
# Goods a brand name can be the name of, rather than its maker's ("chocolate bar brand", "beer brand").
_BRANDED_GOODS = frozenset({
    "bar", "chocolate", "beer", "drink", "soda", "cereal", "snack", "crisps", "chips", "cigarette", "whisky",
    "vodka", "wine", "candy", "confectionery", "cream", "juice", "water",
})
# Languages, peoples and religions share their adjective with a country ("German"): no name of a thing.
_CONCEPT_NOUNS = frozenset({"language", "languages", "dialect", "people", "peoples", "ethnicity", "religion"})
_PRODUCT_NOUNS = frozenset({
    "software", "console", "smartphone", "phone", "car", "automobile", "aircraft", "airliner",
    "vehicle", "system", "browser", "website", "app", "service", "rifle", "engine",
})
# fmt: on
# Where a description's head ends: "city in Texas", "actor from Ohio", "capital of France".
_HEAD_END = re.compile(
    r"\s(?:in|of|from|based|located|for|at|by|on|that|who|which|with|representing|founded|established)\s|[,;(]"
)
_NATIONAL_TEAM = re.compile(r"^(.+?) (?:men's |women's )?national (?:[a-z ]+ )?team$")
_ENTITY_URI = re.compile(r"entity/(Q\d+)")
# Words that dress a sports club's name and that news leaves out: "Liverpool F.C.", "Real Madrid Club de Fútbol".
# fmt: off
_CLUB_WORDS = frozenset({
    "fc", "afc", "cf", "sc", "ac", "fk", "sk", "sv", "club", "de", "futbol", "football", "calcio", "cricket",
    "county", "rugby", "ufc", "spa",
})
# fmt: on
_DISAMBIGUATOR = re.compile(r"\s*\([^)]*\)\s*$")


def describe_type(description: str) -> tuple[EntityType, str] | None:
    """The type and kind a description's head noun gives, or ``None`` when it says nothing clear."""
    text = fold(description)
    if not text.strip():
        return None
    if re.search(r"\bnational\b.*\bteam\b", text):
        return "ORG", "national_team"
    head = _HEAD_END.split(f" {text} ", maxsplit=1)[0].split()
    if _CONCEPT_NOUNS & set(head) or "ethnic group" in text:
        return None
    if "brand" in head and _BRANDED_GOODS & set(head):
        return "PRODUCT", "brand"  # "chocolate bar brand": a product; its maker is another entity
    for word in reversed(head):
        if word in _TEAM_NOUNS:
            return "ORG", "sports_club"
        if word in _PERSON_NOUNS:
            if word in _ATHLETE_NOUNS:
                return "PER", "athlete"
            if word in _ENTERTAINER_NOUNS:
                return "PER", "entertainer"
            return "PER", "politician" if word in _POLITICIAN_NOUNS else "person"
        if word in _ORG_NOUNS:
            return "ORG", _ORG_NOUNS[word]
        if word in _PLACE_NOUNS:
            return "LOC", _PLACE_NOUNS[word]
        if word in _EVENT_NOUNS:
            return "EVENT", "event"
        if word in _WORK_NOUNS:
            return "MISC", "work"
        if word in _PRODUCT_NOUNS:
            return "PRODUCT", "product"
    return None


def popularity(sitelinks: int) -> float:
    """A prior from Wikidata sitelinks: 10 -> ~0.56, 50 -> ~0.80, 150+ -> 0.95."""
    return round(min(0.95, 0.2 + 0.35 * math.log10(1 + max(0, sitelinks))), 3)


def short_names(label: str, kind: str) -> list[str]:
    """Names news uses for a team: "England" for the national team, "Liverpool" for Liverpool F.C."""
    match = _NATIONAL_TEAM.match(label)
    if match:
        return [match.group(1)]
    if kind != "sports_club":
        return []
    words = label.split()
    while len(words) > 1 and fold(words[-1]).replace(" ", "") in _CLUB_WORDS:
        words.pop()
    while len(words) > 1 and fold(words[0]).replace(" ", "") in _CLUB_WORDS:
        words.pop(0)
    short = " ".join(words)
    return [short] if short != label else []


# Kinds whose one-word names are mostly words or places in news text.
_ONE_WORD_UNSAFE = frozenset({"work", "band", "product", "brand", UNTYPED})


def _named(
    qid: str, label: str, kind_type: tuple[EntityType, str], prior: float, aliases: list[str], description: str
) -> KBEntity | None:
    if not label or label[:1].islower():
        return None  # a concept ("cricket", "television presenter"), not a name
    entity_type, kind = kind_type
    if kind in _ONE_WORD_UNSAFE and " " not in label.strip():
        return None  # a film called "We", a band called "Chicago": a word or a place far more often
    if _NATIONAL_TEAM.match(label):
        entity_type, kind = "ORG", "national_team"
    names = [*short_names(label, kind), *(a for a in aliases if "," not in a)]
    return KBEntity(
        id=qid,
        name=label,
        type=entity_type,
        prior=prior,
        kind=kind,
        aliases=clean_aliases(label, names),
        description=description[:90],
    )


# FB15k-237 holds the entities most connected in Freebase: known, but how well it does not say; the
# QID's age (older items are the better known) tells them apart. A work or a band is often named like a
# place or a word ("Chicago", "Heat"): its name points to it less.
FB15K_PRIOR = 0.35
FB15K_WORK_PRIOR = 0.2
# An entity of the lists that kb-more holds too is a notable one ("Wales" the country, not a village).
NOTABLE_BONUS = 0.15


def read_fb15k(path: Path) -> Iterator[KBEntity]:
    rows: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    for row in rows.values():
        qid, label, description = row.get("wikidata_id"), row.get("label") or "", row.get("description") or ""
        typed = describe_type(description)
        if not qid or typed is None:
            continue
        prior = (FB15K_WORK_PRIOR if typed[1] in ("work", "band") else FB15K_PRIOR) + age_bonus(qid)
        entity = _named(qid, label, typed, prior, list(row.get("alternatives") or []), description)
        if entity is not None:
            yield entity


# Wikitrivia's categories (file name without the "-<what>-year" part) -> type and kind.
_CATEGORY_TYPES: list[tuple[re.Pattern[str], EntityType, str]] = [
    (re.compile(r"(football|rugby)-clubs|franchises|f1-teams"), "ORG", "sports_club"),
    (re.compile(r"famous-(football|basketball)-players|famous-boxers"), "PER", "athlete"),
    (re.compile(r"famous-(actors|musicians|composers)"), "PER", "entertainer"),
    (re.compile(r"taking-office|famous-statespeople|famous-monarchs|famous-revolutionaries"), "PER", "politician"),
    (re.compile(r"famous-|nobel-laureates"), "PER", "person"),
    (re.compile(r"newspapers|tv-channels|radio-stations"), "ORG", "newspaper"),
    (re.compile(r"alcohol-brands|beer-brands|soft-drink|candy|crisps|ice-cream|breakfast-cereals"), "PRODUCT",
     "brand"),
    (re.compile(r"airlines|brands|companies|restaurant-chains"), "ORG", "company"),
    (re.compile(r"wars|battles|coups|revolutions|massacres|protests|outbreaks"), "EVENT", "event"),
    (re.compile(r"stadiums|landmarks|buildings|museums|castles|bridges|national-parks|historic-sites"), "LOC",
     "landmark"),
    (re.compile(r"historical-countries|colonies|historical-states|colonial-empires"), "LOC", "historical_country"),
    (re.compile(r"operating-systems|programming-languages|websites|social-networking|mobile-apps|consoles|"
                r"cell-phone|automobile|aircraft|web-browsers|online-communities|game-engines"), "PRODUCT", "product"),
    (re.compile(r"films|albums|books|tv-shows|video-games|paintings|plays|musicals|sculptures|comic|novels|"
                r"podcasts|radio-programs|songs|anthems|hymns"), "MISC", "work"),
]  # fmt: skip


def category_type(category: str) -> tuple[EntityType, str] | None:
    for pattern, entity_type, kind in _CATEGORY_TYPES:
        if pattern.search(category):
            return entity_type, kind
    return None


def read_wikitrivia(folder: Path) -> Iterator[KBEntity]:
    for path in sorted(folder.glob("*.json")):
        typed = category_type(path.stem)
        if typed is None:
            continue
        for row in json.loads(path.read_text(encoding="utf-8")):
            match = _ENTITY_URI.search(str(row.get("item") or ""))
            label = str(row.get("itemLabel") or "")
            if match is None or label == match.group(1):  # an item without an English label
                continue
            sitelinks = int(row["sitelinks"]) if str(row.get("sitelinks") or "").isdigit() else 0
            description = str(row.get("description") or "")
            # A description says more about one item than its category does about all of them.
            described = describe_type(description) if description else None
            entity = _named(match.group(1), label, described or typed, popularity(sitelinks), [], description)
            if entity is not None:
                yield entity


_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")
_DWNB_LINE = re.compile(r"<http://dbpedia\.org/resource/([^>]+)> <[^>]+> <http://www\.wikidata\.org/entity/(Q\d+)>")


def read_dwnb_titles(paths: list[Path]) -> Iterator[tuple[str, str]]:
    """(QID, English Wikipedia title, disambiguator included) from DW-NB's alignment files."""
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = _DWNB_LINE.match(line)
            if match is None:
                continue
            raw = _ESCAPE.sub(lambda escape: chr(int(escape.group(1), 16)), match.group(1))
            title = raw.replace("_", " ").strip()
            if title:
                yield match.group(2), title


def read_more(folder: Path) -> tuple[list[KBEntity], set[str]]:
    """Every entity of ``kb-more`` (Wikitrivia first, then FB15k-237), and the ids whose popularity it measured.

    Wikitrivia carries sitelinks; FB15k-237 only says an entity is notable.
    """
    measured = list(read_wikitrivia(folder / "wikitrivia"))
    return [*measured, *read_fb15k(folder / "fb15k237-entity2wikidata.json")], {e.id for e in measured}


# A Wikipedia title is a random article's: known to somebody, not necessarily to news.
DWNB_PRIOR = 0.3


def confirm_with(entities: dict[str, KBEntity], more: dict[str, KBEntity], measured: set[str]) -> None:
    """Merge kb-more into the lists' entities (by QID), which it also checks.

    A list entity kb-more holds too is notable: its prior rises, unless
    kb-more measured it (Wikitrivia's sitelinks, the ids in ``measured``):
    a measure needs no bonus, which would put a store chain with 38
    sitelinks above the company it sells for. One whose
    label kb-more does not know under that QID was given the wrong QID by its
    list (a place list labels Q172 "Tottenham"): kb-more's name, names and
    type replace the list's. Entities only kb-more holds are added.
    """
    for qid, known in more.items():
        entity = entities.get(qid)
        if entity is None:
            entities[qid] = known
            continue
        if fold(entity.name).strip() in {fold(name).strip() for name in known.all_names()}:
            bonus = 0.0 if qid in measured else NOTABLE_BONUS
            entity.prior = round(min(0.99, max(entity.prior, known.prior) + bonus), 3)
            names = [*entity.aliases, *known.aliases]
            entity.aliases = clean_aliases(entity.name, names) + unspaced_names(names, entity.prior)
            entity.description = entity.description or known.description
            continue
        entity.name, entity.aliases, entity.type, entity.kind = known.name, known.aliases, known.type, known.kind
        entity.description, entity.demonyms = known.description, ()
        entity.prior = known.prior


def add_titles(entities: dict[str, KBEntity], folder: Path) -> int:
    """Wikipedia titles (DW-NB) as names: another name for an entity the KB holds, or a new entity.

    A new entity's type comes from the title's disambiguator ("(footballer)",
    "(album)"); without one, a title of two words or more is kept untyped
    (the recogniser's type is used when a mention links to it), a one-word
    title is left out as too ambiguous. Returns how many entities were added
    or gained a name.
    """
    added = 0
    for qid, raw_title in read_dwnb_titles(sorted(folder.glob("dwnb-*.ttl"))):
        title = _DISAMBIGUATOR.sub("", raw_title).strip()
        entity = entities.get(qid)
        if entity is None:
            disambiguator = raw_title[len(title) :].strip(" ()")
            typed = describe_type(disambiguator) if disambiguator else None
            if typed is None and (disambiguator or len(title.split()) < 2):
                continue
            if typed is not None and typed[1] == "work":
                continue  # a song or a film called after a person or a place ("Donald Trump (song)")
            new = _named(qid, title, typed or ("MISC", UNTYPED), DWNB_PRIOR, [], "")
            if new is not None:
                entities[qid] = new
                added += 1
            continue
        if fold(title) == fold(entity.name):
            continue
        aliases = clean_aliases(entity.name, [*entity.aliases, title])
        if len(aliases) > len(entity.aliases):
            entity.aliases = aliases
            added += 1
    return added


# Kinds that are teams: named after their places, and what a place's name means in a results story.
TEAM_KINDS = frozenset({"sports_club", "national_team"})


# How well known a place must be to lend its name to a team: "South" and "West" are villages too.
TEAM_PLACE_MIN_PRIOR = 0.4


def _place_at_an_end(words: list[str], places: set[str]) -> str | None:
    """The longest run of words opening or closing a team's name that is a place's own name.

    A closing run counts only after a capitalised word: "Queen of the South" is not named after "South";
    the run's words are written as names ("AS Monaco" is not named after a village called "As").
    """

    def as_names(run: list[str]) -> bool:
        return all(word[:1].isupper() and word[1:2].islower() for word in run)

    for size in range(len(words) - 1, 0, -1):
        runs = [words[:size]] + ([words[-size:]] if words[-size - 1][:1].isupper() else [])
        for run in runs:
            if as_names(run) and fold(" ".join(run)).strip() in places:
                return " ".join(run)
    return None


def name_teams_by_their_places(entities: dict[str, KBEntity]) -> int:
    """Give a team the name of the place it is called after: results name clubs by their towns.

    "Norwich 2 Ipswich 1", "England were 200 for three": news calls Norwich
    City F.C. "Norwich" and the England cricket team "England". The name is
    an alias, so the disambiguator admits the team only in a sports story and
    not after "in" (``disambiguation._admissible``); elsewhere it is the place.
    Returns how many teams gained a name.
    """
    places = {fold(e.name).strip() for e in entities.values() if e.type == "LOC" and e.prior >= TEAM_PLACE_MIN_PRIOR}
    named = 0
    for entity in entities.values():
        if entity.kind not in TEAM_KINDS:
            continue
        words = entity.name.split()
        while len(words) > 1 and fold(words[-1]).replace(" ", "") in _CLUB_WORDS:
            words.pop()
        place = _place_at_an_end(words, places) if len(words) > 1 else None
        if place is None:
            continue
        aliases = clean_aliases(entity.name, [place, *entity.aliases])
        if aliases != entity.aliases:
            entity.aliases = aliases
            named += 1
    return named


_TOWN_KINDS = frozenset({"city", "capital"})


def describes_a_town(description: str) -> bool:
    """Whether a description calls its place a city or a town ("capital city of Belarus")."""
    typed = describe_type(description)
    return typed is not None and typed[0] == "LOC" and typed[1] in _TOWN_KINDS


def merge_unconfirmed_towns(entities: dict[str, KBEntity]) -> dict[str, str]:
    """Fold a listed town into the item it duplicates; returns the redirects (folded id -> kept id).

    The place list sometimes keys a city by the wrong item, or twice:
    * its "Minsk" and "Liège" carry QIDs that no other source knows, while
      kb-more and kb-extra describe the real cities ("capital city of
      Belarus"). A town nothing describes is folded into the one town of its
      name and country (or of no country) that a description calls a town
      (``describes_a_town``);
    * it holds "Arbil" and "Erbil" in one country, the first giving the
      second's name as its own alias: the younger item is folded into the
      older, Wikidata's main one.
    Otherwise the duplicate, ranked as a city, takes the name and every
    mention links to the wrong QID. The kept item takes the higher prior and
    the finer kind.
    """
    described: dict[str, list[KBEntity]] = {}
    towns_by_name: dict[tuple[str, str], list[KBEntity]] = {}
    for entity in entities.values():
        if entity.type == "LOC" and entity.description and describes_a_town(entity.description):
            described.setdefault(normalise_alias(entity.name), []).append(entity)
        if entity.kind in _TOWN_KINDS:
            towns_by_name.setdefault((normalise_alias(entity.name), entity.country), []).append(entity)
    redirects: dict[str, str] = {}
    for entity in list(entities.values()):
        if entity.description or entity.kind not in _TOWN_KINDS:
            continue
        towns = [
            town
            for town in described.get(normalise_alias(entity.name), ())
            if town.country in ("", entity.country) and town.id != entity.id
        ]
        if not towns:  # another spelling of an older town of its country
            towns = [
                town
                for alias in entity.aliases
                for town in towns_by_name.get((normalise_alias(alias), entity.country), ())
                if qid_number(town.id) < qid_number(entity.id) and town.id not in redirects
            ]
        if len(towns) == 1 and towns[0].id in entities:
            town, duplicate = towns[0], entities.pop(entity.id)
            absorb(town, duplicate, [duplicate.name, *duplicate.aliases])
            town.kind = duplicate.kind if town.kind not in _TOWN_KINDS else town.kind
            town.country = town.country or duplicate.country
            redirects[entity.id] = town.id
    return redirects
