"""A story's test module: one unittest method per covered acceptance criterion, each exercising the
behaviour through HTTP against the started backend, refusals included, and asserting at every step."""

from __future__ import annotations

import json
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from assets.requirements.models import UserStory
from assets.story_builds.models import UncoveredCriterion
from assets.story_builds.offline.entity_fields import initial_state, input_fields, state_fields
from assets.story_builds.offline.names import story_class, test_name
from assets.story_builds.offline.plans import CriterionPlan
from assets.story_builds.offline.render_rule_tests import render_limit, render_summary, render_transition
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
from assets.story_builds.offline.writer import Writer, distinct, doc, entity_field, py


def render_test_method(story: UserStory, plan: CriterionPlan, specs: Mapping[str, ResourceSpec]) -> str:
    spec = specs[plan.entity]
    entity = spec.entity
    w = Writer(specs)
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
        field = entity_field(entity, plan.field)
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
        target = entity_field(entity, plan.field)
        method = py(spec.method("update"))
        line(f"sent = {py(w.body(entity, 1))}")
        line(f"status, created = {w.create_call(spec, 'sent')}")
        line("self.assertEqual(status, 201, created)")
        line(f'item = self.path_of({item_path}, created["id"])')
        referred = specs.get(target.references or "") if target.type == "reference" else None
        if referred is not None:  # "assign a ticket to an agent": another existing record
            new_value: Any = Ref(w.record(referred.entity, 2))
        else:
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
        if referred is not None:
            line(f"# a {target.name} naming no existing {referred.entity.name} is refused")
            line(
                f"self.refused(422, {method}, item, {{**change, {py(target.name)}: "
                f"{py(new_value)} + 1000}}, {py(target.name)})"
            )
            w.stored(spec, "updated", "updated")
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
        render_transition(w, spec, plan)
    elif plan.kind == "summary":
        render_summary(w, spec, plan)
    elif plan.kind == "limit":
        render_limit(w, spec, plan)
    elif plan.kind == "unique":
        field = entity_field(entity, plan.field)
        first = w.record(entity, 1)
        second = distinct(entity, w.body(entity, 2), field.name, 2)
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


def _render_list(w: Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
    entity, line = spec.entity, w.line
    collection = py(spec.collection_path)
    states = state_fields(entity)
    params = plan.list_parameters
    # The second record differs from the first in every parameter (a state by a transition).
    moved: dict[str, Sequence[str]] = {}
    for name in params:
        if name in states:
            field = entity_field(entity, name)
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
                    body = distinct(entity, dict(first_body), "", 4 + index)
                    decoys.append((parameter, body, {parameter: moved[parameter]}))
                    continue
                field = entity_field(entity, parameter)
                if field.type == "reference":
                    changed: Any = second_body[parameter]
                else:
                    changed = other_value(entity.name, field, first_body[parameter])
                body = distinct(entity, {**first_body, parameter: changed}, "", 4 + index)
                decoys.append((parameter, body, {}))
            if "q" in params:
                inputs = [p for p in filters if p not in states]
                decoy = distinct(entity, {**second_body, **{p: first_body[p] for p in inputs}}, "", 8)
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


def _render_sort(w: Writer, spec: ResourceSpec, plan: CriterionPlan) -> None:
    entity, line = spec.entity, w.line
    field = entity_field(entity, plan.field)
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


def render_test_module(
    story: UserStory,
    methods: Sequence[str],
    uncovered: Sequence[UncoveredCriterion],
    root: Path = TEMPLATES,
) -> str:
    not_covered = "".join(
        f"- {item.criterion_id}: {doc(item.reason)}" + (f" ({doc(item.text)})" if item.text else "") + "\n"
        for item in uncovered
    )
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
