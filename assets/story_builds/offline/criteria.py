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
from assets.requirements.language import verb_objects
from assets.requirements.models import AcceptanceCriterion, UserStory
from assets.story_builds.offline.actions import Action, read_action
from assets.story_builds.offline.contract import ContractOperation
from assets.story_builds.offline.names import split_pascal
from assets.story_builds.offline.samples import invalid_value
from assets.story_builds.offline.wording import (
    ERROR_WORDS,
    GROUPING,
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
        self.act = Action("none")  # what its verb does to the data model (`actions.read_action`)
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
    model.act = read_action(criterion.when, criterion.then, model.architecture.data_model)
    text = f"{when} {then}".lower()
    reason = _hard_reason(model, text)
    if reason:
        raise _Cannot(reason)
    context = f"{criterion.given} {when} {then}".lower()
    for rule in (_transition_plan, _summary_plan, _limit_plan, _unique_plan, _referenced_plan, _refusal_plan):
        plan = rule(model, criterion, context, when.lower(), then.lower())
        if plan is not None:
            return plan
    if model.act.kind == "other":  # "the app turns time entries into an invoice", "they print it"
        raise _Cannot(
            f"'{model.act.phrase()}' names no operation on an entity of the data model that the API "
            "contract serves"
        )
    # The values a record is made with are no rules ("a class with a maximum number of places").
    values = VALUES if model.act.kind in ("create", "update") else None
    for index, (pattern, soft) in enumerate(SOFT_RULES):
        # What is hidden is an outcome ("old work does not clutter the board"); in the when-clause
        # such words describe the object acted on ("delete recipes they no longer make").
        read = then.lower() if index == len(SOFT_RULES) - 1 else text
        match = pattern.search(values.sub("", read) if values and index < 2 else read)
        if match:
            raise _Cannot(f"{soft} ('{match.group(0)}')")
    refused = REFUSED_OUTCOME.search(then.lower())
    if refused and stem_word(refused.group(0).split()[-1]) not in model.model_words():  # "error logs"
        raise _Cannot(
            f"expects a refusal ('{refused.group(0)}') by a rule the data model does not hold, "
            "which a test of the operation succeeding would contradict"
        )
    return _crud_plan(model, criterion, when, then)


# "... with a name, a coach and a maximum number of places": the values given, up to the clause's end.
VALUES = re.compile(r"\bwith\b[^.;]*")


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
            if score and (score >= 3 or model.act.kind not in ("create", "delete")):
                # a record made or removed is tested by that operation, not by a state it shows
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
    if not SUMMARY_WORDS.search(context) or model.act.kind in ("create", "update", "delete", "other"):
        return None  # the verb names another operation (or none of the model): a summary is not it
    best: tuple[int, Entity, str] | None = None
    for entity in [*model.candidates(context), *model.architecture.data_model]:
        for summary in entity.summaries:
            if not model.has(entity.name, "summary", summary.name):
                continue
            if not _groups_as_said(model, entity, summary.group_by, context):
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


def _groups_as_said(model: _Model, entity: Entity, group_by: str | None, context: str) -> bool:
    """False when the criterion asks for figures per something ("per client", "for each agent") that
    names a field or an entity of the model other than what the summary groups by."""
    asked = [match.group(1) for match in GROUPING.finditer(context)]
    named = [
        word
        for word in asked
        if any(mentions(word, field.name) for field in data_fields(entity))
        or any(mentions(word, " ".join(split_pascal(other.name))) for other in model.architecture.data_model)
    ]
    if not named:
        return True
    field = entity.field(group_by or "")
    if field is None:
        return False
    target = field.references or ""
    return any(
        mentions(word, field.name) or (target and mentions(word, " ".join(split_pascal(target))))
        for word in named
    )


def _crud_plan(model: _Model, criterion: AcceptanceCriterion, when: str, then: str) -> CriterionPlan:
    """A test of exactly the operation the criterion's verb names on the entity its object names;
    a verb naming no operation, or an object naming no entity, leaves the criterion uncovered."""
    action = model.act
    if action.kind == "none":  # no verb of its own ("a member has two loans"): the story's verb
        wanted = re.sub(r"^(?:to|be able to)\s+", "", model.story.i_want.strip(), flags=re.I)
        action = read_action(wanted, "", model.architecture.data_model)
    if action.kind in ("none", "other"):
        what = f"'{action.phrase()}'" if action.verb else "it"
        raise _Cannot(
            f"{what} names no operation on an entity of the data model that the API contract serves"
        )
    said = f"{action.phrase()} {action.rest}".strip()
    if action.kind == "view":
        shown = f" ('{said}')" if action.verb else ""
        raise _Cannot(f"shows something{shown} that is no entity of the data model and no summary it defines")
    entity_name = action.entity or _implied_entity(model, action, criterion.given)
    if entity_name is None:
        named = f"'{action.noun}' names no entity" if action.noun else "it names no record"
        raise _Cannot(
            f"'{action.phrase()}': {named} of the data model, so no {action.kind} operation of the API "
            "contract is it"
        )
    kind = action.kind
    entity = model.entities[entity_name]
    _refuse_action_as_crud(model, entity, kind)
    keys = [*model.setup(entity.name), model.require(entity.name, kind)]
    chosen = model.by_key[(entity.name, kind, "")]
    context = f"{when} {action.rest}"
    if kind == "update":
        if not input_fields(entity):
            raise _Cannot(f"{entity.name} has no field an update could change")
        field = _update_field(model, entity, action, context)
        keys += model.readback(entity.name)
        target = entity.field(field)
        if target is not None and target.type == "reference" and target.references in model.entities:
            keys = [*model.setup(target.references or ""), *keys]
        return _plan_for(model, criterion, "update", entity.name, keys, field=field)
    if kind == "list":
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
        asked = [word for word in GROUPING.findall(lowered) if any(mentions(word, name) for name in fields)]
        if not parameters and (action.search or asked):
            raise _Cannot(
                f"looks {entity.name} records up ('{said}') by a search or "
                "filter the API contract's list does not offer"
            )
        if state_fields(entity) & set(parameters):
            keys += model.moves(entity.name)
        return _plan_for(model, criterion, "list", entity.name, keys, list_parameters=tuple(parameters))
    if kind != "create":
        keys += model.readback(entity.name)
    return _plan_for(model, criterion, kind, entity.name, keys)


def _implied_entity(model: _Model, action: Action, given: str) -> str | None:
    """The entity of an object that is no entity: left unsaid ("they delete it") or one of its values
    ("they edit its title"): among those the story's own operations of that kind act on (then those the
    Given names), the one whose fields hold the value, if exactly one."""
    own = [
        model.entities[op.entity]
        for op in model.own
        if op.kind == action.kind and op.entity in model.entities
    ]
    named = [entity for entity in model.mentioned_entities(given) if model.has(entity.name, action.kind)]
    for pool in (own, named):
        found = {
            entity.name
            for entity in pool
            if not action.noun or any(mentions(action.noun, field.name) for field in data_fields(entity))
        }
        if len(found) == 1:
            return found.pop()
    return None


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


def _update_field(model: _Model, entity: Entity, action: Action, context: str) -> str:
    """The field an update sets: the one its words name ("to an agent" names agent_id, "rename" the
    name), else the first optional field."""
    fields = input_fields(entity)
    names = [field.name for field in fields]
    for hint in VERB_FIELDS.get(action.verb, ()):
        if hint in names:
            return hint
    for field in fields:  # "assign a ticket to an agent": the field referring to an Agent
        target = field.references or ""
        if field.type == "reference" and target in model.entities and target != entity.name:
            if mentions(action.rest, " ".join(split_pascal(target))) and model.has(target, "create"):
                return field.name
    for field in fields:  # "give each outing a cox": the field its words name
        usable = field.type != "reference" or model.has(field.references or "", "create")
        if usable and mentions(action.rest, field.name):
            return field.name
    plain = [field for field in fields if field.type != "reference"] or fields
    for candidate in plain:
        if mentions(context, candidate.name):
            return candidate.name
    optional = [field.name for field in plain if not field.required]
    return (optional or [field.name for field in plain])[0]
