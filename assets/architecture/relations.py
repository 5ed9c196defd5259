"""Relations between entities: "X of/for/on/to a Y", "Y's X", "each X" after Y, the record a verb
makes of what it acts on ("book a desk": the booking refers to the desk), "-ing" records, what a
kept actor creates, and serving an entity that is only referred to."""

from __future__ import annotations

from assets.architecture.acts import PROPOSAL_OF_VERB
from assets.architecture.domain_model import ANYBODY, DomainModel, EntityDraft, noun_key
from assets.architecture.phrases import (
    DETERMINERS,
    VerbUse,
    clauses,
    entity_phrase,
    tokens,
    verb_uses,
    without_purpose,
)
from assets.architecture.vocabulary import is_person_word
from assets.requirements.language import role_of
from assets.requirements.models import UserStory
from pipeline_core.verbs import VERB_KINDS

_OWNING = ("of", "on", "to", "in", "within", "under")


_ASSIGNING = frozenset("assign reassign allocate".split())


def relation_after(use: VerbUse, model: DomainModel, child: EntityDraft) -> None:
    """ "the tasks of a project", "a comment on a task", "each visit for a pet" -> child.<parent>_id."""
    toks, index = use.clause, use.obj.end if use.obj else len(use.clause)
    while index < len(toks) - 1:
        token = toks[index]
        if token in ("of", "for", "on", "to", "in", "within", "from", "under", "against"):
            parent = model.find(entity_phrase(toks, index + 1))
            if parent is not None and parent is not child:
                # "assign each stay to a carer": a thing exists before it is assigned
                owning = ("of", "on", "in", "within", "under") if _ASSIGNING & set(use.verbs) else _OWNING
                add_reference(child, parent, required=token in owning)
                return
        if token in (",", ";") or (token in VERB_KINDS and index > use.index + 1):
            return
        index += 1


def add_reference(child: EntityDraft, parent: EntityDraft, *, required: bool = True) -> None:
    name = f"{parent.noun.replace(' ', '_')}_id"
    child.add_field(name, type_="reference", required=required, references=parent.name)
    plain = parent.noun.replace(" ", "_")
    if plain in child.fields and child.fields[plain].type != "reference":  # "search by supplier"
        del child.fields[plain]
        if plain in child.list_parameters:
            child.list_parameters.discard(plain)
            child.list_parameters.add(name)


def possessive_parent(use: VerbUse, model: DomainModel) -> EntityDraft | None:
    """ "a project's tasks" -> Project."""
    if use.obj is None or use.obj.start < 2:
        return None
    toks = use.clause
    for index in range(use.obj.start, min(use.obj.end, len(toks))):
        if toks[index] == "'s":
            return model.find(" ".join(toks[use.obj.start : index]).split()[-1])
    if toks[use.obj.start - 1] == "'s":
        return model.find(toks[use.obj.start - 2])
    return None


def each_relations(story: UserStory, model: DomainModel) -> None:
    """ "add their pets and record each vet visit": a visit belongs to a pet."""
    for text in (story.i_want, *(trace.quote for trace in story.traces)):
        for clause in clauses(without_purpose(text)):
            uses = verb_uses(clause)
            seen: list[EntityDraft] = []
            for use in uses:
                target = model.find(use.obj) if use.obj else None
                if target is None:
                    continue
                if use.obj is not None and use.clause[use.obj.start : use.obj.start + 1] == ["each"] and seen:
                    parent = seen[-1]
                    if parent is not target and not any(
                        f.type == "reference" for f in target.fields.values()
                    ):
                        add_reference(target, parent)
                seen.append(target)


# The record a verb makes of the thing it acts on: booking a desk makes a booking of the desk.
RECORDS_OF_VERB = {
    "book": ("booking", "reservation"),
    "reserve": ("reservation", "booking"),
    "borrow": ("loan", "borrowing"),
    "request": ("request",),
    "hire": ("hire", "rental"),
    "enrol": ("enrolment", "enrollment"),
    "enroll": ("enrollment", "enrolment"),
    **{verb: (record,) for verb, record in PROPOSAL_OF_VERB.items()},
}


