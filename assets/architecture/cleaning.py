"""A proposed data model made consistent: names, field types, relations, states, limits, summaries.

Either provider's draft passes through here, so the model's answer is held to the same rules as
the offline design: snake_case field names and an `id` first; an enum without values becomes a
string; a reference to an unknown entity becomes a plain integer; a transition's state field is an
enum holding every state it names; limits and summaries naming unknown fields are dropped; story
ids the requirements do not know are dropped.
"""

from __future__ import annotations

import re

from assets.architecture.draft import DraftEntity
from assets.architecture.models import CountLimit, Entity, EntityField, Summary, Transition
from assets.architecture.openapi import OPERATION_ORDER, SEARCH_PARAMETER, SORT_PARAMETER, EntityOperation
from assets.requirements.language import pascal_case, singular, snake_case, words

NUMERIC_TYPES = frozenset({"integer", "number", "money"})
_RESERVED_ACTIONS = frozenset({"list", "create", "get", "read", "update", "delete", "summaries"})


def entity_name(name: str) -> str:
    """ "support tickets", "SupportTickets", "support_ticket" -> "SupportTicket"."""
    parts = words(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name))
    if not parts:
        return "Item"
    return pascal_case(" ".join([*parts[:-1], singular(parts[-1])]))


def _state(value: str) -> str:
    return snake_case(value) or "unknown"


def _known(story_ids: list[str], known: set[str]) -> list[str]:
    return sorted({story_id for story_id in story_ids if story_id in known})


def _clean_fields(proposed: DraftEntity, entity_names: dict[str, str]) -> dict[str, EntityField]:
    fields = {"id": EntityField(name="id", type="integer", required=True)}
    for proposed_field in proposed.fields:
        name = snake_case(proposed_field.name)
        if not name or name in fields:
            continue
        update: dict[str, object] = {"name": name}
        if proposed_field.type == "enum":
            values = list(dict.fromkeys(_state(value) for value in proposed_field.values if value.strip()))
            update["values"] = values
            if not values:
                update["type"] = "string"
        elif proposed_field.values:
            update["values"] = []
        if proposed_field.type == "reference":
            target = entity_names.get(entity_name(proposed_field.references or ""))
            if target is None and name.endswith("_id"):
                target = entity_names.get(entity_name(name[:-3]))
            update["references"] = target
            if target is None:
                update["type"] = "integer"
        elif proposed_field.references:
            update["references"] = None
        fields[name] = proposed_field.model_copy(update=update)
    return fields


def _clean_transitions(
    proposed: DraftEntity, fields: dict[str, EntityField], known: set[str]
) -> list[Transition]:
    transitions: dict[str, Transition] = {}
    for transition in proposed.transitions:
        name = snake_case(transition.name)
        if not name or name in transitions or name in _RESERVED_ACTIONS:
            continue
        field_name = snake_case(transition.field) or "status"
        if field_name == "id":
            continue
        to_state = _state(transition.to_state)
        from_states = [
            state for state in dict.fromkeys(map(_state, transition.from_states)) if state != to_state
        ]
        states = [*from_states, to_state]
        current = fields.get(field_name)
        if current is None or current.type != "enum":
            values = list(dict.fromkeys([*(current.values if current else []), *states]))
            fields[field_name] = EntityField(name=field_name, type="enum", required=True, values=values)
        else:
            missing = [state for state in states if state not in current.values]
            fields[field_name] = current.model_copy(
                update={"values": [*current.values, *missing], "required": True}
            )
        transitions[name] = transition.model_copy(
            update={
                "name": name,
                "field": field_name,
                "from_states": from_states,
                "to_state": to_state,
                "story_ids": _known(transition.story_ids, known),
            }
        )
    return list(transitions.values())


def _clean_limits(proposed: DraftEntity, fields: dict[str, EntityField], known: set[str]) -> list[CountLimit]:
    limits = []
    for limit in proposed.limits:
        per = snake_case(limit.per) if limit.per else None
        field_name = snake_case(limit.field) if limit.field else None
        if (per and per not in fields) or (field_name and field_name not in fields):
            continue
        values = [_state(value) for value in limit.values] if field_name else []
        limits.append(
            limit.model_copy(
                update={
                    "per": per,
                    "field": field_name,
                    "values": values,
                    "story_ids": _known(limit.story_ids, known),
                }
            )
        )
    return limits


