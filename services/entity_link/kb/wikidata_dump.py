"""Streaming a Wikidata JSON dump (``latest-all.json`` plain, .gz or .bz2) into KB entities.

The dump is one JSON array with one entity per line, so it is read line by
line: memory holds one entity at a time whatever the dump's size. Lines are
first screened by counting their sitelinks as text, which skips the great
majority of items (those with few or no Wikipedia articles) without
parsing their JSON.

Types come from ``instance of`` (P31) against a fixed table of common
classes; an item whose classes are none of these is skipped. The table is
deliberately small and explicit: a full subclass closure would need a
second pass over the whole dump.
"""

from __future__ import annotations

import bz2
import io
import json
import math
import os
from collections import deque
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

from isal import igzip

from services.entity_link.kb.entity import KBEntity
from services.entity_link.kb.sources import clean_aliases
from shared.messages import EntityType

# instance-of class -> (our type, kind). Order of an item's P31 values decides ties.
CLASSES: dict[str, tuple[EntityType, str]] = {
    "Q5": ("PER", "person"),
    "Q6256": ("LOC", "country"),
    "Q3624078": ("LOC", "country"),
    "Q10864048": ("LOC", "state"),
    "Q35657": ("LOC", "state"),
    "Q107390": ("LOC", "state"),
    "Q34876": ("LOC", "state"),
    "Q5119": ("LOC", "capital"),
    "Q515": ("LOC", "city"),
    "Q1549591": ("LOC", "city"),
    "Q1637706": ("LOC", "city"),
    "Q200250": ("LOC", "city"),
    "Q486972": ("LOC", "city"),
    "Q3957": ("LOC", "city"),
    "Q532": ("LOC", "city"),
    "Q4830453": ("ORG", "company"),
    "Q783794": ("ORG", "company"),
    "Q891723": ("ORG", "company"),
    "Q6881511": ("ORG", "company"),
    "Q43229": ("ORG", "organisation"),
    "Q163740": ("ORG", "organisation"),
    "Q327333": ("ORG", "government"),
    "Q7188": ("ORG", "government"),
    "Q7278": ("ORG", "party"),
    "Q484652": ("ORG", "international"),
    "Q3918": ("ORG", "education"),
    "Q11032": ("ORG", "newspaper"),
    "Q847017": ("ORG", "sports_club"),
    "Q476028": ("ORG", "sports_club"),
    "Q2424752": ("PRODUCT", "product"),
    "Q7397": ("PRODUCT", "software"),
    "Q431289": ("PRODUCT", "brand"),
    "Q115305900": ("PRODUCT", "model"),
    "Q1656682": ("EVENT", "event"),
    "Q13406554": ("EVENT", "sports_event"),
    "Q40231": ("EVENT", "election"),
    "Q198": ("EVENT", "war"),
    "Q2761147": ("EVENT", "conference"),
}
# Properties whose item values an entity "goes with": country, located in, parent, owner, maker, developer.
_RELATED_PROPERTIES = ("P17", "P131", "P749", "P127", "P176", "P178")
_ISO_ALPHA2 = "P297"
_SITELINK_MARK = '"site":'


@dataclass
class DumpOptions:
    min_sitelinks: int = 5
    languages: tuple[str, ...] = ("en", "mul")
    max_description: int = 90


@dataclass
class DumpStats:
    lines: int = 0
    parsed: int = 0
    kept: int = 0
    bytes_read: int = 0  # counted in characters: the same for the dump's mostly ASCII JSON
    by_type: dict[str, int] = field(default_factory=dict)
    # Country item -> ISO 3166-1 alpha-2, seen on the way (P297), to write countries as codes.
    country_codes: dict[str, str] = field(default_factory=dict)


