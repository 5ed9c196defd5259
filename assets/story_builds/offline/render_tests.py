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
from assets.story_builds.offline.criteria import CriterionPlan, data_fields
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
        for field in data_fields(entity):
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
    ) -> str:
        """Create a record; returns the local variable holding it."""
        body = self.body(entity, variant, seen, overrides)
        name = self.fresh(entity.name)
        spec = self.specs[entity.name]
        self.line(
            f"{name} = self.created({py(spec.method('create'))}, {py(spec.collection_path)}, {py(body)})"
        )
        return name

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
    fields = data_fields(entity)

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
    first_body, second_body = w.body(entity, 1), w.body(entity, 2)
    line(f"status, first = {w.create_call(spec, py(first_body))}")
    line("self.assertEqual(status, 201, first)")
    line(f"status, second = {w.create_call(spec, py(second_body))}")
    line("self.assertEqual(status, 201, second)")
    names = ["first", "second"]
    query: list[str] = []  # expressions, one per parameter
    if plan.list_parameters:
        filters = [parameter for parameter in plan.list_parameters if parameter != "q"]
        for parameter in plan.list_parameters:
            value = WORDS[1] if parameter == "q" else first_body[parameter]
            if isinstance(value, Ref):
                query.append(f'"{parameter}=" + str(first["{parameter}"])')
            else:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                query.append(py(urlencode({parameter: text})))
        # Decoys: items that match every criterion but one, so each parameter must really filter.
        decoys: list[tuple[str, dict[str, Any]]] = []
        if len(plan.list_parameters) > 1:
            for index, parameter in enumerate(filters):
                field = _field(entity, parameter)
                if field.type == "reference":
                    changed: Any = second_body[parameter]
                else:
                    changed = other_value(entity.name, field, first_body[parameter])
                decoys.append(
                    (parameter, _distinct(entity, {**first_body, parameter: changed}, "", 4 + index))
                )
            if "q" in plan.list_parameters:
                decoy = _distinct(entity, {**second_body, **{p: first_body[p] for p in filters}}, "", 8)
                if not any(isinstance(v, str) and WORDS[1] in v for v in decoy.values()):
                    decoys.append(("q", decoy))
        for index, (parameter, body) in enumerate(decoys, start=1):
            line(f"# differs from the first only in {'the search text' if parameter == 'q' else parameter}")
            line(f"status, decoy{index} = {w.create_call(spec, py(body))}")
            line(f"self.assertEqual(status, 201, decoy{index})")
            names.append(f"decoy{index}")
    everything = ", ".join(names)
    line(f'self.assertEqual(self.api("GET", {collection}), (200, [{everything}]))')
    if plan.list_parameters:
        if any("str(first[" in part for part in query):
            url = py(spec.collection_path + "?") + " + " + ' + "&" + '.join(query)
        else:
            url = py(spec.collection_path + "?" + "&".join(json.loads(part) for part in query))
        line(f"# only the item matching {', '.join(plan.list_parameters)}")
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
    allowed = transition.from_states or [v for v in state.values if v != transition.to_state]
    blocked = [value for value in state.values if value not in allowed]
    method, path = (
        py(spec.method("transition", transition.name)),
        py(spec.path("transition", transition.name)),
    )
    verb = transition.name.replace("_", " ")
    ready = w.record(entity, 1, overrides={state.name: allowed[0]})
    line(f"# from {allowed[0]!r} it can {verb}")
    line(f'status, moved = self.api({method}, self.path_of({path}, {ready}["id"]))')
    line("self.assertEqual(status, 200, moved)")
    line(f"self.assertEqual(moved, {{**{ready}, {py(state.name)}: {py(transition.to_state)}}})")
    if spec.has("read"):
        line(
            f'self.assertEqual(self.api("GET", self.path_of({py(spec.item_path)}, {ready}["id"])), (200, '
            "moved))"
        )
    if blocked:
        stuck_state = blocked[0]
        stuck = w.record(entity, 2, overrides={state.name: stuck_state})
        line(f"# from {stuck_state!r} it cannot: refused, naming the current state, and nothing changes")
        line(
            f'detail = self.refused(409, {method}, self.path_of({path}, {stuck}["id"]), None, '
            f"{py(stuck_state)})"
        )
        line(f"self.assertIn({py(allowed[0])}, detail)")
        if spec.has("read"):
            line(
                f'self.assertEqual(self.api("GET", self.path_of({py(spec.item_path)}, {stuck}["id"])), '
                f"(200, {stuck}))"
            )
    line(f'self.refused(404, {method}, self.path_of({path}, {ready}["id"] + 1000))')


