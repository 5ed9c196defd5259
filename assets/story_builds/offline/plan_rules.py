"""The planning rules for criteria that name a rule of the data model: a transition, a summary, a
count limit, a unique value, a record others refer to, a missing or invalid field."""

from __future__ import annotations

import re

from assets.architecture.models import Entity, Transition
from assets.requirements.language import verb_objects, words
from assets.requirements.models import AcceptanceCriterion
from assets.story_builds.offline.actions import TRYING, lemma
from assets.story_builds.offline.entity_fields import data_fields, input_fields, route
from assets.story_builds.offline.names import split_pascal
from assets.story_builds.offline.plans import Cannot, CriterionPlan, PlanModel, plan_for
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
    SUMMARY_WORDS,
    UNIQUE_WORDS,
    mentions,
    stem_word,
    stems,
)


def transition_plan(
    model: PlanModel, criterion: AcceptanceCriterion, context: str, when: str, then: str
) -> CriterionPlan | None:
    scored = []
    entities = list(
        {e.name: e for e in [*model.candidates(context), *model.architecture.data_model]}.values()
    )
    refusing = bool(REFUSED_OUTCOME.search(then) or REFUSED_OUTCOME.search(when))
    for rank, entity in enumerate(entities):
        for transition in entity.transitions:
            verb = stems(transition.name.replace("_", " "))
            held, acted = held_state(entity, transition.field, model.action)
            score = 0
            if verb and verb in (stems(when)[: len(verb)], stems(model.action)[: len(verb)]):
                score = 4  # "deliver a shipped order", "book a desk": the verb
            elif mentions(when, transition.name) or mentions(model.action, transition.name):
                score = 3
            elif split_verb(acted, transition) and (held is not None or not refusing):
                # "mark an item as repaired", "check a guest in": the verb around its object; refused,
                # only from a state of the model the clause names ("mark a call that's been taken lost")
                score = 3
            elif mentions(then, transition.name):
                score = 2
            elif model.story.id in transition.story_ids and mentions(context, transition.to_state):
                score = 1
            if score and (score >= 3 or model.act.kind not in ("create", "delete")):
                # a record made or removed is tested by that operation, not by a state it shows
                scored.append((-score, rank, entity, transition, held))
    for _, _, entity, transition, held in sorted(scored, key=lambda item: item[:2]):
        if not model.has(entity.name, "transition", transition.name):
            continue
        state = entity.field(transition.field)
        allowed = transition.from_states or [
            v for v in (state.values if state else []) if v != transition.to_state
        ]
        usable = {op.name for op in model.operations if op.entity == entity.name and op.kind == "transition"}
        if state is not None and allowed and route(entity, state.name, allowed, usable) is None:
            raise Cannot(
                f"no run of transitions brings a new {entity.name} into a state it can {transition.name} from"
            )
        if state is None or not allowed:
            raise Cannot(
                f"the {transition.name} transition of {entity.name} names no state field with values to "
                "start from"
            )
        refused_from = None
        if refusing and held is not None:  # "they try to mark an item that is broken as fixed": refused
            if held in allowed:
                raise Cannot(
                    f"expects {transition.name} refused for a {entity.name} that is {held!r}, which the "
                    "model allows, so a test of the rule would contradict the model"
                )
            if route(entity, state.name, [held], usable) is None:
                raise Cannot(f"no run of transitions brings a new {entity.name} into {held!r}")
            refused_from = held
        keys = [*model.setup(entity.name), model.require(entity.name, "transition", transition.name)]
        keys += model.moves(entity.name) + model.readback(entity.name)
        return plan_for(
            model,
            criterion,
            "transition",
            entity.name,
            keys,
            name=transition.name,
            field=transition.field,
            refused_from=refused_from,
        )
    return None


# "an item that is beyond repair", "a stay that's been checked out": the state a record is in.
HELD = r"\b(?:that|which)\s*(?:'s|is|are|was|were|has|have)?\s+(?:been\s+|already\s+|now\s+)*{}\b"


def held_state(entity: Entity, field: str, action: str) -> tuple[str | None, str]:
    """The value of the state `field` that a relative clause of `action` says its object is in, and
    the action without that clause; (None, action) when it names none."""
    state = entity.field(field)
    for value in sorted(state.values if state else [], key=len, reverse=True):
        spelled = r"\s+".join(re.escape(word) for word in value.lower().split("_"))
        match = re.search(HELD.format(spelled), action)
        if match:
            return value, f"{action[: match.start()]} {action[match.end() :]}"
    return None, action


def split_verb(action: str, transition: Transition) -> bool:
    """True when the action's verb is the transition's (or its state's) first word and the rest follow
    after the object: "mark an item as repaired" (mark_repaired), "check a guest in" (checked_in)."""
    said = words(TRYING.sub("", action.strip()))
    if len(said) < 2:
        return False
    verb, after = stem_word(lemma(said[0])), [stem_word(word) for word in said[1:]]
    for name in (transition.name, transition.to_state):
        wanted = name.lower().split("_")
        if len(wanted) < 2 or stem_word(lemma(wanted[0])) != verb:
            continue
        rest = iter(after)
        if all(stem_word(word) in rest for word in wanted[1:]):  # in order, each after the one before
            return True
    return False
    for name in (transition.name, transition.to_state):
        wanted = stems(name.replace("_", " "))
        if len(wanted) < 2 or wanted[0] != said[0]:
            continue
        rest = iter(said[1:])
        if all(word in rest for word in wanted[1:]):  # in order, each after the one before
            return True
    return False


def summary_plan(
    model: PlanModel, criterion: AcceptanceCriterion, context: str, when: str, then: str
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
    return plan_for(model, criterion, "summary", entity.name, keys, name=name)


def limit_plan(
    model: PlanModel, criterion: AcceptanceCriterion, context: str, when: str, then: str
) -> CriterionPlan | None:
    if not LIMIT_WORDS.search(context):
        return None
    for entity in [*model.candidates(context), *model.architecture.data_model]:
        if entity.limits:
            limit = entity.limits[0]
            if any(name and entity.field(name) is None for name in (limit.per, limit.field)):
                raise Cannot(f"the count limit of {entity.name} names a field the entity does not have")
            keys = [*model.setup(entity.name), *model.moves(entity.name), *model.readback(entity.name)]
            return plan_for(model, criterion, "limit", entity.name, keys)
    return None


def unique_plan(
    model: PlanModel, criterion: AcceptanceCriterion, context: str, when: str, then: str
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
            return plan_for(model, criterion, "unique", entity.name, keys, field=chosen.name)
    return None


def referenced_plan(
    model: PlanModel, criterion: AcceptanceCriterion, context: str, when: str, then: str
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
                    return plan_for(
                        model,
                        criterion,
                        "delete_referenced",
                        entity.name,
                        keys,
                        child=child.name,
                        field=field.name,
                    )
    return None


def refusal_plan(
    model: PlanModel, criterion: AcceptanceCriterion, context: str, when: str, then: str
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
                    return plan_for(model, criterion, "validate", entity.name, keys, field=field.name)
    for entity in creatable:
        if not INVALID.search(context):
            break
        for field in input_fields(entity):
            if mentions(context, field.name) and invalid_value(field) is not None:
                keys = [*model.setup(entity.name), *model.readback(entity.name)]
                return plan_for(model, criterion, "invalid", entity.name, keys, field=field.name)
    if MISSING.search(when) or INVALID.search(context):
        raise Cannot(
            "rejects input by a rule that names no field of the data model, which the templates lack"
        )
    return None


def _groups_as_said(model: PlanModel, entity: Entity, group_by: str | None, context: str) -> bool:
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
