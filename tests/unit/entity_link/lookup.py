"""The entity a mention in a test story went to."""

from __future__ import annotations

from shared.messages import Entity


def entity_or_none_at(entities: list[Entity], body: str, text: str) -> Entity | None:
    """The entity with a mention starting where ``text`` first occurs in ``body``, if any."""
    start = body.index(text)
    return next((entity for entity in entities if any(a == start for a, _ in entity.spans)), None)


def entity_at(entities: list[Entity], body: str, text: str) -> Entity:
    """As ``entity_or_none_at``, for a mention that must have been linked."""
    found = entity_or_none_at(entities, body, text)
    if found is None:
        raise AssertionError(f"no entity at {text!r}: {[(e.id, e.spans) for e in entities]}")
    return found
