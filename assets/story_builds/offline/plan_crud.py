"""The planning rule for criteria whose verb names an operation of the API contract (create, read,
update, delete, list with its search, filters and sort) on the entity its object names."""

from __future__ import annotations

import re
from dataclasses import replace

from assets.architecture.models import Entity
from assets.requirements.models import AcceptanceCriterion
from assets.story_builds.offline.actions import Action, read_action
from assets.story_builds.offline.entity_fields import (
    data_fields,
    initial_state,
    input_fields,
    route,
    state_fields,
)
from assets.story_builds.offline.names import split_pascal
from assets.story_builds.offline.plans import Cannot, CriterionPlan, PlanModel, plan_for
from assets.story_builds.offline.wording import (
    GROUPING,
    SEARCH_WORDS,
    SORT_WORDS,
    SUMMARY_WORDS,
    VERB_FIELDS,
    mentions,
    stems,
)


def crud_plan(model: PlanModel, criterion: AcceptanceCriterion, when: str, then: str) -> CriterionPlan:
    """A test of exactly the operation the criterion's verb names on the entity its object names;
    a verb naming no operation, or an object naming no entity, leaves the criterion uncovered."""
    action = model.act
    if action.kind == "none":  # no verb of its own ("a member has two loans"): the story's verb
        wanted = re.sub(r"^(?:to|be able to)\s+", "", model.story.i_want.strip(), flags=re.I)
        action = read_action(wanted, "", model.architecture.data_model)
    if action.kind in ("none", "other"):
        what = f"'{action.phrase()}'" if action.verb else "it"
        raise Cannot(f"{what} names no operation on an entity of the data model that the API contract serves")
    said = f"{action.phrase()} {action.rest}".strip()
    action = _owned_object(model, action)
    if action.kind == "view":
        shown = f" ('{said}')" if action.verb else ""
        raise Cannot(f"shows something{shown} that is no entity of the data model and no summary it defines")
    entity_name = action.entity or _implied_entity(model, action, criterion.given)
    if entity_name is None:
        named = f"'{action.noun}' names no entity" if action.noun else "it names no record"
        raise Cannot(
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
            raise Cannot(f"{entity.name} has no field an update could change")
        field = _update_field(model, entity, action, context)
        keys += model.readback(entity.name)
        target = entity.field(field)
        if target is not None and target.type == "reference" and target.references in model.entities:
            keys = [*model.setup(target.references or ""), *keys]
        return plan_for(model, criterion, "update", entity.name, keys, field=field)
    if kind == "list":
        lowered = context.lower()
        fields = {field.name for field in data_fields(entity)}
        if "sort" in chosen.parameters and SORT_WORDS.search(lowered):
            sortable = [f for f in data_fields(entity) if f.type not in ("boolean", "reference")]
            field = next(
                (f for f in sortable if mentions(lowered, f.name)), sortable[0] if sortable else None
            )
            if field is not None:
                return plan_for(model, criterion, "sort", entity.name, keys, field=field.name)
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
        # a look-up naming nothing to look by ("browse the catalogue") is the list itself
        searched = action.search and bool(LOOKUP_TERM.search(f"{action.noun} {action.rest}"))
        if not parameters and (searched or asked):
            raise Cannot(
                f"looks {entity.name} records up ('{said}') by a search or "
                "filter the API contract's list does not offer"
            )
        if state_fields(entity) & set(parameters):
            keys += model.moves(entity.name)
        return plan_for(model, criterion, "list", entity.name, keys, list_parameters=tuple(parameters))
    if kind != "create":
        keys += model.readback(entity.name)
    return plan_for(model, criterion, kind, entity.name, keys)


def _implied_entity(model: PlanModel, action: Action, given: str) -> str | None:
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


def _refuse_action_as_crud(model: PlanModel, entity: Entity, kind: str) -> None:
    """Raise when the criterion's verb is a state change, which only its own operation shows: a
    transition of the model the contract does not serve here ("close a ticket" is no edit), or, for a
    create, a state the verb names that a new record does not start in ("book a desk" makes no desk)."""
    verb = stems(model.action)[:1]
    if not verb:
        return
    for other in {e.name: e for e in [entity, *model.candidates(model.action)]}.values():
        for transition in other.transitions:
            if stems(transition.name.replace("_", " "))[:1] == verb:
                raise Cannot(
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
                raise Cannot(
                    f"'{model.action.split()[0]}' puts a {entity.name}'s {field.name} to {value!r}, "
                    "which creating one does not show, and the API contract has no operation for it"
                )


def _update_field(model: PlanModel, entity: Entity, action: Action, context: str) -> str:
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


# The term a look-up looks by: "by title", "for a name", "named Ada", "whose author is ...".
LOOKUP_TERM = re.compile(r"\b(?:by|for|with|named|called|whose|containing|matching|where)\b")
# "the hours of each facility", "the catalogue of varieties": what the object belongs to.
OF_OWNER = re.compile(
    r"^of\s+(?:(?:the|each|every|all|their|its|a|an|our|my|your)\s+)*(?P<owner>[a-z][a-z ]*)"
)
# A preposition or relative word ends a compound noun ("user error logs from today").
OBJECT_END = re.compile(
    r"\s(?:of|for|from|by|with|in|on|at|to|after|before|about|into|through|over|under|up|out|around|like|"
    r"that|which|who|whose|when|where|we|they|and|or)\s.*$"
)


def _owned_object(model: PlanModel, action: Action) -> Action:
    """The entity an object that names none belongs to: "see the hours of each facility" lists
    facilities (hours is one of their fields), "browse the catalogue of varieties" lists varieties,
    "view user error logs" lists error logs (the head of a compound noun names the entity)."""
    if action.entity is not None or action.kind not in ("view", "list", "read"):
        return action
    if SUMMARY_WORDS.search(f"{action.noun} {action.rest}"):
        return action  # figures about the records ("how many tickets"), not the records
    kind = "list" if action.kind == "view" else action.kind
    owner = OF_OWNER.match(action.rest)
    if owner:
        said = stems(owner.group("owner"))
        for entity in model.architecture.data_model:
            label = stems(" ".join(split_pascal(entity.name)))
            if said[: len(label)] != label or not model.has(entity.name, kind):
                continue
            owned = any(mentions(action.noun, field.name) for field in data_fields(entity))
            if action.kind == "list" or owned:
                rest = " ".join(owner.group("owner").split()[len(label) :])
                return replace(action, kind=kind, entity=entity.name, rest=rest)
    phrase = stems(OBJECT_END.sub("", f" {action.noun} {action.rest}").strip())
    heads = [
        entity
        for entity in model.architecture.data_model
        if (label := stems(" ".join(split_pascal(entity.name))))
        and phrase[-len(label) :] == label
        and model.has(entity.name, kind)
    ]
    if len(heads) == 1:
        return replace(action, kind=kind, entity=heads[0].name, rest="")
    return action
