"""A story's test module: one unittest method per covered acceptance criterion, each exercising the
behaviour through HTTP against the started backend, refusals included, and asserting at every step."""

from __future__ import annotations

import json
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from assets.architecture.models import Entity, EntityField
from assets.requirements.models import UserStory
from assets.story_builds.models import UncoveredCriterion
from assets.story_builds.offline.criteria import (
    CriterionPlan,
    allowed_from,
    data_fields,
    initial_state,
    input_fields,
    route,
    state_fields,
)
from assets.story_builds.offline.names import story_class, test_name, variable
from assets.story_builds.offline.samples import (
    WORDS,
    Ref,
    invalid_value,
    other_value,
    sample_value,
    wrong_type,
)
from assets.story_builds.offline.specs import ResourceSpec
from assets.story_builds.offline.state import GENERATOR_VERSION
from assets.story_builds.offline.templates import STORY_TESTS, TEMPLATES, template_text


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


class _Writer:
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


def _field(entity: Entity, name: str | None) -> EntityField:
    found = entity.field(name or "")
    assert found is not None, (entity.name, name)
    return found


def _distinct(entity: Entity, body: dict[str, Any], keep: str, variant: int) -> dict[str, Any]:
    """`body` with its unique fields (other than `keep`) given fresh values, so it can be stored too."""
    out = dict(body)
    for field in data_fields(entity):
        if field.unique and field.name != keep and field.name in out and not isinstance(out[field.name], Ref):
            out[field.name] = sample_value(entity.name, field, variant)
    return out


