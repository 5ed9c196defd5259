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

from assets.architecture.models import Architecture
from assets.requirements.language import verb_objects
from assets.requirements.models import AcceptanceCriterion, UserStory
from assets.story_builds.offline.actions import Action, read_action
from assets.story_builds.offline.contract import ContractOperation
from assets.story_builds.offline.entity_fields import data_fields
from assets.story_builds.offline.names import split_pascal
from assets.story_builds.offline.plan_crud import crud_plan
from assets.story_builds.offline.plan_rules import (
    limit_plan,
    referenced_plan,
    refusal_plan,
    summary_plan,
    transition_plan,
    unique_plan,
)
from assets.story_builds.offline.plans import Cannot, CriterionPlan, PlanModel
from assets.story_builds.offline.wording import (
    REFUSED_OUTCOME,
    SOFT_RULES,
    UNSUPPORTED_RULES,
    action_clause,
    clause,
    mentions,
    stem_word,
    stems,
    verb_entity,
)

__all__ = ["CriterionPlan", "plan_criterion", "story_operations"]


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


def plan_criterion(
    architecture: Architecture,
    story: UserStory,
    criterion: AcceptanceCriterion,
    own: Sequence[ContractOperation],
    operations: Sequence[ContractOperation],
) -> CriterionPlan | str:
    """How the templates test `criterion`, or the reason they cannot."""
    model = PlanModel(architecture, story, own, operations)
    try:
        return _plan(model, criterion)
    except Cannot as reason:
        return str(reason)


def _hard_reason(model: PlanModel, text: str) -> str | None:
    known = model.model_words()
    for pattern, reason in UNSUPPORTED_RULES:
        for match in pattern.finditer(text):
            if not set(stems(match.group(0))) <= known:
                return f"{reason} ('{match.group(0)}')"
    return None


def _plan(model: PlanModel, criterion: AcceptanceCriterion) -> CriterionPlan:
    when, then = action_clause(clause(criterion.when)), clause(criterion.then)
    model.when = when.lower()
    model.action = action_clause(clause(criterion.when)).lower()
    model.act = read_action(criterion.when, criterion.then, model.architecture.data_model)
    text = f"{when} {then}".lower()
    reason = _hard_reason(model, text)
    if reason:
        raise Cannot(reason)
    context = f"{criterion.given} {when} {then}".lower()
    for rule in (transition_plan, summary_plan, limit_plan, unique_plan, referenced_plan, refusal_plan):
        plan = rule(model, criterion, context, when.lower(), then.lower())
        if plan is not None:
            return plan
    if model.act.kind == "other":
        model.act = saved_record(model, then) or model.act
    if model.act.kind == "other":  # "the app turns time entries into an invoice", "they print it"
        raise Cannot(
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
            raise Cannot(f"{soft} ('{match.group(0)}')")
    refused = REFUSED_OUTCOME.search(then.lower())
    if refused and stem_word(refused.group(0).split()[-1]) not in model.model_words():  # "error logs"
        raise Cannot(
            f"expects a refusal ('{refused.group(0)}') by a rule the data model does not hold, "
            "which a test of the operation succeeding would contradict"
        )
    return crud_plan(model, criterion, when, then)


# "... with a name, a coach and a maximum number of places": the values given, up to the clause's end.
VALUES = re.compile(r"\bwith\b[^.;]*")


# "the parcel is saved with its date": the then-clause names the record kept and the values it holds.
SAVED = re.compile(
    r"^(?:(?:the|a|an|each|every|their|his|her|my|our)\s+)?(?P<noun>[a-z][a-z ]*?)\s+(?:is|are|gets|get)\s+"
    r"(?:saved|recorded|stored|kept|added)\b(?:\s+with\s+(?:its|their)\s+(?P<values>[^.;]+))?$"
)


def saved_record(model: PlanModel, then: str) -> Action | None:
    """A create of the record a then-clause says is saved, when the when-clause's verb names no
    operation ("they pack a crate with a label / the crate is saved with its label"): only if the
    saved thing is an entity the when-clause acts on, and each value it is saved with is a field."""
    match = SAVED.match(then.lower().strip())
    if match is None:
        return None
    noun = match.group("noun")
    named = [
        entity
        for entity in model.mentioned_entities(noun)
        if model.has(entity.name, "create") and mentions(model.action, " ".join(split_pascal(entity.name)))
    ]
    if len(named) != 1:
        return None
    [entity] = named
    values = [part for part in re.split(r",\s*|\s+and\s+|\s+or\s+", match.group("values") or "") if part]
    if not all(any(mentions(part, field.name) for field in data_fields(entity)) for part in values):
        return None  # saved with a value the record does not hold
    verb = model.action.split()[0] if model.action else ""
    return Action("create", verb=verb, noun=noun, entity=entity.name, rest="", clause=then)
