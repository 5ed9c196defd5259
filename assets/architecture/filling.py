"""Filling the entities from each story's want: listed fields, operations per verb (create, manage,
read, search/filter/sort, assign, rate, tag, schedule), transitions from state verbs and "mark as",
people assigned to, a yes/no field from "a done checkbox"."""

from __future__ import annotations

import re

from assets.architecture.discovery import noun_want, self_registration, want_uses
from assets.architecture.domain_model import (
    ANYBODY,
    PERSON_FIELD,
    DomainModel,
    EntityDraft,
    TransitionDraft,
    story_texts,
)
from assets.architecture.fields import add_listed_field
from assets.architecture.occasions import RECORD_OF_VERB
from assets.architecture.phrases import (
    DETERMINERS,
    NounPhrase,
    VerbUse,
    coordinated_object,
    entity_phrase,
    listed_fields,
    tokens,
    verb_uses,
    without_purpose,
)
from assets.architecture.positions import after_object, giving_start, next_after
from assets.architecture.relations import add_reference, possessive_parent, relation_after
from assets.architecture.states import more_states, state_after, transition_name
from assets.architecture.vocabulary import (
    SEARCH_TERMS,
    STATE_OF_VERB,
    SUMMARY_CUES,
    is_generic,
    is_person_word,
)
from assets.architecture.wants import fuller_want
from assets.requirements.language import role_of, singular
from assets.requirements.models import UserStory
from pipeline_core.verbs import VERB_KINDS, VerbKind


def fill_from_story(story: UserStory, model: DomainModel, acted: list[EntityDraft]) -> None:
    """Fields, relations, operations and transitions from one story's want-clause."""
    registering = self_registration(story)
    if registering is not None and acted:
        toks = tokens(without_purpose(story.i_want))
        for position, item in enumerate(listed_fields(toks, registering[1])[0]):
            add_listed_field(acted[0], item.name, item.values, model, required=position == 0)
        for kind in ("list", "create", "read", "update", "delete"):
            acted[0].touch(kind, story.id)
        return
    uses = want_uses(fuller_want(story))
    wanted = noun_want(story.i_want) if not uses else None
    if wanted is not None and acted and model.find(wanted[0]) is acted[0]:
        target, start = acted[0], wanted[1]
        if start is not None:
            toks = tokens(without_purpose(story.i_want))
            for item in listed_fields(toks, start)[0]:
                add_listed_field(target, item.name, item.values, model)
        for kind in ("list", "create", "read", "update", "delete"):
            target.touch(kind, story.id)
        return
    if not any(use.obj and model.find(use.obj) for use in uses):
        uses = [use for trace in story.traces for use in verb_uses(without_purpose(trace.quote))] or uses
    last: EntityDraft | None = acted[0] if acted else None
    for use in uses:
        target = model.find(use.obj) if use.obj else None
        if target is None and use.obj is not None and not is_generic(use.obj.words[-1]):
            if is_person_word(use.obj.words[-1]) and last is not None and "assign" not in use.verbs:
                target = None
            else:
                continue
        target = target or last
        if target is None:
            continue
        if use.obj is None and any(RECORD_OF_VERB.get(verb) == target.noun for verb in use.verbs):
            continue  # "when they borrow it we note ...": the borrowing makes the loan, it is no state of it
        last = target
        if use.obj is not None and use.obj.attribute:
            target.add_field(use.obj.attribute)
        parent = possessive_parent(use, model)
        if parent is not None and parent is not target:
            add_reference(target, parent)
        relation_after(use, model, target)
        for verb in use.verbs:
            _apply_verb(verb, use, target, story, model)


def _only_a_person(name: str, model: DomainModel) -> bool:
    head = name.split("_")[-1]
    known = model.find(name.replace("_", " ")) is not None
    return is_person_word(head) and name not in ("assignee", "owner") and not known


_NARROWED: dict[str, VerbKind] = {
    "filtered": "filter",
    "sorted": "sort",
    "ordered": "sort",
    "grouped": "sort",
    "searched": "search",
}