def render_test_method(story: UserStory, plan: CriterionPlan, specs: Mapping[str, ResourceSpec]) -> str:
    spec = specs[plan.entity]
    entity = spec.entity
    w = _Writer(specs)
    line = w.line
    collection, item_path = py(spec.collection_path), py(spec.item_path)
    create = py(spec.method("create")) if spec.has("create") else ""
    fields = input_fields(entity)

    if plan.kind == "create":
        line(f"sent = {py(w.body(entity, 1))}")
        line(f"status, created = {w.create_call(spec, 'sent')}")
        line("self.assertEqual(status, 201, created)")
        line('self.assertIsInstance(created["id"], int)')
        line("self.assertEqual({key: created[key] for key in sent}, sent)")
        if spec.has("read"):
            line(f'item = self.path_of({item_path}, created["id"])')
            line('self.assertEqual(self.api("GET", item), (200, created))')
        required = [field for field in fields if field.required and field.default is None]
        if required:
            name = required[0].name
            line(f"# without {name} (required) the item is refused")
            line(f"incomplete = {{key: value for key, value in sent.items() if key != {py(name)}}}")
            line(f"self.refused(422, {create}, {collection}, incomplete, {py(name)})")
        typed = [field for field in fields if field.type != "reference"]
        if typed:
            wrong = typed[0]
            line(f"# a {wrong.name} of the wrong type is refused")
            line(
                f"self.refused(422, {create}, {collection}, {{**sent, {py(wrong.name)}: "
                f"{py(wrong_type(wrong))}}}, {py(wrong.name)})"
            )
        line("# only the valid item was stored")
        w.stored(spec, "created", "created")
        w.restart_then(spec, "created", "created", "the item")
    elif plan.kind in ("validate", "invalid"):
        field = _field(entity, plan.field)
        full = w.body(entity, 1)
        if plan.kind == "validate":
            line(f"sent = {py({k: v for k, v in full.items() if k != field.name})}")
            line(f"self.refused(422, {create}, {collection}, sent, {py(field.name)})")
            line(f"# an empty {field.name} is refused too")
            empty = "" if field.type in ("string", "text", "email", "url", "enum") else None
            line(
                f"self.refused(422, {create}, {collection}, {{**sent, {py(field.name)}: {py(empty)}}}, "
                f"{py(field.name)})"
            )
        else:
            bad = invalid_value(field)
            assert bad is not None
            value, rule = bad
            line(f"sent = {py(full)}")
            line(f"# {field.name} {rule}")
            line(
                f"self.refused(422, {create}, {collection}, {{**sent, {py(field.name)}: {py(value)}}}, "
                f"{py(field.name)})"
            )
        if spec.has("list"):
            line("# nothing was stored")
            line(f'self.assertEqual(self.api("GET", {collection}), (200, []))')
        line(f"# with a valid {field.name} the same item is accepted: {field.name} was the reason")
        line(
            "status, created = "
            f"{w.create_call(spec, f'{{**sent, {py(field.name)}: {py(full[field.name])}}}')}"
        )
        line("self.assertEqual(status, 201, created)")
        line(f"self.assertEqual(created[{py(field.name)}], {py(full[field.name])})")
    elif plan.kind == "read":
        line(f"sent = {py(w.body(entity, 1))}")
        line(f"status, created = {w.create_call(spec, 'sent')}")
        line("self.assertEqual(status, 201, created)")
        line(f'item = self.path_of({item_path}, created["id"])')
        line('self.assertEqual(self.api("GET", item), (200, created))')
        line(f'self.refused(404, "GET", self.path_of({item_path}, created["id"] + 1000))')
        line("# the item outlives a restart of the backend (SQLite persistence)")
        line("self.backend.restart()")
        line('self.assertEqual(self.api("GET", item), (200, created))')
    elif plan.kind == "update":
        target = _field(entity, plan.field)
        method = py(spec.method("update"))
        line(f"sent = {py(w.body(entity, 1))}")
        line(f"status, created = {w.create_call(spec, 'sent')}")
        line("self.assertEqual(status, 201, created)")
        line(f'item = self.path_of({item_path}, created["id"])')
        new_value = other_value(entity.name, target, sample_value(entity.name, target, 1), 2)
        if spec.method("update") == "PUT":  # a full replacement
            line(f"change = {{**sent, {py(target.name)}: {py(new_value)}}}")
        else:
            line(f"change = {{{py(target.name)}: {py(new_value)}}}")
        line(f"status, updated = self.api({method}, item, change)")
        line("self.assertEqual(status, 200, updated)")
        line(f"self.assertEqual(updated, {{**created, {py(target.name)}: {py(new_value)}}})")
        w.stored(spec, "updated", "updated")
        line(f'self.refused(404, {method}, self.path_of({item_path}, created["id"] + 1000), change)')
        line(
            f"self.refused(422, {method}, item, {{**change, {py(target.name)}: {py(wrong_type(target))}}}, "
            f"{py(target.name)})"
        )
        w.restart_then(spec, "updated", "updated", "the change")
    elif plan.kind == "delete":
        method = py(spec.method("delete"))
        gone = w.record(entity, 1)
        kept = w.record(entity, 2)
        line(f'item = self.path_of({item_path}, {gone}["id"])')
        line(f"self.assertEqual(self.api({method}, item), (204, None))")
        if spec.has("read"):
            line('self.refused(404, "GET", item)')
        w.stored(spec, kept, kept)
        line(f"self.refused(404, {method}, item)")
        w.restart_then(spec, kept, kept, "the deletion")
    elif plan.kind == "list":
        _render_list(w, spec, plan)
    elif plan.kind == "sort":
        _render_sort(w, spec, plan)
    elif plan.kind == "transition":
        _render_transition(w, spec, plan)
    elif plan.kind == "summary":
        _render_summary(w, spec, plan)
    elif plan.kind == "limit":
        _render_limit(w, spec, plan)
    elif plan.kind == "unique":
        field = _field(entity, plan.field)
        first = w.record(entity, 1)
        second = _distinct(entity, w.body(entity, 2), field.name, 2)
        line(f"second = {py(second)}")
        line(f"# a second {entity.name} with the same {field.name} is refused")
        line(
            f"self.refused(409, {create}, {collection}, {{**second, {py(field.name)}: "
            f"{first}[{py(field.name)}]}}, {py(field.name)})"
        )
        line(f"status, other = {w.create_call(spec, 'second')}")
        line("self.assertEqual(status, 201, other)")
        w.stored(spec, f"{first}, other", None)
    elif plan.kind == "delete_referenced":
        child = specs[plan.child or ""].entity
        parent_var = w.record(entity, 1)
        child_var = w.record(child, 1, overrides={plan.field or "": Ref(parent_var)})
        delete = py(spec.method("delete"))
        line(f'item = self.path_of({item_path}, {parent_var}["id"])')
        line(f"# a {entity.name} that a {child.name} refers to cannot be deleted")
        line(f"self.refused(409, {delete}, item, None, {py(plan.field or '')})")
        w.stored(spec, parent_var, parent_var)
        child_spec = specs[child.name]
        if child_spec.has("delete"):
            line("# once nothing refers to it, it can")
            line(
                f"self.assertEqual(self.api({py(child_spec.method('delete'))}, "
                f'self.path_of({py(child_spec.item_path)}, {child_var}["id"])), (204, None))'
            )
            line(f"self.assertEqual(self.api({delete}, item), (204, None))")
    criterion = plan.criterion
    docstring = doc(
        f"Covers: {story.id} {criterion.id}. "
        f"Given {criterion.given}, when {criterion.when}, then {criterion.then}."
    )
    body = "\n".join(f"        {text}" for text in w.lines)
    return f'    def {test_name(story.id, criterion.id)}(self):\n        """{docstring}"""\n{body}\n'