class DumpReader:
    """A dump opened for reading: its text lines, and how far into the file as stored reading has got.

    The position is counted in bytes of the compressed file, so progress and
    an ETA need no entity count, which the dump does not state.
    """

    def __init__(self, path: Path) -> None:
        self._raw = path.open("rb")
        self.size = os.fstat(self._raw.fileno()).st_size
        stream: IO[bytes] | igzip.IGzipFile | bz2.BZ2File = self._raw
        if path.suffix == ".gz":
            # ISA-L decompresses gzip about twice as fast as zlib; bz2 has no such reader that keeps the position.
            stream = igzip.IGzipFile(fileobj=self._raw)
        elif path.suffix == ".bz2":
            stream = bz2.BZ2File(self._raw)
        self.lines: IO[str] = io.TextIOWrapper(stream, encoding="utf-8")

    def position(self) -> int:
        return self._raw.tell()

    def skip_lines(self, count: int) -> None:
        """Pass over lines already built from: a compressed dump is still decompressed, but nothing is parsed."""
        deque(islice(self.lines, count), maxlen=0)

    def close(self) -> None:
        self.lines.close()
        self._raw.close()

    def __enter__(self) -> DumpReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_dump(path: Path) -> DumpReader:
    return DumpReader(path)


def _item_values(claims: dict[str, Any], prop: str) -> list[str]:
    values: list[str] = []
    for statement in claims.get(prop) or []:
        if statement.get("rank") == "deprecated":
            continue
        value = ((statement.get("mainsnak") or {}).get("datavalue") or {}).get("value")
        if isinstance(value, dict) and isinstance(value.get("id"), str):
            values.append(value["id"])
        elif isinstance(value, str):
            values.append(value)
    return values


def _first_text(block: dict[str, Any], languages: tuple[str, ...]) -> str:
    for language in languages:
        entry = block.get(language)
        if isinstance(entry, dict) and entry.get("value"):
            return str(entry["value"])
    return ""


def sitelink_prior(sitelinks: int) -> float:
    # 250+ Wikipedias is as famous as it gets (countries, world leaders); 5 is a local figure.
    return round(min(0.99, math.log1p(sitelinks) / math.log1p(250)), 3)


def entity_from_item(item: dict[str, Any], options: DumpOptions) -> KBEntity | None:
    if item.get("type") != "item":
        return None
    claims: dict[str, Any] = item.get("claims") or {}
    classes = [CLASSES[c] for c in _item_values(claims, "P31") if c in CLASSES]
    name = _first_text(item.get("labels") or {}, options.languages)
    if not classes or not name:
        return None
    entity_type, kind = classes[0]
    aliases_block: dict[str, Any] = item.get("aliases") or {}
    aliases = [
        str(entry.get("value"))
        for language in options.languages
        for entry in aliases_block.get(language) or []
        if isinstance(entry, dict)
    ]
    countries = _item_values(claims, "P17")
    related = [value for prop in _RELATED_PROPERTIES for value in _item_values(claims, prop)]
    return KBEntity(
        id=str(item["id"]),
        name=name,
        type=entity_type,
        prior=sitelink_prior(len(item.get("sitelinks") or {})),
        kind=kind,
        country=countries[0] if countries else "",
        aliases=clean_aliases(name, aliases),
        related=tuple(sorted(set(related) - {str(item["id"])})),
        description=_first_text(item.get("descriptions") or {}, options.languages)[: options.max_description],
    )


def entity_from_line(raw: str, options: DumpOptions, stats: DumpStats) -> KBEntity | None:
    """The entity a dump line gives, if it is worth keeping; ``stats`` counts every line."""
    stats.lines += 1
    stats.bytes_read += len(raw)
    # Cheap screen before json.loads: an item with too few sitelinks is never parsed.
    if raw.count(_SITELINK_MARK) < options.min_sitelinks:
        return None
    line = raw.strip().rstrip(",")
    if not line.startswith("{"):
        return None  # the array's "[" and "]" lines
    item = json.loads(line)
    stats.parsed += 1
    codes = _item_values(item.get("claims") or {}, _ISO_ALPHA2)
    if codes:
        stats.country_codes[str(item.get("id"))] = codes[0]
    entity = entity_from_item(item, options)
    if entity is None:
        return None
    stats.kept += 1
    stats.by_type[entity.type] = stats.by_type.get(entity.type, 0) + 1
    return entity