def _group_value(body: Mapping[str, Any], field: str | None) -> Any:
    return None if field is None else body.get(field)


def _render_summary(w: _Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
    entity, line = spec.entity, w.line
    summary = next(s for s in entity.summaries if s.name == plan.name)
    # Three records: the third shares the first one's group; the second, when the summary filters,
    # is outside its filter.
    first = w.body(entity, 1)
    bodies: list[dict[str, Any]] = [first]
    second_overrides: dict[str, Any] = {}
    where = entity.field(summary.where_field or "")
    if where is not None and summary.where_values:
        first[where.name] = summary.where_values[0]
        outside = [v for v in where.values if v not in summary.where_values] if where.type == "enum" else []
        second_overrides[where.name] = outside[0] if outside else summary.where_values[0]
    second = w.body(entity, 2, overrides=second_overrides)
    third_overrides = (
        {where.name: summary.where_values[0]} if where is not None and summary.where_values else {}
    )
    if summary.group_by:
        third_overrides[summary.group_by] = first.get(summary.group_by)
    third = w.body(entity, 3, overrides=third_overrides)
    bodies = [
        _distinct(entity, body, "", 5 + index) if index else body
        for index, body in enumerate([first, second, third])
    ]
    for index, body in enumerate(bodies, start=1):
        line(f"status, record{index} = {w.create_call(spec, py(body))}")
        line(f"self.assertEqual(status, 201, record{index})")
    counted = [
        body
        for body in bodies
        if where is None or not summary.where_values or body.get(where.name) in summary.where_values
    ]
    groups: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
    for body in counted:
        group = _group_value(body, summary.group_by)
        groups.setdefault(py(group), (group, []))[1].append(body)
    expected = []
    for key, (_, members) in groups.items():
        expected.append(f"{key}: {py(_measure(summary, members))}")
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
    overrides: dict[str, Any] = {}
    if limit.field and limit.values:
        overrides[limit.field] = limit.values[0]
    base = w.body(entity, 1, overrides=overrides)
    line(f"base = {py(base)}")
    unique = [
        f
        for f in data_fields(entity)
        if f.unique and f.name in base and f.type in ("string", "text", "email")
    ]
    varied = ", ".join(f'{py(f.name)}: f"{{index}}" + base[{py(f.name)}]' for f in unique)
    line(f"# {limit.maximum} records that count towards the limit are accepted")
    line(f"for index in range({limit.maximum}):")
    line(f"    self.created({create}, {collection}, {{**base{', ' + varied if varied else ''}}})")
    over = ", ".join(f'{py(f.name)}: "over " + base[{py(f.name)}]' for f in unique)
    line("# one more is refused")
    line(
        f"self.refused(409, {create}, {collection}, {{**base{', ' + over if over else ''}}}, "
        f"{py(str(limit.maximum))})"
    )
    if spec.has("list"):
        line(f'status, items = self.api("GET", {collection})')
        line(f"self.assertEqual(len(items), {limit.maximum}, items)")
    if limit.per:
        per = _field(entity, limit.per)
        if per.type == "reference":
            target = w.specs.get(per.references or "")
            other: Any = Ref(w.record(target.entity, 2)) if target and target.has("create") else None
        else:
            other = other_value(entity.name, per, base[per.name])
        if other is not None:
            extra = ", ".join(f'{py(f.name)}: "other " + base[{py(f.name)}]' for f in unique)
            line(f"# for another {per.name} the count starts again")
            line(
                f"self.created({create}, {collection}, {{**base, {py(per.name)}: "
                f"{py(other)}{', ' + extra if extra else ''}}})"
            )
    if limit.field:
        state = entity.field(limit.field)
        outside = [v for v in (state.values if state else []) if v not in limit.values]
        if outside:
            extra = ", ".join(f'{py(f.name)}: "outside " + base[{py(f.name)}]' for f in unique)
            line(f"# a record whose {limit.field} is {outside[0]!r} does not count")
            line(
                f"self.created({create}, {collection}, {{**base, {py(limit.field)}: "
                f"{py(outside[0])}{', ' + extra if extra else ''}}})"
            )


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