def _apply_verb(verb: str, use: VerbUse, target: EntityDraft, story: UserStory, model: DomainModel) -> None:
    action = VERB_KINDS[verb]
    toks, after = use.clause, after_object(use)
    # "open tickets with a subject"
    if verb == "open" and next_after(toks, after, "with", limit=2) is not None:
        action = "create"
    if verb == "comment":
        comment = model.entity("comment")
        comment.add_field("text", type_="text", required=True)
        add_reference(comment, target)
        comment.touch("create", story.id)
        comment.touch("list", story.id)
        if story.id not in target.stories:
            target.stories.append(story.id)
        return
    if action in ("create", "manage"):
        start = next_after(toks, after, "with", limit=6)
        if after + 1 < len(toks) and toks[after] in (",", "and") and coordinated_object(toks, after + 1):
            start = None  # "record feeding times and every vet visit, with ...": the list is the visit's
        if start is None:  # "a catalogue of books: title, ...", "time entries against a client: the date"
            start = next_after(toks, after, ":", limit=5)
        if start is None:  # "apply for a permit, giving the zone, the address and the start date"
            start = giving_start(toks, after)
        if start is not None:
            listed, _ = listed_fields(toks, start)
            if len(listed) == 1 and _only_a_person(listed[0].name, model):
                listed = []  # "share a recipe with a neighbour" names who, not a field
            for position, item in enumerate(listed):
                add_listed_field(
                    target, item.name, item.values, model, required=position == 0 and action == "create"
                )
        kinds = ("create",) if action == "create" else ("list", "create", "read", "update", "delete")
        for kind in kinds:
            target.touch(kind, story.id)
        return
    if (
        action in ("read", "list")
        and toks[after : after + 1] == ["with"]
        and toks[after + 1 : after + 2]
        in (
            ["their"],
            ["its"],
        )
    ):  # "see the upcoming vaccinations with their due dates": what each one shows
        for item in listed_fields(toks, after + 1)[0]:
            # each has one: "with their due dates" is a due date
            name = item.name[:-1] if item.name.endswith(("dates", "times")) else item.name
            add_listed_field(target, name, item.values, model)
    if action in ("read", "list"):
        narrowed = _NARROWED.get(toks[after]) if after < len(toks) else None
        if narrowed is not None and toks[after + 1 : after + 2] == ["by"]:
            action = narrowed  # "list bugs filtered by severity, status or assignee"
        elif action == "list" and toks[after : after + 1] == ["by"]:
            action = "filter"  # "list parcels by destination": the ones for one destination
    if action in ("search", "filter", "sort"):
        target.touch("list", story.id)
        start = next_after(toks, after, "by", limit=3)
        listed = listed_fields(toks, start)[0] if start is not None else []
        listed = [item for item in listed if item.name not in SEARCH_TERMS]
        names = [add_listed_field(target, item.name, item.values, model) for item in listed]
        if action == "search":
            target.list_parameters.add("q")
            target.list_parameters.update(
                name for name in names if name and target.fields[name].type not in ("string", "text", "email")
            )
        elif action == "filter":
            target.list_parameters.update(name for name in names if name)
        else:
            target.list_parameters.add("sort")
            target.sort_fields.update(name for name in names if name)
        return
    if action == "state":
        _add_transition(verb, use, target, story)
        return
    if verb in ("assign", "reassign"):
        start = next_after(toks, after, "to", limit=2)
        phrase = entity_phrase(toks, start) if start is not None else None
        parent = model.find(phrase)
        if parent is None and phrase is not None and _assignable_person(phrase, model):
            # "assign a ticket to an agent": the agents are a kind of record people pick from
            parent = model.entity(phrase.noun)
            parent.touch("list", story.id)
        if parent is not None and parent is not target:
            add_reference(target, parent, required=False)
        else:
            target.add_field(PERSON_FIELD)
        giving = giving_start(toks, after)
        if giving is not None:  # "assign each parcel to a courier, giving the pickup time"
            for item in listed_fields(toks, giving)[0]:
                add_listed_field(target, item.name, item.values, model)
    elif verb == "rate":
        target.add_field("rating", type_="number")
    elif verb in ("tag", "label"):
        target.add_field("tags")
    elif verb in ("schedule", "reschedule"):
        if not any(f.type in ("date", "datetime") for f in target.fields.values()):
            target.add_field("scheduled_for", type_="datetime")
    counting = bool(SUMMARY_CUES & set(toks[use.index :])) or {"number", "of"} <= set(toks)
    if action in ("read", "list") and counting:
        if story.id not in target.stories:  # a count or total: the summary serves it
            target.stories.append(story.id)
        return
    target.touch({"update": "update", "delete": "delete", "read": "read", "list": "list"}[action], story.id)


