"""Dictionary entity linking over a small knowledge base (Aho-Corasick over aliases)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from shared.messages import ArticleEnriched, Entity


@dataclass(frozen=True)
class KBEntry:
    id: str
    name: str
    type: str


def handle_for(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower().split(",")[0].removesuffix(" inc."))


class Linker:
    def __init__(self, entries: list[dict[str, object]]) -> None:
        self.automaton = ahocorasick.Automaton()
        for raw in entries:
            entry = KBEntry(str(raw["id"]), str(raw["name"]), str(raw["type"]))
            aliases = raw.get("aliases")
            for alias in [entry.name, *(aliases if isinstance(aliases, list) else [])]:
                self.automaton.add_word(str(alias), (len(str(alias)), entry))
        self.automaton.make_automaton()

    @classmethod
    def from_file(cls, path: Path) -> Linker:
        return cls(json.loads(path.read_text()))

    def link(self, article: ArticleEnriched) -> list[Entity]:
        body = article.body
        found: dict[str, Entity] = {}
        taken_until = -1
        # Longest match wins where aliases overlap, and only whole words count.
        matches = sorted(
            ((end - length + 1, end + 1, entry) for end, (length, entry) in self.automaton.iter_long(body)),
            key=lambda m: m[0],
        )
        for start, end, entry in matches:
            if start <= taken_until or not _whole_word(body, start, end):
                continue
            taken_until = end - 1
            entity = found.get(entry.id) or Entity.model_validate(
                {
                    "id": entry.id,
                    "name": entry.name,
                    "type": entry.type,
                    "handle": handle_for(entry.name),
                    "mentions": 0,
                }
            )
            entity.mentions += 1
            entity.spans.append((start, end))
            found[entry.id] = entity
        total = sum(e.mentions for e in found.values()) or 1
        for entity in found.values():
            entity.salience = round(entity.mentions / total, 3)
        return sorted(found.values(), key=lambda e: -e.salience)


def _whole_word(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not before.isalnum() and not after.isalnum()
