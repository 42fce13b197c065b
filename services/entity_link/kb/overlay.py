"""The operators' overlay (``deploy/kb-overlay.yaml``): corrections applied when the KB loads.

Four sections, applied in this order:

``entities``  add an entity or update one held under the same id (names are added, facts replaced)
``merge``     ``secondary: main`` — a list's duplicate or stale id becomes another name for the main item
``aliases``   ``id: [name, {name: ..., weight: 0.5}]`` — more names for an entity
``block``     ``{alias: name, id: Q..}`` — the name must not lead to that entity (no ``id``: to any)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from services.entity_link.kb.entity import KBEntity, entity_type
from services.entity_link.kb.index import ALIAS_WEIGHT, KnowledgeBase
from services.entity_link.text import local_id


class OverlayError(ValueError):
    pass


@dataclass
class Overlay:
    entities: list[KBEntity] = field(default_factory=list)
    merges: dict[str, str] = field(default_factory=dict)
    aliases: list[tuple[str, str, float]] = field(default_factory=list)  # (entity id, name, weight)
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (name, entity id or "*")


def _alias_entries(entity_id: str, raw: Any) -> list[tuple[str, str, float]]:
    entries: list[tuple[str, str, float]] = []
    for item in raw or []:
        if isinstance(item, str):
            entries.append((entity_id, item, ALIAS_WEIGHT))
        elif isinstance(item, dict) and "name" in item:
            entries.append((entity_id, str(item["name"]), float(item.get("weight", ALIAS_WEIGHT))))
        else:
            raise OverlayError(f"alias of {entity_id} must be a name or {{name, weight}}: {item!r}")
    return entries


def _entity(raw: dict[str, Any]) -> tuple[KBEntity, list[tuple[str, str, float]]]:
    if "name" not in raw or "type" not in raw:
        raise OverlayError(f"an overlay entity needs name and type: {raw!r}")
    kind = entity_type(str(raw["type"]))
    entity = KBEntity(
        id=str(raw.get("id") or local_id(kind, str(raw["name"]))),
        name=str(raw["name"]),
        type=kind,
        prior=float(raw.get("prior", 0.5)),
        kind=str(raw.get("kind", "")),
        country=str(raw.get("country", "")),
        related=tuple(str(r) for r in raw.get("related") or []),
        description=str(raw.get("description", "")),
    )
    names = _alias_entries(entity.id, raw.get("aliases"))
    # Names with their own weight are added apart, so the default weight never overrides theirs.
    entity.aliases = tuple(name for _, name, weight in names if weight == ALIAS_WEIGHT and name != entity.name)
    return entity, [entry for entry in names if entry[2] != ALIAS_WEIGHT]


def parse_overlay(data: dict[str, Any] | None) -> Overlay:
    data = data or {}
    overlay = Overlay()
    for raw in data.get("entities") or []:
        entity, names = _entity(raw)
        overlay.entities.append(entity)
        overlay.aliases.extend(names)
    overlay.merges = {str(k): str(v) for k, v in (data.get("merge") or {}).items()}
    for entity_id, names in (data.get("aliases") or {}).items():
        overlay.aliases.extend(_alias_entries(str(entity_id), names))
    for raw in data.get("block") or []:
        if not isinstance(raw, dict) or "alias" not in raw:
            raise OverlayError(f"a block entry needs an alias: {raw!r}")
        overlay.blocks.append((str(raw["alias"]), str(raw.get("id", "*"))))
    return overlay


def read_overlay(path: Path) -> Overlay:
    try:
        return parse_overlay(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, TypeError, ValueError) as error:
        raise OverlayError(f"{path}: {error}") from error


def apply_overlay(kb: KnowledgeBase, overlay: Overlay) -> None:
    for entity in overlay.entities:
        names = entity.all_names()
        held = kb.get(entity.id)
        if held is not None:
            # An update: the overlay's facts win, names are added to the held ones.
            held.name, held.type, held.prior = entity.name, entity.type, entity.prior
            held.kind = entity.kind or held.kind
            held.country = entity.country or held.country
            held.description = entity.description or held.description
        kb.add(entity)
        for name in names:
            kb.vouch(entity.id, name)
    for secondary, main in overlay.merges.items():
        kb.merge(secondary, main)
    for entity_id, name, weight in overlay.aliases:
        if kb.get(entity_id) is None:
            raise OverlayError(f"alias {name!r} names an unknown entity {entity_id}")
        kb.add_alias(entity_id, name, weight)
        kb.vouch(entity_id, name)
    for name, entity_id in overlay.blocks:
        kb.block(name, entity_id)