def _assignable_person(phrase: NounPhrase, model: DomainModel) -> bool:
    """A kind of person the stories treat as a group ("assign a ticket to an agent" where agents
    are a role or counted "per agent"), not just anybody ("someone", "a colleague")."""
    head = phrase.words[-1]
    return is_person_word(head) and head not in ANYBODY and head in model.people_kinds


def people_kinds(stories: list[UserStory]) -> set[str]:
    """The kinds of people the stories name as a role or group things by ("per developer")."""
    kinds = {singular(role_of(story.as_a).split()[-1]) for story in stories if role_of(story.as_a)}
    for story in stories:
        for text in story_texts(story):
            toks = tokens(text)
            kinds.update(singular(toks[i + 1]) for i, t in enumerate(toks[:-1]) if t == "per")
    return {kind for kind in kinds if is_person_word(kind) and kind not in ANYBODY}


def _add_transition(verb: str, use: VerbUse, target: EntityDraft, story: UserStory) -> None:
    toks, after = use.clause, after_object(use)
    moves: list[tuple[str, str, str | None]] = []  # name, state it leads to, state it follows
    if verb == "mark":
        start = next_after(toks, after, "as", limit=2)
        if start is None and after < len(toks) and _STATE_WORD.match(toks[after]):
            start = after  # "mark the walk finished", "mark an order paid": the state without "as"
        found = state_after(toks, start) if start is not None else None
        if found is None:
            return
        for state, follows in ((found[0], None), *more_states(toks, found[1], found[0])):
            if state in ("open", "undone", "incomplete", "not"):
                moves.append(("reopen", "", None))
            else:
                moves.append((transition_name(state), state, follows))
    else:
        moves.append((verb, STATE_OF_VERB[verb], None))
    for name, to_state, follows in moves:
        transition = target.transitions.setdefault(name, TransitionDraft(name=name, to_state=to_state))
        transition.story_ids.add(story.id)
        if follows is not None and transition.from_states is None:
            transition.from_states = [follows]
    if story.id not in target.stories:
        target.stories.append(story.id)


# A word that names a state by itself: a past participle or a word people mark things with.
_STATE_WORD = re.compile(r"^(?:[a-z]{3,}ed|done|complete|paid|lost|sold|read|open|closed)$")
_SWITCHES = frozenset("checkbox checkboxes tickbox toggle switch flag".split())


def switch_field(story: UserStory, model: DomainModel) -> None:
    """ "a done checkbox", "an urgent flag": a yes/no field of the thing the project is about (the
    entity most stories act on)."""
    toks = [t for t in tokens(without_purpose(story.i_want)) if t not in DETERMINERS and t != "to"]
    if len(toks) < 2 or toks[-1] not in _SWITCHES or not model.entities or len(toks) > 4:
        return
    name = "_".join(toks[:-1])
    if not name.replace("_", "").isalpha():
        return
    main = max(model.entities.values(), key=lambda e: (len(e.creating_stories), len(e.stories)))
    main.add_field(name, type_="boolean")
    if story.id not in main.stories:
        main.stories.append(story.id)
    main.touch("update", story.id)
