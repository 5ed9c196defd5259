"""Generated tests of the model's rules: transitions from their allowed states (and refused from the
others), summaries computed over records in and out of their filter, and count limits."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assets.story_builds.offline.entity_fields import (
    allowed_from,
    data_fields,
    initial_state,
    route,
    state_fields,
)
from assets.story_builds.offline.plans import CriterionPlan
from assets.story_builds.offline.samples import (
    Ref,
    other_value,
)
from assets.story_builds.offline.specs import ResourceSpec
from assets.story_builds.offline.writer import Writer, entity_field, py


def render_transition(w: Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
    entity, line = spec.entity, w.line
    transition = next(t for t in entity.transitions if t.name == plan.name)
    state = entity_field(entity, transition.field)
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
    if plan.refused_from:
        held = w.record(entity, 3, states={state.name: [plan.refused_from]})
        line(f"# a {entity.name} that is {plan.refused_from!r} cannot {verb}: refused, naming its state")
        line(f"self.refused(409, {call(spec, transition.name, held)}, None, {py(plan.refused_from)})")
        if spec.has("read"):
            line(f'self.assertEqual(self.api("GET", self.path_of({item_path}, {held}["id"])), (200, {held}))')
    method = py(spec.method("transition", transition.name))
    path = py(spec.path("transition", transition.name))
    line(f'self.refused(404, {method}, self.path_of({path}, {ready}["id"] + 1000))')


def render_summary(w: Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
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


def render_limit(w: Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
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
        per = entity_field(entity, limit.per)
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
