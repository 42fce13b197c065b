"""One knowledge-base entity, and the artifact file that holds them all.

The artifact is compressed tab-separated text: one header line
(``#newsflow-kb``, format version, JSON facts about the build), then one
entity per line. Plain text loads in about a second and can be inspected with
``xzcat``; xz makes the bundled file about 30% smaller than gzip would (``.gz``
is written and read too, for builds where compression speed matters more).
"""

from __future__ import annotations

import gzip
import io
import json
import lzma
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast, get_args

from shared.messages import EntityType

FORMAT = "#newsflow-kb"
FORMAT_VERSION = 1
ENTITY_TYPES: frozenset[str] = frozenset(get_args(EntityType))
_ALIAS_SEPARATOR = "\x1f"
_COLUMNS = 11
# Artifacts written before demonyms had a column of their own are read as having none.
_OLD_COLUMNS = 10


@dataclass(slots=True)
class KBEntity:
    """An entity as the linker sees it.

    ``prior`` is a popularity prior in [0, 1] (sitelinks when built from a
    dump, a heuristic over source, kind and size when built from the lists).
    ``kind`` is a finer class ("city", "company", "government", ...) that
    context cues are keyed by. ``related`` holds ids this entity is known to go
    with (a model's maker, a city's state); ``also`` holds secondary ids merged
    into this one, so a lookup by either finds it.
    """

    id: str
    name: str
    type: EntityType
    prior: float = 0.1
    kind: str = ""
    country: str = ""
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    description: str = ""
    demonyms: tuple[str, ...] = ()

    def all_names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


def entity_type(value: str) -> EntityType:
    if value not in ENTITY_TYPES:
        raise ValueError(f"unknown entity type {value!r}; expected one of {sorted(ENTITY_TYPES)}")
    return cast(EntityType, value)


def _clean(value: str) -> str:
    return value.replace("\t", " ").replace("\n", " ").replace(_ALIAS_SEPARATOR, " ").strip()


def _line(entity: KBEntity) -> str:
    columns = [
        _clean(entity.id),
        entity.type,
        f"{entity.prior:.3f}",
        _clean(entity.kind),
        _clean(entity.country),
        _clean(entity.name),
        _ALIAS_SEPARATOR.join(_clean(alias) for alias in entity.aliases),
        " ".join(_clean(id_) for id_ in entity.related),
        " ".join(_clean(id_) for id_ in entity.also),
        _clean(entity.description),
        _ALIAS_SEPARATOR.join(_clean(demonym) for demonym in entity.demonyms),
    ]
    return "\t".join(columns) + "\n"


def _parse(line: str) -> KBEntity:
    parts = line.rstrip("\n").split("\t")
    if len(parts) == _OLD_COLUMNS:
        parts.append("")
    if len(parts) != _COLUMNS:
        raise ValueError(f"expected {_COLUMNS} columns, got {len(parts)}: {line[:80]!r}")
    id_, type_, prior, kind, country, name, aliases, related, also, description, demonyms = parts
    # Interned: a few dozen kinds and countries repeat over 100k+ rows.
    return KBEntity(
        id=id_,
        name=name,
        type=entity_type(sys.intern(type_)),
        prior=float(prior),
        kind=sys.intern(kind),
        country=sys.intern(country),
        aliases=tuple(aliases.split(_ALIAS_SEPARATOR)) if aliases else (),
        related=tuple(related.split()) if related else (),
        also=tuple(also.split()) if also else (),
        description=description,
        demonyms=tuple(demonyms.split(_ALIAS_SEPARATOR)) if demonyms else (),
    )


class ArtifactWriter:
    """Writes entities one at a time, so a dump-scale build never holds them all."""

    def __init__(self, path: Path, facts: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = _open_text(path, "w")
        self._file.write(f"{FORMAT}\t{FORMAT_VERSION}\t{json.dumps(facts, sort_keys=True)}\n")
        self.count = 0

    @classmethod
    def appending(cls, path: Path, size: int) -> ArtifactWriter:
        """Carry on writing a plain artifact from ``size`` bytes, dropping whatever was written after that."""
        writer = cls.__new__(cls)
        writer._file = cast(TextIO, path.open("r+", encoding="utf-8", newline="\n"))
        writer._file.truncate(size)
        writer._file.seek(size)
        writer.count = 0
        return writer

    def write(self, entity: KBEntity) -> None:
        self._file.write(_line(entity))
        self.count += 1

    def sync(self) -> int:
        """Flush to disk and return the file's size: everything up to it survives a crash."""
        self._file.flush()
        os.fsync(self._file.fileno())
        return os.fstat(self._file.fileno()).st_size

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> ArtifactWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_text(path: Path, mode: str) -> TextIO:
    if path.suffix == ".xz":
        if mode == "w":
            return io.TextIOWrapper(lzma.open(path, "wb", preset=9), encoding="utf-8", newline="\n")
        return io.TextIOWrapper(lzma.open(path, "rb"), encoding="utf-8")
    if path.suffix == ".gz":
        if mode == "w":
            # mtime=0: the same input gives byte-identical output, so a rebuild shows no diff.
            return io.TextIOWrapper(gzip.GzipFile(path, "wb", mtime=0), encoding="utf-8", newline="\n")
        return io.TextIOWrapper(gzip.GzipFile(path, "rb"), encoding="utf-8")
    return cast(TextIO, path.open(mode, encoding="utf-8"))


def write_artifact(path: Path, entities: Iterable[KBEntity], facts: dict[str, Any]) -> int:
    with ArtifactWriter(path, facts) as writer:
        for entity in entities:
            writer.write(entity)
        return writer.count


def read_facts(path: Path) -> dict[str, Any]:
    with _open_text(path, "r") as lines:
        return _header(lines.readline(), path)


def _header(line: str, path: Path) -> dict[str, Any]:
    parts = line.rstrip("\n").split("\t", 2)
    if len(parts) != 3 or parts[0] != FORMAT:
        raise ValueError(f"{path} is not a newsflow knowledge-base artifact")
    if int(parts[1]) != FORMAT_VERSION:
        raise ValueError(f"{path} has format version {parts[1]}, this code reads {FORMAT_VERSION}")
    return cast(dict[str, Any], json.loads(parts[2]))


def read_artifact(path: Path) -> Iterator[KBEntity]:
    with _open_text(path, "r") as lines:
        _header(lines.readline(), path)
        for line in lines:
            if line.strip():
                yield _parse(line)
