"""Writing generated test code: Python literals, and a writer of test-method lines that creates
records (and the records they refer to) and moves them by transitions into the states a test needs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from assets.architecture.models import Entity, EntityField
from assets.story_builds.offline.entity_fields import (
    data_fields,
    initial_state,
    input_fields,
    route,
    state_fields,
)
from assets.story_builds.offline.names import variable
from assets.story_builds.offline.samples import (
    Ref,
    sample_value,
)
from assets.story_builds.offline.specs import ResourceSpec


def doc(text: str) -> str:
    return " ".join(text.replace("\\", "/").replace('"', "'").split())


def py(value: Any) -> str:
    """A Python literal for JSON-like `value` (a Ref becomes `<variable>["id"]`), deterministic."""
    if isinstance(value, Ref):
        return f'{value.variable}["id"]'
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py(key)}: {py(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(py(item) for item in value) + "]"
    return repr(value)


class Writer:
    """Lines of one test method, with helpers that create records (and the records they refer to)."""

    def __init__(self, specs: Mapping[str, ResourceSpec]) -> None:
        self.specs = specs
        self.lines: list[str] = []
        self.counts: dict[str, int] = {}
        self.known: dict[str, dict[str, Any]] = {}

    def line(self, text: str) -> None:
        self.lines.append(text)

    def fresh(self, entity: str) -> str:
        self.counts[entity] = self.counts.get(entity, 0) + 1
        return variable(entity, self.counts[entity])

    def body(
        self,
        entity: Entity,
        variant: int,
        seen: frozenset[str] = frozenset(),
        overrides: Mapping[str, Any] = {},
    ) -> dict[str, Any]:
        """A valid body for `entity`; reference fields point at records created first."""
        out: dict[str, Any] = {}
        for field in input_fields(entity):
            if field.name in overrides:
                out[field.name] = overrides[field.name]
                continue
            if field.type == "reference":
                target = self.specs.get(field.references or "")
                if target and target.has("create") and target.entity.name not in seen | {entity.name}:
                    out[field.name] = Ref(self.record(target.entity, variant, seen | {entity.name}))
                continue
            out[field.name] = sample_value(entity.name, field, variant)
        return out

    def record(
        self,
        entity: Entity,
        variant: int,
        seen: frozenset[str] = frozenset(),
        overrides: Mapping[str, Any] = {},
        states: Mapping[str, Sequence[str]] = {},
        name: str = "",
    ) -> str:
        """Create a record, then move it by transitions into one of `states[field]` for each state
        field named; returns the local variable holding it (its final values in `self.known`)."""
        body = self.body(entity, variant, seen, overrides)
        name = name or self.fresh(entity.name)
        spec = self.specs[entity.name]
        self.line(
            f"{name} = self.created({py(spec.method('create'))}, {py(spec.collection_path)}, {py(body)})"
        )
        known = dict(body)
        for field in data_fields(entity):
            if field.name in state_fields(entity):
                known[field.name] = initial_state(entity, field)
        for field_name, goals in states.items():
            for transition in self.route(entity, field_name, goals):
                self.line(f"{name} = self.moved({self.transition_call(spec, transition.name, name)})")
                known[field_name] = transition.to_state
        self.known[name] = known
        return name

    def usable(self, entity: Entity) -> set[str]:
        spec = self.specs[entity.name]
        return {op.name for op, _ in spec.operations if op.kind == "transition"}

    def route(self, entity: Entity, field: str, goals: Sequence[str]) -> list[Any]:
        found = route(entity, field, goals, self.usable(entity))
        assert found is not None, (entity.name, field, goals)
        return found

    @staticmethod
    def transition_call(spec: ResourceSpec, name: str, variable: str) -> str:
        return (
            f"{py(spec.method('transition', name))}, "
            f'self.path_of({py(spec.path("transition", name))}, {variable}["id"])'
        )

    def create_call(self, spec: ResourceSpec, body: str) -> str:
        return f"self.api({py(spec.method('create'))}, {py(spec.collection_path)}, {body})"

    def stored(self, spec: ResourceSpec, items: str, item: str | None) -> None:
        """Assert what is stored: the whole list if the API lists, else the one item if it reads."""
        if spec.has("list"):
            self.line(f'self.assertEqual(self.api("GET", {py(spec.collection_path)}), (200, [{items}]))')
        elif spec.has("read") and item:
            self.line(
                f'self.assertEqual(self.api("GET", self.path_of({py(spec.item_path)}, {item}["id"])), (200, '
                f"{item}))"
            )

    def restart_then(self, spec: ResourceSpec, items: str, item: str | None, what: str) -> None:
        if spec.has("list") or (spec.has("read") and item):
            self.line(f"# {what} outlives a restart of the backend (SQLite persistence)")
            self.line("self.backend.restart()")
            self.stored(spec, items, item)


def entity_field(entity: Entity, name: str | None) -> EntityField:
    found = entity.field(name or "")
    assert found is not None, (entity.name, name)
    return found


def distinct(entity: Entity, body: dict[str, Any], keep: str, variant: int) -> dict[str, Any]:
    """`body` with its unique fields (other than `keep`) given fresh values, so it can be stored too."""
    out = dict(body)
    for field in data_fields(entity):
        if field.unique and field.name != keep and field.name in out and not isinstance(out[field.name], Ref):
            out[field.name] = sample_value(entity.name, field, variant)
    return out