def record_of_verb(story: UserStory, model: DomainModel) -> None:
    """ "staff book a desk for a day" where bookings are stored: the booking refers to the desk."""
    for text in (story.i_want, *(trace.quote for trace in story.traces)):
        for use in verb_uses(without_purpose(text)):
            thing = model.find(use.obj) if use.obj is not None else None
            if thing is None or is_person_word(thing.noun.split()[-1]):
                continue
            for verb in use.verbs:
                record = next(
                    (model.entities[key] for key in RECORDS_OF_VERB.get(verb, ()) if key in model.entities),
                    None,
                )
                if record is not None and record is not thing:
                    add_reference(record, thing)
                    if story.id not in record.stories:
                        record.stories.append(story.id)
                    # "when a member borrows a book": the loan is the member's too
                    subject = model.find(use.clause[use.index - 1]) if use.index else None
                    if subject is not None and subject not in (record, thing):
                        add_reference(record, subject, required=False)


def gerund_records(story: UserStory, model: DomainModel) -> None:
    """ "they water a plant and log the watering": the watering (a stored record named by the verb
    with -ing) refers to the thing the verb acts on."""
    for text in (story.i_want, *(trace.quote for trace in story.traces)):
        toks = tokens(without_purpose(text))
        for index, token in enumerate(toks[:-1]):
            if not token.isalpha() or toks[index + 1] not in DETERMINERS:
                continue
            names = {
                f"{token}ing",
                f"{token[:-1]}ing" if token.endswith("e") else "",
                f"{token}{token[-1]}ing",
            }
            record = next((model.entities[name] for name in names if name in model.entities), None)
            thing = model.find(entity_phrase(toks, index + 1))
            if record is not None and thing is not None and thing is not record:
                if not any(field.references == thing.name for field in record.fields.values()):
                    add_reference(record, thing)


def actor_owns(story: UserStory, model: DomainModel) -> None:
    """ "As a member, I want to place a hold on a book": when the actor is a stored thing, what
    the story creates is theirs (an optional reference to the actor)."""
    role = role_of(story.as_a)
    actor = model.entities.get(noun_key(role)) if role.split()[-1] not in ANYBODY else None
    if actor is None:
        return
    for entity in model.entities.values():
        if entity is actor or story.id not in entity.creating_stories:
            continue
        if not any(field.references == actor.name for field in entity.fields.values()):
            add_reference(entity, actor, required=False)


def serve_referenced(model: DomainModel) -> None:
    """An entity only referred to ("sign up for a shift": the shift) is built with the stories of
    what refers to it, so its operations exist as soon as a reference to it can be made."""
    for entity in model.entities.values():
        if entity.stories:
            continue
        referrers = [
            other
            for other in model.entities.values()
            if any(field.references == entity.name for field in other.fields.values())
        ]
        for other in referrers:
            for story_id in other.creating_stories or other.stories:
                if story_id not in entity.stories:
                    entity.stories.append(story_id)


_AFTER = frozenset("after once when whenever".split())


def after_relations(story: UserStory, model: DomainModel) -> None:
    """ "after we finish a book, members leave a short review": what the story makes after
    something happens to a kept thing refers to that thing."""
    for text in (story.i_want, *(trace.quote for trace in story.traces)):
        toks = tokens(without_purpose(text))
        if not toks or toks[0] not in _AFTER or "," not in toks:
            continue
        comma = toks.index(",")
        things = [
            model.find(entity_phrase(toks, index))
            for index in range(1, comma)
            if toks[index] in DETERMINERS and entity_phrase(toks, index) is not None
        ]
        thing = next((found for found in things if found is not None), None)
        if thing is None:
            continue
        for index in range(comma + 1, len(toks)):
            record = model.find(toks[index])
            if record is None or record is thing or story.id not in record.creating_stories:
                continue
            if not any(field.references == thing.name for field in record.fields.values()):
                add_reference(record, thing)
            return
