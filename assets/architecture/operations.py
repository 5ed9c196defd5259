"""Story -> operation mapping, and each drafted entity finished into a `DraftEntity`.

Every entity gets full CRUD unless the text forbids an operation ("invoices can never be
deleted"). An operation carries the stories that name it; one no story names is served for the
stories that create (else touch) the entity, so every operation is built with some story. State
fields: the states of an entity's transitions in life-cycle order, the first being where a new item
starts; a transition starts from the states before its target unless the text states its rule.
"""

from __future__ import annotations

from assets.architecture.domain_model import EntityDraft
from assets.architecture.draft import DraftEntity
from assets.architecture.labels import add_display_field, require_label
from assets.architecture.models import EntityField, Transition
from assets.architecture.openapi import OPERATION_ORDER, EntityOperation
from assets.architecture.phrases import verb_uses, without_purpose
from assets.architecture.vocabulary import (
    FINAL_STATES,
    NATURAL_PREDECESSOR,
    STATE_RANK,
    VERB_OF_STATE,
    first_state,
    is_generic,
    is_person_word,
)
from assets.requirements.models import UserStory

STATE_FIELD = "status"


def _order_states(states: list[str]) -> list[str]:
    return sorted(dict.fromkeys(states), key=lambda s: (STATE_RANK.get(s, 3), states.index(s)))


def _add_rule_states(entity: EntityDraft) -> None:
    """A state a rule needs ("shipped only once it is paid") but no story reaches gets a transition."""
    reached = {t.to_state for t in entity.transitions.values()}
    for transition in list(entity.transitions.values()):
        for state in transition.from_states or []:
            if state not in reached and STATE_RANK.get(state, 0) > 0:
                name = VERB_OF_STATE.get(state, f"mark_{state}")
                if name not in entity.transitions:
                    from assets.architecture.domain_model import TransitionDraft

                    entity.transitions[name] = TransitionDraft(
                        name=name, to_state=state, story_ids=set(transition.story_ids)
                    )
                reached.add(state)


def _transitions(entity: EntityDraft) -> list[Transition]:
    if not entity.transitions:
        return []
    _add_rule_states(entity)
    current = entity.fields.get(STATE_FIELD)
    listed = list(current.values) if current is not None and current.type == "enum" else []
    targets = {t.to_state for t in entity.transitions.values() if t.to_state}
    rule_states = {s for t in entity.transitions.values() for s in t.from_states or []}
    start = listed[0] if listed and listed[0] not in targets else first_state(targets | rule_states)
    states = listed if listed and start == listed[0] else [start, *listed]
    states = [start, *_order_states([s for s in [*states, *rule_states, *targets] if s != start])]
    entity.fields[STATE_FIELD] = EntityField(
        name=STATE_FIELD, type="enum", required=True, values=states, default=start
    )
    out = []
    for draft in entity.transitions.values():
        to_state = draft.to_state or start
        if draft.from_states is not None:
            from_states = [s for s in draft.from_states if s != to_state]
        elif not draft.to_state:  # reopen / restore: from the states that end a life cycle
            from_states = [s for s in states if s in FINAL_STATES and s != "archived"] or [
                s for s in states if s != to_state
            ]
        elif NATURAL_PREDECESSOR.get(to_state) in states:
            from_states = [NATURAL_PREDECESSOR[to_state]]
        elif to_state in ("archived", "cancelled", "canceled"):
            from_states = [
                s for s in states if s != to_state and s not in ("archived", "cancelled", "canceled")
            ]
            if to_state != "archived":
                from_states = [s for s in from_states if s not in FINAL_STATES]
        else:
            rank = STATE_RANK.get(to_state, 3)
            from_states = [
                s for s in states if s != to_state and s not in FINAL_STATES and STATE_RANK.get(s, 3) < rank
            ] or [s for s in states if s != to_state and s not in FINAL_STATES]
        from_states = [s for s in from_states if s not in draft.excluded]
        out.append(
            Transition(
                name=draft.name,
                field=STATE_FIELD,
                from_states=from_states,
                to_state=to_state,
                story_ids=sorted(draft.story_ids),
                rule=draft.rule,
            )
        )
    return out


def _operations(entity: EntityDraft, full_crud: bool) -> list[EntityOperation]:
    fallback = entity.creating_stories[:1] or entity.stories[:1]
    changing = sorted({story_id for t in entity.transitions.values() for story_id in t.story_ids})
    operations = []
    for kind in OPERATION_ORDER:
        if kind in entity.forbidden:
            continue
        if not full_crud and kind not in ("list", "read") and not entity.operations.get(kind):
            if kind != "update" or not changing:
                continue
        # Every story that works on an entity needs to see it; an unnamed change goes with creating.
        unnamed = entity.stories if kind in ("list", "read") else fallback
        story_ids = sorted(entity.operations.get(kind) or unnamed)
        operation = EntityOperation(kind=kind, story_ids=story_ids)
        if kind == "list":
            known = set(entity.fields) | {"q", "sort"}
            operation.parameters = sorted(entity.list_parameters & known)
            operation.sort_fields = sorted(entity.sort_fields & set(entity.fields))
        operations.append(operation)
    return operations


def finish_entity(entity: EntityDraft, full_crud: bool = True) -> DraftEntity:
    """The drafted entity as a `DraftEntity`: display field, states, transitions, CRUD operations."""
    transitions = _transitions(entity)
    require_label(entity)
    add_display_field(entity)
    fields = [EntityField(name="id", type="integer", required=True), *entity.fields.values()]
    return DraftEntity(
        name=entity.name,
        fields=fields,
        operations=_operations(entity, full_crud),
        transitions=transitions,
        limits=list(entity.limits),
        summaries=list(entity.summaries),
    )


def asks_for_data(story: UserStory) -> bool:
    """True if the story's want acts on a stored thing ("record each vet visit"), not on the
    software ("use the app") or a person ("sign in")."""
    for use in verb_uses(without_purpose(story.i_want)):
        head = use.obj.words[-1] if use.obj is not None else ""
        if head and not is_generic(head) and not is_person_word(head):
            return True
    return False
