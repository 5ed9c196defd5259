"""What the contract driver reads from the OpenAPI document beyond single operations: which create
operation makes a record of an entity, which body fields refer to another entity (`x-references`),
and each entity's state machine (`x-transition`, `x-state-field`, `x-from-states`, `x-to-state`),
with the deterministic walk that calls every transition from a state that allows it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assets.validations.openapi_schemas import Operation, resolve


def response_entity(op: Operation) -> str | None:
    """The component schema a 2xx JSON response of `op` names (`#/components/schemas/<name>`)."""
    for key in op.statuses(2):
        media = ((op.responses.get(key) or {}).get("content") or {}).get("application/json") or {}
        ref = (media.get("schema") or {}).get("$ref") if isinstance(media, Mapping) else None
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return ref.rsplit("/", 1)[1]
    return None


def creators(ops: Sequence[Operation]) -> dict[str, Operation]:
    """Entity name -> the operation that creates one (a POST on a collection answering the entity)."""
    out: dict[str, Operation] = {}
    for op in ops:
        if op.method != "POST" or op.path_parameters or op.spec.get("x-transition"):
            continue
        entity = response_entity(op)
        if entity is not None and op.request_schema is not None:
            out.setdefault(entity, op)
    return out


@dataclass(frozen=True)
class Reference:
    field: str
    entity: str
    required: bool
    integer: bool = False  # the field holds an integer id

    def value(self, record_id: Any) -> Any:
        """The record's id as the field's type wants it (a numeric string as an integer)."""
        if self.integer and isinstance(record_id, str) and record_id.isdigit():
            return int(record_id)
        return record_id


def references(document: Mapping[str, Any], schema: Any) -> list[Reference]:
    """The fields of an object schema that hold the id of another entity's record, by name."""
    resolved = resolve(document, schema)
    if not isinstance(resolved, Mapping):
        return []
    required = set(resolved.get("required") or [])
    found = []
    for name, child in sorted((resolved.get("properties") or {}).items()):
        child = resolve(document, child)
        target = child.get("x-references") if isinstance(child, Mapping) else None
        if isinstance(target, str) and target:
            kinds = child.get("type")
            integer = "integer" in (kinds if isinstance(kinds, list) else [kinds])
            found.append(Reference(str(name), target, name in required, integer))
    return found


def state_values(document: Mapping[str, Any], entity: str | None, field: str) -> list[str]:
    """The enum of the entity's state field, as its response schema documents it."""
    if entity is None:
        return []
    schema = resolve(document, {"$ref": f"#/components/schemas/{entity}"})
    prop = resolve(document, (schema.get("properties") or {}).get(field) or {})
    return [str(value) for value in prop.get("enum") or [] if value is not None]


@dataclass(frozen=True)
class Rule:
    """One transition operation: moves `field` to `to_state` from `from_states` (empty: any other)."""

    op: Operation
    name: str
    field: str
    from_states: tuple[str, ...]
    to_state: str

    def allows(self, state: Any) -> bool:
        if self.from_states:
            return state in self.from_states
        return state is not None and state != self.to_state


def transition_rules(ops: Sequence[Operation]) -> list[Rule] | None:
    """The rules of transition operations, sorted by name; None if one lacks its state extensions."""
    rules = []
    for op in ops:
        spec = op.spec
        field, target = spec.get("x-state-field"), spec.get("x-to-state")
        if not isinstance(field, str) or not isinstance(target, str) or "x-from-states" not in spec:
            return None
        starts = tuple(str(state) for state in spec.get("x-from-states") or [])
        rules.append(Rule(op, str(spec.get("x-transition") or op.path), field, starts, target))
    return sorted(rules, key=lambda rule: (rule.name, rule.op.path))


def refusal(rules: Sequence[Rule], state: Any) -> Rule | None:
    """The first transition the state does not allow (its documented 409 is then expected)."""
    return next((rule for rule in rules if not rule.allows(state)), None)


def _reachable(rules: Sequence[Rule], start: Any) -> set[Any]:
    """The states a walk from `start` can reach (`start` included)."""
    seen, queue = {start}, deque([start])
    while queue:
        current = queue.popleft()
        for rule in rules:
            if rule.allows(current) and rule.to_state not in seen:
                seen.add(rule.to_state)
                queue.append(rule.to_state)
    return seen


def next_step(rules: Sequence[Rule], state: Any, untested: Sequence[Rule]) -> Rule | None:
    """The transition to call next: an untested one the state allows (one after which the other
    untested ones stay reachable first), else the first step of the shortest walk (breadth first,
    rules in order) to a state that allows an untested one."""
    ready = [rule for rule in untested if rule.allows(state)]
    if ready:

        def strands(rule: Rule) -> int:
            others = [other for other in untested if other is not rule]
            after = _reachable(rules, rule.to_state)
            return sum(1 for other in others if not any(other.allows(s) for s in after))

        return min(ready, key=strands)
    first: dict[Any, Rule] = {}
    queue: deque[Any] = deque([state])
    seen = {state}
    while queue:
        current = queue.popleft()
        for rule in rules:
            if not rule.allows(current) or rule.to_state in seen:
                continue
            seen.add(rule.to_state)
            first[rule.to_state] = first.get(current, rule)
            if any(other.allows(rule.to_state) for other in untested):
                return first[rule.to_state]
            queue.append(rule.to_state)
    return None
