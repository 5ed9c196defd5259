"""What the templates read off an entity of the data model: its data fields, which fields a client sends
(transitions move the state fields), where a new record's state starts and which runs of transitions
bring it into a state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assets.architecture.models import Entity, EntityField, Transition


def data_fields(entity: Entity) -> list[EntityField]:
    return [field for field in entity.fields if field.name != "id"]


def state_fields(entity: Entity) -> set[str]:
    """Fields that transitions move: read-only in request bodies."""
    return {transition.field for transition in entity.transitions}


def input_fields(entity: Entity) -> list[EntityField]:
    """The fields a client sends to create or update a record."""
    states = state_fields(entity)
    return [field for field in data_fields(entity) if field.name not in states]


def initial_state(entity: Entity, field: EntityField) -> Any:
    """A field's default; a state field that transitions move starts in its first value."""
    if field.default is not None:
        return field.default
    if field.type == "enum" and field.values and field.name in state_fields(entity):
        return field.values[0]
    return None


def allowed_from(entity: Entity, transition: Transition) -> list[str]:
    if transition.from_states:
        return list(transition.from_states)
    state = entity.field(transition.field)
    return [value for value in (state.values if state else []) if value != transition.to_state]


def route(
    entity: Entity, field: str, goals: Sequence[str], usable: set[str] | None = None
) -> list[Transition] | None:
    """The shortest run of transitions taking a new record's `field` into one of `goals` ([] when it
    starts there), using only transitions named in `usable` (all when None); None if none does."""
    state = entity.field(field)
    if state is None:
        return None
    start = initial_state(entity, state)
    paths: dict[Any, list[Transition]] = {start: []}
    frontier = [start]
    while frontier:
        current = frontier.pop(0)
        if current in goals:
            return paths[current]
        for transition in entity.transitions:
            if transition.field != field or (usable is not None and transition.name not in usable):
                continue
            if current in allowed_from(entity, transition) and transition.to_state not in paths:
                paths[transition.to_state] = [*paths[current], transition]
                frontier.append(transition.to_state)
    return None