def _clean_summaries(proposed: DraftEntity, fields: dict[str, EntityField], known: set[str]) -> list[Summary]:
    summaries: dict[str, Summary] = {}
    for summary in proposed.summaries:
        name = snake_case(summary.name)
        names = {
            key: snake_case(value) if value else None
            for key, value in summary.model_dump(
                include={"field", "multiply_by", "group_by", "where_field"}
            ).items()
        }
        if not name or name in summaries or any(value and value not in fields for value in names.values()):
            continue
        measure = summary.measure
        if measure != "count" and (
            names["field"] is None or fields[names["field"]].type not in NUMERIC_TYPES
        ):
            continue
        if names["multiply_by"] and fields[names["multiply_by"]].type not in NUMERIC_TYPES:
            names["multiply_by"] = None
        summaries[name] = summary.model_copy(
            update={
                "name": name,
                **names,
                "field": names["field"] if measure != "count" else None,
                "where_values": [_state(v) for v in summary.where_values] if names["where_field"] else [],
                "story_ids": _known(summary.story_ids, known),
            }
        )
    return list(summaries.values())


def _clean_operations(
    proposed: DraftEntity, fields: dict[str, EntityField], known: set[str]
) -> list[EntityOperation]:
    by_kind: dict[str, EntityOperation] = {}
    for operation in proposed.operations:
        merged = by_kind.setdefault(operation.kind, EntityOperation(kind=operation.kind))
        merged.story_ids = sorted(set(merged.story_ids) | set(_known(operation.story_ids, known)))
        if operation.kind != "list":
            continue
        parameters = {snake_case(p) for p in operation.parameters if p}
        keep = {SEARCH_PARAMETER, SORT_PARAMETER} | set(fields)
        merged.parameters = sorted(set(merged.parameters) | (parameters & keep) - {"id"})
        sort_fields = {snake_case(f) for f in operation.sort_fields} & set(fields)
        merged.sort_fields = sorted(set(merged.sort_fields) | sort_fields)
    return [by_kind[kind] for kind in OPERATION_ORDER if kind in by_kind]


def clean_entities(
    proposed: list[DraftEntity], story_ids: set[str]
) -> tuple[list[Entity], dict[str, list[EntityOperation]]]:
    """The data model (sorted by name) and each entity's CRUD operations, made consistent."""
    drafts: dict[str, DraftEntity] = {}
    for entity in proposed:
        drafts.setdefault(entity_name(entity.name), entity)
    entity_names = {name: name for name in drafts}
    data_model: list[Entity] = []
    operations: dict[str, list[EntityOperation]] = {}
    for name, draft in drafts.items():
        fields = _clean_fields(draft, entity_names)
        transitions = _clean_transitions(draft, fields, story_ids)
        entity = Entity(
            name=name,
            fields=list(fields.values()),
            transitions=transitions,
            limits=_clean_limits(draft, fields, story_ids),
            summaries=_clean_summaries(draft, fields, story_ids),
        )
        data_model.append(entity)
        operations[name] = _clean_operations(draft, fields, story_ids)
    kept = _served_entities(data_model, operations)
    data_model = sorted((e for e in data_model if e.name in kept), key=lambda entity: entity.name)
    return data_model, {name: ops for name, ops in operations.items() if name in kept}


def _served_entities(data_model: list[Entity], operations: dict[str, list[EntityOperation]]) -> set[str]:
    """Entities some story acts on, and the entities they reference (transitively).

    An entity no story needs ("Build a booking tool" names a booking, then no story books) would get
    operations that no story builds, and a contract the built backend can never match.
    """
    by_name = {entity.name: entity for entity in data_model}
    kept = {
        entity.name
        for entity in data_model
        if any(op.story_ids for op in operations.get(entity.name, []))
        or any(item.story_ids for item in [*entity.transitions, *entity.limits, *entity.summaries])
    }
    pending = list(kept)
    while pending:
        for field in by_name[pending.pop()].fields:
            if field.references in by_name and field.references not in kept:
                kept.add(field.references)
                pending.append(field.references)
    return kept
