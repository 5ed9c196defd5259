"""What a story enables and how each of its acceptance criteria is tested, or why it cannot be.

The rules read the grammar of a criterion against the data model, never particular nouns: the
verb names an operation ("when they delete a task"), a transition of the model ("ship" -> the
`ship` transition), "by X" names a filter, "search"/"sort" the list's `q`/`sort`, count/total/per
a summary; "without a X", "invalid X", "cannot" name a refusal (a missing required field, a value
outside a field's rules, a state change from the wrong state, a count limit, a unique value, a
record others refer to). Criteria that need something the templates do not build (sign-in,
e-mail, files, time limits, a browser) stay uncovered with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from assets.architecture.models import Architecture, Entity, EntityField, Transition
from assets.requirements.language import VerbObject, verb_objects
from assets.requirements.models import AcceptanceCriterion, UserStory
from assets.story_builds.offline.contract import ContractOperation
from assets.story_builds.offline.names import split_pascal
from assets.story_builds.offline.samples import invalid_value
from assets.story_builds.offline.wording import (
    ERROR_WORDS,
    INVALID,
    LIMIT_WORDS,
    MISSING,
    REFERENCED_WORDS,
    REFUSE_WORDS,
    REFUSED_OUTCOME,
    SEARCH_WORDS,
    SOFT_RULES,
    SORT_WORDS,
    SUMMARY_WORDS,
    UNIQUE_WORDS,
    UNSUPPORTED_RULES,
    VERB_FIELDS,
    action_clause,
    clause,
    mentions,
    normalise_verbs,
    stem_word,
    stems,
    verb_entity,
)

PlanKind = Literal[
    "create",
    "validate",
    "invalid",
    "read",
    "update",
    "delete",
    "list",
    "sort",
    "transition",
    "limit",
    "unique",
    "delete_referenced",
    "summary",
]
Key = tuple[str, str, str]  # (entity, kind, name) of a contract operation


@dataclass(frozen=True)
class CriterionPlan:
    criterion: AcceptanceCriterion
    kind: PlanKind
    entity: str
    field: str | None = None  # the field updated, missing, invalid, unique, sorted by, or referring
    list_parameters: tuple[str, ...] = ()
    name: str = ""  # transition or summary
    child: str | None = None  # delete_referenced: the entity whose records refer
    needs: tuple[Key, ...] = ()  # every operation the test calls

    def describe(self, label: str) -> str:
        text = f"{self.kind} {self.entity} ({label})"
        if self.kind == "validate":
            text += f" refusing a missing {self.field}"
        elif self.kind == "invalid":
            text += f" refusing an invalid {self.field}"
        elif self.kind == "update":
            text += f" setting {self.field}"
        elif self.kind == "sort":
            text += f" sorted by {self.field}"
        elif self.kind in ("transition", "summary"):
            text += f" {self.name}"
        elif self.kind == "unique":
            text += f" refusing a second {self.field}"
        elif self.kind == "delete_referenced":
            text += f" refused while a {self.child} refers to it"
        if self.list_parameters:
            text += f" by {', '.join(self.list_parameters)}"
        return text


class _Cannot(Exception):
    """The criterion cannot be tested; the message says why."""


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


def story_operations(
    architecture: Architecture, story: UserStory, operations: Sequence[ContractOperation]
) -> list[ContractOperation]:
    """The contract operations a story is built for: those listing it in `x-story-ids`, else those
    its want-clause names (verb -> operation, object -> entity of the data model)."""
    tagged = [operation for operation in operations if story.id in operation.story_ids]
    if tagged:
        return tagged
    by_key = {(op.entity, op.kind): op for op in operations if op.kind not in ("transition", "summary")}
    out: list[ContractOperation] = []
    for found in verb_objects(story.i_want):
        entity = verb_entity(found, architecture.data_model)
        operation = by_key.get((entity.name, found.operation)) if entity else None
        if operation and operation not in out:
            out.append(operation)
    # A want-clause naming a transition of the model ("to ship an order") enables it.
    for operation in operations:
        if operation.kind == "transition" and mentions(story.i_want, operation.name) and operation not in out:
            out.append(operation)
    return out


@dataclass
class _Model:
    architecture: Architecture
    story: UserStory
    own: Sequence[ContractOperation]
    operations: Sequence[ContractOperation]

    def __post_init__(self) -> None:
        self.when = ""  # the criterion's when-clause, set while it is planned
        self.action = ""  # the same from its action verb on, the verb as written ("book a desk")
        self.entities = {entity.name: entity for entity in self.architecture.data_model}
        self.by_key = {operation.key: operation for operation in self.operations}

    def has(self, entity: str, kind: str, name: str = "") -> bool:
        return (entity, kind, name) in self.by_key

    def require(self, entity: str, kind: str, name: str = "") -> Key:
        if not self.has(entity, kind, name):
            what = f"{kind} operation" if not name else f"{kind} operation {name!r}"
            raise _Cannot(f"the API contract has no {what} for {entity}, so a test cannot exercise it")
        return (entity, kind, name)

    def setup(self, entity: str, seen: frozenset[str] = frozenset()) -> list[Key]:
        """The operations creating one record of `entity` takes (its references' records first)."""
        keys = [self.require(entity, "create")]
        for field in data_fields(self.entities[entity]):
            if field.type != "reference":
                continue
            target = field.references or ""
            usable = target in self.entities and target not in seen | {entity} and self.has(target, "create")
            if usable:
                keys = [*self.setup(target, seen | {entity}), *keys]
            elif field.required:
                raise _Cannot(f"{entity} needs a {target or field.name} that a test cannot create first")
        return list(dict.fromkeys(keys))

    def moves(self, entity: str) -> list[Key]:
        """The transitions a test may use to bring records of `entity` into a state."""
        return [op.key for op in self.operations if op.entity == entity and op.kind == "transition"]

    def readback(self, entity: str) -> list[Key]:
        return [key for key in ((entity, "list", ""), (entity, "read", "")) if key in self.by_key][:1]

    def mentioned_entities(self, text: str) -> list[Entity]:
        return [
            entity
            for entity in self.architecture.data_model
            if mentions(text, " ".join(split_pascal(entity.name)))
        ]

    def candidates(self, text: str) -> list[Entity]:
        """Entities the criterion is about: the object of its verb, those it names, then those of the
        story's operations."""
        objects = [
            entity
            for found in verb_objects("to " + self.when)
            if (entity := verb_entity(found, self.architecture.data_model)) is not None
        ]
        named = objects + self.mentioned_entities(text)
        named += self.mentioned_entities(f"{self.story.i_want} {self.story.title}")
        own = [self.entities[op.entity] for op in self.own if op.entity in self.entities]
        return list({entity.name: entity for entity in [*named, *own]}.values())

    def model_words(self) -> set[str]:
        found: set[str] = set()
        for entity in self.architecture.data_model:
            found.update(stem_word(part) for part in split_pascal(entity.name))
            for field in entity.fields:
                found.update(stems(field.name.replace("_", " ")))
                for value in field.values:
                    found.update(stems(value))
            for transition in entity.transitions:
                found.update(stems(transition.name.replace("_", " ")))
        return found - {"id"}


def plan_criterion(
    architecture: Architecture,
    story: UserStory,
    criterion: AcceptanceCriterion,
    own: Sequence[ContractOperation],
    operations: Sequence[ContractOperation],
) -> CriterionPlan | str:
    """How the templates test `criterion`, or the reason they cannot."""
    model = _Model(architecture, story, own, operations)
    try:
        return _plan(model, criterion)
    except _Cannot as reason:
        return str(reason)


def _hard_reason(model: _Model, text: str) -> str | None:
    known = model.model_words()
    for pattern, reason in UNSUPPORTED_RULES:
        for match in pattern.finditer(text):
            if not set(stems(match.group(0))) <= known:
                return f"{reason} ('{match.group(0)}')"
    return None


def _plan(model: _Model, criterion: AcceptanceCriterion) -> CriterionPlan:
    when, then = normalise_verbs(clause(criterion.when)), clause(criterion.then)
    model.when = when.lower()
    model.action = action_clause(clause(criterion.when)).lower()
    text = f"{when} {then}".lower()
    reason = _hard_reason(model, text)
    if reason:
        raise _Cannot(reason)
    context = f"{criterion.given} {when} {then}".lower()
    for rule in (_transition_plan, _summary_plan, _limit_plan, _unique_plan, _referenced_plan, _refusal_plan):
        plan = rule(model, criterion, context, when.lower(), then.lower())
        if plan is not None:
            return plan
    for index, (pattern, soft) in enumerate(SOFT_RULES):
        # What is hidden is an outcome ("old work does not clutter the board"); in the when-clause
        # such words describe the object acted on ("delete recipes they no longer make").
        match = pattern.search(then.lower() if index == len(SOFT_RULES) - 1 else text)
        if match:
            raise _Cannot(f"{soft} ('{match.group(0)}')")
    refused = REFUSED_OUTCOME.search(then.lower())
    if refused and stem_word(refused.group(0).split()[-1]) not in model.model_words():  # "error logs"
        raise _Cannot(
            f"expects a refusal ('{refused.group(0)}') by a rule the data model does not hold, "
            "which a test of the operation succeeding would contradict"
        )
    return _crud_plan(model, criterion, when, then)


def _plan_for(
    model: _Model, criterion: AcceptanceCriterion, kind: PlanKind, entity: str, keys: list[Key], **extra
) -> CriterionPlan:  # type: ignore[no-untyped-def]
    return CriterionPlan(criterion, kind, entity, needs=tuple(dict.fromkeys(keys)), **extra)


def _transition_plan(
    model: _Model, criterion: AcceptanceCriterion, context: str, when: str, then: str
) -> CriterionPlan | None:
    scored = []
    entities = list(
        {e.name: e for e in [*model.candidates(context), *model.architecture.data_model]}.values()
    )
    for rank, entity in enumerate(entities):
        for transition in entity.transitions:
            verb = stems(transition.name.replace("_", " "))
            score = 0
            if verb and verb in (stems(when)[: len(verb)], stems(model.action)[: len(verb)]):
                score = 4  # "deliver a shipped order", "book a desk": the verb
            elif mentions(when, transition.name) or mentions(model.action, transition.name):
                score = 3
            elif mentions(then, transition.name):
                score = 2
            elif model.story.id in transition.story_ids and mentions(context, transition.to_state):
                score = 1
            if score:
                scored.append((-score, rank, entity, transition))
    for _, _, entity, transition in sorted(scored, key=lambda item: item[:2]):
        if not model.has(entity.name, "transition", transition.name):
            continue
        state = entity.field(transition.field)
        allowed = transition.from_states or [
            v for v in (state.values if state else []) if v != transition.to_state
        ]
        usable = {op.name for op in model.operations if op.entity == entity.name and op.kind == "transition"}
        if state is not None and allowed and route(entity, state.name, allowed, usable) is None:
            raise _Cannot(
                f"no run of transitions brings a new {entity.name} into a state it can {transition.name} from"
            )
        if state is None or not allowed:
            raise _Cannot(
                f"the {transition.name} transition of {entity.name} names no state field with values to "
                "start from"
            )
        keys = [*model.setup(entity.name), model.require(entity.name, "transition", transition.name)]
        keys += model.moves(entity.name) + model.readback(entity.name)
        return _plan_for(
            model,
            criterion,
            "transition",
            entity.name,
            keys,
            name=transition.name,
            field=transition.field,
        )
    return None


def _summary_plan(
    model: _Model, criterion: AcceptanceCriterion, context: str, when: str, then: str
) -> CriterionPlan | None:
    if not SUMMARY_WORDS.search(context):
        return None
    best: tuple[int, Entity, str] | None = None
    for entity in [*model.candidates(context), *model.architecture.data_model]:
        for summary in entity.summaries:
            if not model.has(entity.name, "summary", summary.name):
                continue
            score = sum(mentions(context, word) for word in summary.name.split("_") if len(word) > 2)
            score += 3 * (model.story.id in summary.story_ids)
            if best is None or score > best[0]:
                best = (score, entity, summary.name)
    if best is None or best[0] == 0:
        return None
    _, entity, name = best
    keys = [*model.setup(entity.name), model.require(entity.name, "summary", name), *model.moves(entity.name)]
    return _plan_for(model, criterion, "summary", entity.name, keys, name=name)


def _limit_plan(
    model: _Model, criterion: AcceptanceCriterion, context: str, when: str, then: str
) -> CriterionPlan | None:
    if not LIMIT_WORDS.search(context):
        return None
    for entity in [*model.candidates(context), *model.architecture.data_model]:
        if entity.limits:
            limit = entity.limits[0]
            if any(name and entity.field(name) is None for name in (limit.per, limit.field)):
                raise _Cannot(f"the count limit of {entity.name} names a field the entity does not have")
            keys = [*model.setup(entity.name), *model.moves(entity.name), *model.readback(entity.name)]
            return _plan_for(model, criterion, "limit", entity.name, keys)
    return None


def _unique_plan(
    model: _Model, criterion: AcceptanceCriterion, context: str, when: str, then: str
) -> CriterionPlan | None:
    if not (UNIQUE_WORDS.search(context) and ERROR_WORDS.search(f"{when} {then}")):
        return None
    for entity in model.candidates(context) or model.architecture.data_model:
        unique = [field for field in data_fields(entity) if field.unique]
        chosen = next(
            (field for field in unique if mentions(context, field.name)), unique[0] if unique else None
        )
        if chosen is not None:
            keys = [*model.setup(entity.name), *model.readback(entity.name)]
            return _plan_for(model, criterion, "unique", entity.name, keys, field=chosen.name)
    return None


def _referenced_plan(
    model: _Model, criterion: AcceptanceCriterion, context: str, when: str, then: str
) -> CriterionPlan | None:
    deletes = any(found.operation == "delete" for found in verb_objects("to " + when)) or re.search(
        r"\b(?:delet\w*|remov\w*)\b", when
    )
    if not (deletes and REFUSE_WORDS.search(f"{when} {then}") and REFERENCED_WORDS.search(context)):
        return None
    for entity in model.candidates(when) or model.candidates(context):
        for child in model.architecture.data_model:
            for field in data_fields(child):
                if (
                    field.type == "reference"
                    and field.references == entity.name
                    and model.has(entity.name, "delete")
                ):
                    keys = [
                        *model.setup(child.name),
                        model.require(entity.name, "delete"),
                        *model.readback(entity.name),
                    ]
                    return _plan_for(
                        model,
                        criterion,
                        "delete_referenced",
                        entity.name,
                        keys,
                        child=child.name,
                        field=field.name,
                    )
    return None


def _refusal_plan(
    model: _Model, criterion: AcceptanceCriterion, context: str, when: str, then: str
) -> CriterionPlan | None:
    if not ERROR_WORDS.search(then) and not ERROR_WORDS.search(when):
        return None
    creatable = list(
        {
            entity.name: entity
            for entity in [*model.candidates(context), *model.architecture.data_model]
            if model.has(entity.name, "create")
        }.values()
    )
    for entity in creatable:
        for match in MISSING.finditer(when):
            for field in input_fields(entity):
                if field.required and mentions(match.group(1), field.name):
                    keys = [*model.setup(entity.name), *model.readback(entity.name)]
                    return _plan_for(model, criterion, "validate", entity.name, keys, field=field.name)
    for entity in creatable:
        if not INVALID.search(context):
            break
        for field in input_fields(entity):
            if mentions(context, field.name) and invalid_value(field) is not None:
                keys = [*model.setup(entity.name), *model.readback(entity.name)]
                return _plan_for(model, criterion, "invalid", entity.name, keys, field=field.name)
    if MISSING.search(when) or INVALID.search(context):
        raise _Cannot(
            "rejects input by a rule that names no field of the data model, which the templates lack"
        )
    return None


def _crud_plan(model: _Model, criterion: AcceptanceCriterion, when: str, then: str) -> CriterionPlan:
    chosen: ContractOperation | None = None
    verb: VerbObject | None = None
    crud = [op for op in model.own if op.kind in ("list", "create", "read", "update", "delete")]
    # The criterion's own verb first ("when they assign a task"), else the story's ("I want to ...").
    wanted = action_clause(re.sub(r"^(?:to|be able to)\s+", "", model.story.i_want.strip(), flags=re.I))
    want = normalise_verbs(wanted)
    # The verbs as written first ("book a desk" may make a Booking), then as read ("create a desk").
    found_verbs = [model.action, when, wanted, want]
    for found in [item for text in found_verbs for item in verb_objects("to " + text)]:
        entity = verb_entity(found, model.architecture.data_model)
        candidates = [op for op in crud if op.kind == found.operation and entity and op.entity == entity.name]
        candidates += [op for op in crud if op.kind == found.operation]
        if entity and model.has(entity.name, found.operation):
            candidates.append(model.by_key[(entity.name, found.operation, "")])
        if candidates:
            chosen, verb = candidates[0], found
            break
    if chosen is None and crud:
        chosen = crud[0]
    if chosen is None:
        raise _Cannot("names no operation on an entity of the data model that the API contract serves")
    entity = model.entities[chosen.entity]
    _refuse_action_as_crud(model, entity, chosen.kind)
    keys = [*model.setup(entity.name), (entity.name, chosen.kind, "")]
    context = f"{when} {model.story.i_want}"
    if chosen.kind == "update":
        if not input_fields(entity):
            raise _Cannot(f"{entity.name} has no field an update could change")
        keys += model.readback(entity.name)
        return _plan_for(
            model, criterion, "update", entity.name, keys, field=_update_field(entity, verb, context)
        )
    if chosen.kind == "list":
        lowered = context.lower()
        fields = {field.name for field in data_fields(entity)}
        if "sort" in chosen.parameters and SORT_WORDS.search(lowered):
            sortable = [f for f in data_fields(entity) if f.type not in ("boolean", "reference")]
            field = next(
                (f for f in sortable if mentions(lowered, f.name)), sortable[0] if sortable else None
            )
            if field is not None:
                return _plan_for(model, criterion, "sort", entity.name, keys, field=field.name)
        parameters = [
            name
            for name in chosen.parameters
            if (name == "q" and SEARCH_WORDS.search(lowered)) or (name in fields and mentions(lowered, name))
        ]
        usable = {op.name for op in model.operations if op.entity == entity.name and op.kind == "transition"}
        for name in state_fields(entity) & set(parameters):
            state = entity.field(name)
            others = (
                [v for v in (state.values if state else []) if v != initial_state(entity, state)]
                if state
                else []
            )
            if not others or route(entity, name, others, usable) is None:
                parameters.remove(name)  # every new record is in the same state: nothing to filter apart
        if state_fields(entity) & set(parameters):
            keys += model.moves(entity.name)
        return _plan_for(model, criterion, "list", entity.name, keys, list_parameters=tuple(parameters))
    if chosen.kind != "create":
        keys += model.readback(entity.name)
    return _plan_for(model, criterion, chosen.kind, entity.name, keys)


def _refuse_action_as_crud(model: _Model, entity: Entity, kind: str) -> None:
    """Raise when the criterion's verb is a state change, which only its own operation shows: a
    transition of the model the contract does not serve here ("close a ticket" is no edit), or, for a
    create, a state the verb names that a new record does not start in ("book a desk" makes no desk)."""
    verb = stems(model.action)[:1]
    if not verb:
        return
    for other in {e.name: e for e in [entity, *model.candidates(model.action)]}.values():
        for transition in other.transitions:
            if stems(transition.name.replace("_", " "))[:1] == verb:
                raise _Cannot(
                    f"'{model.action.split()[0]}' is the {transition.name} transition of {other.name}, "
                    "which the API contract does not serve for this story, so a test cannot exercise it"
                )
    if kind != "create" or verb == stems("create"):
        return
    for field in data_fields(entity):
        if field.type != "enum" or not field.values:
            continue
        start = initial_state(entity, field) or field.values[0]  # where a new record's state starts
        for value in field.values:
            if stems(value) == verb and value != start:
                raise _Cannot(
                    f"'{model.action.split()[0]}' puts a {entity.name}'s {field.name} to {value!r}, "
                    "which creating one does not show, and the API contract has no operation for it"
                )


def _update_field(entity: Entity, verb: VerbObject | None, context: str) -> str:
    fields = [field for field in input_fields(entity) if field.type != "reference"] or input_fields(entity)
    names = [field.name for field in fields]
    if verb is not None:
        for hint in VERB_FIELDS.get(verb.verb, ()):
            if hint in names:
                return hint
    for candidate in fields:
        if mentions(context, candidate.name):
            return candidate.name
    optional = [field.name for field in fields if not field.required]
    return (optional or names)[0]