def _render_list(w: _Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
    entity, line = spec.entity, w.line
    collection = py(spec.collection_path)
    states = state_fields(entity)
    params = plan.list_parameters
    # The second record differs from the first in every parameter (a state by a transition).
    moved: dict[str, Sequence[str]] = {}
    for name in params:
        if name in states:
            field = _field(entity, name)
            moved[name] = [v for v in field.values if v != initial_state(entity, field)]
    first_body = w.body(entity, 1)
    w.record(entity, 1, overrides=first_body, name="first")
    second_body = w.body(entity, 2)
    w.record(entity, 2, overrides=second_body, states=moved, name="second")
    names = ["first", "second"]
    first_known = w.known["first"]
    query: list[str] = []  # expressions, one per parameter
    if params:
        filters = [parameter for parameter in params if parameter != "q"]
        for parameter in params:
            value = WORDS[1] if parameter == "q" else first_known[parameter]
            if isinstance(value, Ref):
                query.append(f'"{parameter}=" + str(first["{parameter}"])')
            else:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                query.append(py(urlencode({parameter: text})))
        # Decoys: items that match every criterion but one, so each parameter must really filter.
        decoys: list[tuple[str, dict[str, Any], dict[str, Sequence[str]]]] = []
        if len(params) > 1:
            for index, parameter in enumerate(filters):
                if parameter in states:
                    body = _distinct(entity, dict(first_body), "", 4 + index)
                    decoys.append((parameter, body, {parameter: moved[parameter]}))
                    continue
                field = _field(entity, parameter)
                if field.type == "reference":
                    changed: Any = second_body[parameter]
                else:
                    changed = other_value(entity.name, field, first_body[parameter])
                body = _distinct(entity, {**first_body, parameter: changed}, "", 4 + index)
                decoys.append((parameter, body, {}))
            if "q" in params:
                inputs = [p for p in filters if p not in states]
                decoy = _distinct(entity, {**second_body, **{p: first_body[p] for p in inputs}}, "", 8)
                if not any(isinstance(v, str) and WORDS[1] in v for v in decoy.values()):
                    decoys.append(("q", decoy, {}))
        for index, (parameter, body, goals) in enumerate(decoys, start=1):
            line(f"# differs from the first only in {'the search text' if parameter == 'q' else parameter}")
            w.record(entity, 4 + index, overrides=body, states=goals, name=f"decoy{index}")
            names.append(f"decoy{index}")
    everything = ", ".join(names)
    line(f'self.assertEqual(self.api("GET", {collection}), (200, [{everything}]))')
    if params:
        if any("str(first[" in part for part in query):
            url = py(spec.collection_path + "?") + " + " + ' + "&" + '.join(query)
        else:
            url = py(spec.collection_path + "?" + "&".join(json.loads(part) for part in query))
        line(f"# only the item matching {', '.join(params)}")
        line(f'self.assertEqual(self.api("GET", {url}), (200, [first]))')
    line("# the items outlive a restart of the backend (SQLite persistence)")
    line("self.backend.restart()")
    line(f'self.assertEqual(self.api("GET", {collection}), (200, [{everything}]))')


def _render_sort(w: _Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
    entity, line = spec.entity, w.line
    field = _field(entity, plan.field)
    collection = spec.collection_path
    # Created out of order, so that the id order is not the sorted order.
    bodies = [w.body(entity, variant) for variant in (2, 3, 1)]
    for index, body in enumerate(bodies, start=1):
        line(f"status, item{index} = {w.create_call(spec, py(body))}")
        line(f"self.assertEqual(status, 201, item{index})")
    values = [body[field.name] for body in bodies]
    ascending = [f"item{index}" for _, index in sorted(zip(values, (1, 2, 3), strict=True))]
    line(f"# sorted by {field.name}, then the other way round")
    line(
        f'self.assertEqual(self.api("GET", {py(collection + "?sort=" + field.name)}), (200, '
        f"[{', '.join(ascending)}]))"
    )
    line(
        f'self.assertEqual(self.api("GET", {py(collection + "?sort=-" + field.name)}), (200, '
        f"[{', '.join(reversed(ascending))}]))"
    )
    line(f'self.refused(422, "GET", {py(collection + "?sort=no_such_field")}, None, "sort")')


def _render_transition(w: _Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
    entity, line = spec.entity, w.line
    transition = next(t for t in entity.transitions if t.name == plan.name)
    state = _field(entity, transition.field)
    allowed = allowed_from(entity, transition)
    verb = transition.name.replace("_", " ")
    call = w.transition_call
    ready = w.record(entity, 1, states={state.name: allowed})
    start = w.known[ready][state.name]
    item_path = py(spec.item_path)
    line(f"# from {start!r} it can {verb}")
    line(f"status, moved = self.api({call(spec, transition.name, ready)})")
    line("self.assertEqual(status, 200, moved)")
    line(f"self.assertEqual(moved, {{**{ready}, {py(state.name)}: {py(transition.to_state)}}})")
    if spec.has("read"):
        line(f'self.assertEqual(self.api("GET", self.path_of({item_path}, {ready}["id"])), (200, moved))')
    if transition.to_state not in allowed:
        line(f"# from {transition.to_state!r} it cannot: refused, naming the current state; nothing changes")
        line(
            f"detail = self.refused(409, {call(spec, transition.name, 'moved')}, None, "
            f"{py(transition.to_state)})"
        )
        line(f"self.assertIn({py(start)}, detail)")
        if spec.has("read"):
            line(f'self.assertEqual(self.api("GET", self.path_of({item_path}, moved["id"])), (200, moved))')
    initial = initial_state(entity, state)
    if initial not in allowed:
        fresh = w.record(entity, 2)
        line(f"# a new {entity.name} is {initial!r}: it cannot {verb} yet")
        line(f"self.refused(409, {call(spec, transition.name, fresh)}, None, {py(initial)})")
    method = py(spec.method("transition", transition.name))
    path = py(spec.path("transition", transition.name))
    line(f'self.refused(404, {method}, self.path_of({path}, {ready}["id"] + 1000))')


def _render_summary(w: _Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
    entity, line = spec.entity, w.line
    summary = next(s for s in entity.summaries if s.name == plan.name)
    states = state_fields(entity)
    where = entity.field(summary.where_field or "")
    inside: dict[str, Any] = {}
    inside_states: dict[str, Sequence[str]] = {}
    outside: dict[str, Any] = {}
    outside_states: dict[str, Sequence[str]] = {}
    if where is not None and summary.where_values:
        others = [v for v in where.values if v not in summary.where_values] if where.type == "enum" else []
        if where.name in states:
            inside_states[where.name] = summary.where_values
            reachable = [v for v in others if route(entity, where.name, [v], w.usable(entity)) is not None]
            outside_states[where.name] = reachable[:1] or summary.where_values
        else:
            inside[where.name] = summary.where_values[0]
            outside[where.name] = others[0] if others else summary.where_values[0]
    # Three records: the third shares the first one's group; the second, when the summary filters,
    # is outside its filter.
    first = w.record(entity, 1, overrides=inside, states=inside_states)
    second = w.record(entity, 2, overrides=outside, states=outside_states)
    third_overrides = dict(inside)
    third_states = dict(inside_states)
    group = summary.group_by
    if group is not None:
        value = w.known[first].get(group)
        if group in states:
            third_states[group] = [value]
        else:
            third_overrides[group] = value
    third = w.record(entity, 3, overrides=third_overrides, states=third_states)
    records = [w.known[name] for name in (first, second, third)]
    counted = [
        known
        for known in records
        if where is None or not summary.where_values or known.get(where.name) in summary.where_values
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for known in counted:
        groups.setdefault(py(None if group is None else known.get(group)), []).append(known)
    expected = [f"{key}: {py(_measure(summary, members))}" for key, members in groups.items()]
    method, path = py(spec.method("summary", summary.name)), py(spec.path("summary", summary.name))
    line(f"status, rows = self.api({method}, {path})")
    line("self.assertEqual(status, 200, rows)")
    line(f"self.assertEqual(len(rows), {len(expected)}, rows)")
    line(f'self.assertEqual({{row["group"]: row["value"] for row in rows}}, {{{", ".join(expected)}}})')


def _measure(summary: Any, members: list[dict[str, Any]]) -> float | int:
    if summary.measure == "count" or not summary.field:
        return len(members)
    amounts = []
    for body in members:
        value = body.get(summary.field)
        if value is None:
            continue
        if summary.multiply_by:
            factor = body.get(summary.multiply_by)
            if factor is None:
                continue
            value = value * factor
        amounts.append(value)
    if summary.measure == "average":
        return round(sum(amounts) / len(amounts), 6) if amounts else 0
    total = sum(amounts)
    return round(total, 6) if isinstance(total, float) else total


def _render_limit(w: _Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
    entity, line = spec.entity, w.line
    limit = entity.limits[0]
    collection, create = py(spec.collection_path), py(spec.method("create"))
    states = state_fields(entity)
    maximum = py(str(limit.maximum))
    overrides: dict[str, Any] = {}
    moves: list[Any] = []
    if limit.field and limit.values:
        if limit.field in states:
            moves = w.route(entity, limit.field, limit.values)
        else:
            overrides[limit.field] = limit.values[0]
    base = w.body(entity, 1, overrides=overrides)
    line(f"base = {py(base)}")
    unique = [
        f
        for f in data_fields(entity)
        if f.unique and f.name in base and f.type in ("string", "text", "email")
    ]

    def varied(prefix: str, extra: str = "") -> str:
        parts = [f"{py(f.name)}: {prefix} + base[{py(f.name)}]" for f in unique]
        return "{" + ", ".join(["**base", *parts, *([extra] if extra else [])]) + "}"

    def counted(target: str, body: str, refuse_last: bool) -> list[str]:
        """Lines creating a record that counts towards the limit (moved into a counted state)."""
        if not moves:
            if refuse_last:
                return [f"self.refused(409, {create}, {collection}, {body}, {maximum})"]
            return [f"{target} = self.created({create}, {collection}, {body})"]
        out = [f"{target} = self.created({create}, {collection}, {body})"]
        for index, transition in enumerate(moves):
            call = w.transition_call(spec, transition.name, target)
            if refuse_last and index == len(moves) - 1:
                out.append(f"self.refused(409, {call}, None, {maximum})")
            else:
                out.append(f"{target} = self.moved({call})")
        return out

    line(f"# {limit.maximum} records that count towards the limit are accepted")
    line(f"for index in range({limit.maximum}):")
    for text in counted("item", varied('f"{index} "'), False):
        line("    " + text)
    line("# one more is refused")
    for text in counted("over", varied('"over "'), True):
        line(text)
    if spec.has("list"):
        line(f'status, items = self.api("GET", {collection})')
        line("self.assertEqual(status, 200, items)")
    if limit.per:
        per = _field(entity, limit.per)
        other: Any = None
        if per.type == "reference":
            target = w.specs.get(per.references or "")
            if target and target.has("create"):
                other = Ref(w.record(target.entity, 2))
        elif per.name not in states:
            other = other_value(entity.name, per, base.get(per.name))
        if other is not None:
            line(f"# for another {per.name} the count starts again")
            for text in counted("other", varied('"other "', f"{py(per.name)}: {py(other)}"), False):
                line(text)
    if limit.field:
        state = entity.field(limit.field)
        values = state.values if state else []
        outside = [v for v in values if v not in limit.values]
        if outside and limit.field not in states:
            line(f"# a record whose {limit.field} is {outside[0]!r} does not count")
            body = varied('"outside "', f"{py(limit.field)}: {py(outside[0])}")
            line(f"self.created({create}, {collection}, {body})")
        elif moves and state is not None and initial_state(entity, state) not in limit.values:
            line(f"# a record still {initial_state(entity, state)!r} does not count")
            body = varied('"outside "')
            line(f"self.created({create}, {collection}, {body})")


def render_test_module(
    story: UserStory,
    methods: Sequence[str],
    uncovered: Sequence[UncoveredCriterion],
    root: Path = TEMPLATES,
) -> str:
    not_covered = "".join(f"- {item.criterion_id}: {doc(item.reason)}\n" for item in uncovered)
    note = (
        f"\nNot covered here (the offline templates cannot implement them):\n{not_covered}"
        if uncovered
        else ""
    )
    return string.Template(template_text(STORY_TESTS, root)).substitute(
        story_id=story.id,
        title=doc(story.title),
        as_a=doc(story.as_a),
        i_want=doc(story.i_want),
        so_that=doc(story.so_that),
        generator=GENERATOR_VERSION,
        note=note,
        test_class=story_class(story.id),
        methods="\n".join(methods),
    )
