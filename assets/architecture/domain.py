"""The domain model from the stories: entities, typed fields, relations, state transitions.

Entities are the things the stories' verbs act on ("add their pets", "record feeding times and
every vet visit", "a register of vehicles: ...", a want that is only a thing: "subjects"); generic
words (app, feature, information), ways of showing things ("map display"), times ("week"), values
and counts ("amount", "servings") and abstract activities ("route planning") never become one,
people only when the stories keep them ("record suppliers", "members sign up with their name").
Words the stories misspell once are read as the word they use elsewhere (`spelling`). Fields come
from what the text lists ("with a title, due date and priority", "search products by name, SKU or
supplier", "the date it was lent"), their types from the words' meaning, enum values where the text
lists them, a yes/no field from "a done checkbox". Relations: "X of/for/on/to a Y", "Y's X", "each X"
after Y, "every X comes from one Y", a listed field that names another entity, and what a kept actor
creates become a reference `<y>_id`. State verbs (ship, archive, close, "mark as done") become an
enum `status` and one transition each. Rules, limits and summaries are read by
`assets.architecture.rules`; operations by `assets.architecture.operations`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assets.architecture.descriptions import descriptions
from assets.architecture.draft import DraftEntity
from assets.architecture.evaluations import evaluation_records
from assets.architecture.models import CountLimit, EntityField, Summary
from assets.architecture.occasions import RECORD_OF_VERB, occasion_records
from assets.architecture.phrases import (
    DETERMINERS,
    PLACES,
    NounPhrase,
    VerbUse,
    clauses,
    coordinated_object,
    entity_phrase,
    listed_fields,
    tokens,
    verb_uses,
    without_purpose,
)
from assets.architecture.spelling import corrected_stories
from assets.architecture.states import more_states, state_after, transition_name
from assets.architecture.vocabulary import (
    DISPLAY_FIELDS,
    SEARCH_TERMS,
    SOFTWARE_NOUNS,
    STATE_OF_VERB,
    SUMMARY_CUES,
    TEXT_BODIED,
    TITLED,
    VERB_ACTIONS,
    Action,
    field_type,
    is_adjective,
    is_generic,
    is_non_record,
    is_person_word,
)
from assets.architecture.wants import fuller_want
from assets.requirements.language import STOPWORDS, pascal_case, role_of, singular
from assets.requirements.models import UserStory

MANAGED_PEOPLE_VERBS = frozenset(
    "create add register invite delete remove manage edit update deactivate activate block".split()
)
PERSON_FIELD = "assignee"


@dataclass
class TransitionDraft:
    name: str
    to_state: str  # "" = back to the first state
    story_ids: set[str] = field(default_factory=set)
    from_states: list[str] | None = None  # set by a rule of the text
    excluded: set[str] = field(default_factory=set)
    rule: str = ""


@dataclass
class EntityDraft:
    """What the rules learn about one entity, before it becomes an `Entity`."""

    name: str  # PascalCase
    noun: str  # "vet visit"
    fields: dict[str, EntityField] = field(default_factory=dict)
    operations: dict[str, set[str]] = field(default_factory=dict)  # kind -> story ids
    list_parameters: set[str] = field(default_factory=set)
    sort_fields: set[str] = field(default_factory=set)
    transitions: dict[str, TransitionDraft] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    limits: list[CountLimit] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    stories: list[str] = field(default_factory=list)
    creating_stories: list[str] = field(default_factory=list)

    def add_field(
        self, name: str, *, type_: str | None = None, required: bool = False, **extra: object
    ) -> None:
        if not name or name == "id":
            return
        current = self.fields.get(name)
        if current is None:
            self.fields[name] = EntityField(
                name=name, type=type_ or field_type(name), required=required, **extra
            )
            return
        update: dict[str, object] = {}
        if required and not current.required:
            update["required"] = True
        if type_ and current.type == "string" and type_ != "string":
            update["type"] = type_
        update.update({key: value for key, value in extra.items() if value})
        if update:
            self.fields[name] = current.model_copy(update=update)

    def touch(self, kind: str, story_id: str) -> None:
        self.operations.setdefault(kind, set()).add(story_id)
        if story_id not in self.stories:
            self.stories.append(story_id)
        if kind == "create" and story_id not in self.creating_stories:
            self.creating_stories.append(story_id)


def story_texts(story: UserStory) -> list[str]:
    """The story's own words: its want, its criteria and the quotes it was drawn from."""
    texts = [story.i_want]
    texts += [f"{c.given}, when {c.when}, then {c.then}" for c in story.acceptance_criteria]
    texts += [trace.quote for trace in story.traces]
    return [text for text in texts if text]


class DomainModel:
    """Entities by noun, filled story by story."""

    def __init__(self) -> None:
        self.entities: dict[str, EntityDraft] = {}
        # kinds of people the stories treat as a group: roles ("as an agent"), "per agent"
        self.people_kinds: set[str] = set()

    def entity(self, noun: str) -> EntityDraft:
        parts = noun.split()
        if len(parts) == 2 and _participle(parts[0]):  # "an issued permit" is a permit
            noun = parts[1]
        key = noun_key(noun)
        if key not in self.entities:
            self.entities[key] = EntityDraft(name=pascal_case(key), noun=key)
        return self.entities[key]

    def find(self, phrase: NounPhrase | str | None) -> EntityDraft | None:
        """The entity a phrase names ("the vet visit", "visits", "a pet")."""
        if phrase is None:
            return None
        words = phrase.words if isinstance(phrase, NounPhrase) else tuple(phrase.split())
        for size in (2, 1):
            if len(words) >= size:
                key = noun_key(" ".join(words[-size:]))
                if key in self.entities:
                    return self.entities[key]
        head = singular(words[-1]) if words else ""
        heads = {head}
        if words and words[-1].endswith("ves"):  # "shelves", "knives": a shelf, a knife
            heads |= {words[-1][:-3] + "f", words[-1][:-3] + "fe"}
        matches = [e for key, e in self.entities.items() if key.split()[-1] in heads]
        return matches[0] if len(matches) == 1 else None


_ED_NOUNS = frozenset("seed feed bed shed speed breed need deed reed weed".split())


def _participle(word: str) -> bool:
    return is_adjective(word) or (len(word) > 4 and word.endswith("ed") and word not in _ED_NOUNS)


def noun_key(noun: str) -> str:
    parts = noun.lower().split()
    return " ".join([*parts[:-1], singular(parts[-1])]) if parts else ""


# Words that end a noun phrase without naming a thing: "the ones who", "the tools they lend".
_NEVER_IN_NAMES = STOPWORDS | frozenset("whether whose she he".split())


def _is_entity_noun(phrase: NounPhrase, verbs: tuple[str, ...]) -> bool:
    head = phrase.words[-1]
    if is_generic(head) or head in DETERMINERS or is_non_record(phrase.words):
        return False
    if any(word in _NEVER_IN_NAMES for word in phrase.words) or is_adjective(head):
        return False
    if len(phrase.words) == 1 and head in PLACES and any(verb in _RECORD_OF_VERB for verb in verbs):
        return False  # "book a place": a share of what is booked, not a thing of its own
    if is_person_word(head) or head in ("account", "profile"):
        # People are records when the stories keep them ("record suppliers", "keep a list of
        # clients"), never because they are looked at or talked to.
        return any(
            verb in MANAGED_PEOPLE_VERBS or VERB_ACTIONS[verb] in ("create", "manage") for verb in verbs
        )
    return head.isalpha() and len(head) > 2


def _listed_record(use: VerbUse) -> bool:
    """ "record work days with a date, a task and a leader": a thing given two or more fields is
    kept, even when its word is otherwise a time or a generic word."""
    if use.obj is None or use.clause[use.obj.end : use.obj.end + 1] != ["with"]:
        return False
    head = use.obj.words[-1]
    if len(use.obj.words) < 2 or is_person_word(head) or not head.isalpha():
        return False
    if any(VERB_ACTIONS[verb] not in ("create", "manage") for verb in use.verbs):
        return False
    return len(listed_fields(use.clause, use.obj.end + 1)[0]) >= 2


def discover_entities(stories: list[UserStory], model: DomainModel) -> dict[str, list[EntityDraft]]:
    """Entities from the objects of the stories' verbs; per story, the entities it acts on.

    Things that are created, changed or managed come first; what is only looked at ("see the stock
    value per supplier") becomes an entity only when nothing else names it and it is not a summary.
    """
    acted: dict[str, list[EntityDraft]] = {story.id: [] for story in stories}
    described = {story.id: _described_entities(story, model) for story in stories}
    fields_of = {story.id: _described_field_names(story) for story in stories}
    for story in stories:
        registering = self_registration(story)
        if registering is not None:  # "members sign up with their name and e-mail": members are kept
            acted[story.id] = [model.find(registering[0]) or model.entity(registering[0])]
        else:  # "when they borrow it we note the date ...": the loan is what the story keeps
            acted[story.id] = occasion_records(story, model)
    for looking in (False, True):
        for story in stories:
            if acted[story.id]:
                continue
            found = acted[story.id]
            for text in (story.i_want, *(trace.quote for trace in story.traces)):
                found_uses = want_uses(text) if text is story.i_want else verb_uses(without_purpose(text))
                for use in found_uses:
                    if use.obj is None:
                        continue
                    if not _is_entity_noun(use.obj, use.verbs) and not _listed_record(use):
                        continue
                    own_fields = use.clause[use.obj.end : use.obj.end + 1] in (["with"], [":"])
                    if "_".join(use.obj.words) in fields_of[story.id] and not own_fields:
                        continue  # "for each score we store the title, ...": a field, not a thing
                    reading = all(VERB_ACTIONS[verb] in ("read", "list") for verb in use.verbs)
                    if reading != looking:
                        continue
                    following = use.clause[use.obj.end : use.obj.end + 1]
                    target = model.find(use.obj)
                    if target is None and (following == ["per"] or (looking and found)):
                        continue
                    target = target or model.entity(use.obj.noun)
                    if target not in found:
                        found.append(target)
                    if use.obj.start == use.obj.end:  # "sign up for a shift": the signup, and the shift
                        held = entity_phrase(use.clause, use.obj.end + 1)
                        if held is not None and _is_entity_noun(held, ("add",)):
                            other = model.find(held) or model.entity(held.noun)
                            if other not in found and other is not target:
                                found.append(other)
                if found:
                    break
    for story in stories:
        for entity in [
            *described[story.id],
            *evaluation_records(story, model),
            *occasion_records(story, model),
        ]:
            if entity not in acted[story.id]:
                acted[story.id].append(entity)
    for story in stories:
        if not acted[story.id]:  # "a todo application with add, edit, delete functionality"
            acted[story.id] = _software_subject(story.i_want, model)
    for story in stories:
        if not acted[story.id] and not verb_uses(story.i_want):
            wanted = noun_want(story.i_want)
            if wanted is not None:  # "assignments that have a due date", "subjects"
                acted[story.id] = [model.find(wanted[0]) or model.entity(wanted[0].noun)]
    return acted


# Verbs of a want that state a rule or a wish about the software, never an action on a record.
_META_VERBS = frozenset(
    """limit refuse allow prevent stop require restrict let help want need try like love get use run have
    be own support fit bring buy train increase press make keep go come do score leave give""".split()
)


def want_uses(text: str) -> list[VerbUse]:
    """The verb uses of a want; a want "to <verb> a <thing> ..." whose verb the vocabulary does not
    know ("to pack a parcel for a household, with the date") is read as making that thing."""
    uses = verb_uses(without_purpose(text))
    if uses:
        return uses
    toks = tokens(without_purpose(text))
    if len(toks) < 3 or toks[0] != "to" or not toks[1].isalpha():
        return []
    verb = toks[1]
    if verb in STOPWORDS or verb in _META_VERBS or verb in VERB_ACTIONS or is_adjective(verb):
        return []
    if toks[2] not in DETERMINERS:  # "to own houseplants": no thing is made
        return []
    obj = entity_phrase(toks, 2)
    if obj is None or obj.start != 2 or toks[obj.end : obj.end + 1] in (["into"], ["as"], ["from"]):
        return []  # "to turn a quote into a job": the quote is not what is made
    return [VerbUse(verbs=("add",), index=1, obj=obj, clause=toks)]


def _described_entities(story: UserStory, model: DomainModel) -> list[EntityDraft]:
    """The things the story's sentences describe by their fields ("each booking records the date,
    the start time and the member"): records the application keeps, created by the story."""
    found: list[EntityDraft] = []
    for text in (story.i_want, *(trace.quote for trace in story.traces)):
        for sentence in clauses(without_purpose(text)):
            for description in descriptions(sentence):
                entity = model.find(description.thing) or model.entity(description.thing.noun)
                entity.touch("create", story.id)
                if entity not in found:
                    found.append(entity)
    return found


def _described_field_names(story: UserStory) -> set[str]:
    return {
        item.name
        for text in (story.i_want, *(trace.quote for trace in story.traces))
        for sentence in clauses(without_purpose(text))
        for description in descriptions(sentence)
        for item in description.fields
    }


_ANYBODY = frozenset("user person people someone anyone everyone visitor".split())
_SELF_VERBS = frozenset("sign_up register join enrol enroll subscribe apply".split())
_OWN = frozenset("my their our his her".split())


def self_registration(story: UserStory) -> tuple[str, int] | None:
    """ "to sign up at the desk with my name, e-mail and a card number", as a member: the actor
    records themselves, so the actor's role is the thing stored; (role, where its fields start)."""
    role = role_of(story.as_a)
    if role.split()[-1] in _ANYBODY:
        return None
    toks = tokens(without_purpose(story.i_want))
    start = 1 if toks[:1] == ["to"] else 0
    found = _verb_at_start(toks, start)
    if found is None or found[0] not in _SELF_VERBS:
        return None
    after = _next(toks, found[1], "with", limit=5)
    if after is None or after >= len(toks) or toks[after] not in _OWN:
        return None
    return role, after


def _verb_at_start(toks: list[str], index: int) -> tuple[str, int] | None:
    uses = verb_uses(" ".join(toks[index:]))
    if not uses or uses[0].index != 0:
        return None
    return uses[0].verbs[0], index + len(uses[0].verbs[0].split("_"))


_HAVING = (("that", "have"), ("that", "has"), ("which", "have"), ("which", "has"), ("having",), ("with",))


def noun_want(text: str) -> tuple[NounPhrase, int | None] | None:
    """A want that is only a thing ("subjects", "assignments that have a due date"): the thing, and
    where the fields it is said to have start (None when it names none)."""
    toks = tokens(without_purpose(text))
    start = 1 if toks[:1] == ["to"] else 0
    phrase = entity_phrase(toks, start)
    if phrase is None or phrase.start != start:
        return None
    if not _is_entity_noun(phrase, ("add",)) or is_person_word(phrase.words[-1]):
        return None
    rest = toks[phrase.end :]
    for words in _HAVING:
        if tuple(rest[: len(words)]) == words:
            return phrase, phrase.end + len(words)
    return (phrase, None) if not rest or rest[0] in (",", ";") else None


def _software_subject(text: str, model: DomainModel) -> list[EntityDraft]:
    toks = tokens(text)
    for index, token in enumerate(toks):
        if token in SOFTWARE_NOUNS and index and not is_generic(toks[index - 1]):
            start = index
            while start > 0 and toks[start - 1] not in DETERMINERS and toks[start - 1].isalpha():
                start -= 1
            if start == index:  # "a site address": nothing names what the software is for
                continue
            phrase = entity_phrase(toks, start)
            if (
                phrase is not None
                and not is_generic(phrase.words[-1])
                and phrase.words[-1] not in VERB_ACTIONS
            ):
                return [model.entity(phrase.noun)]
    return []


_OWNING = ("of", "on", "to", "in", "within", "under")
_ASSIGNING = frozenset("assign reassign allocate".split())


def _relation_after(use: VerbUse, model: DomainModel, child: EntityDraft) -> None:
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
        if token in (",", ";") or (token in VERB_ACTIONS and index > use.index + 1):
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


def _possessive_parent(use: VerbUse, model: DomainModel) -> EntityDraft | None:
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


def _each_relations(story: UserStory, model: DomainModel) -> None:
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
_RECORD_OF_VERB = {
    "book": ("booking", "reservation"),
    "reserve": ("reservation", "booking"),
    "borrow": ("loan", "borrowing"),
    "request": ("request",),
    "hire": ("hire", "rental"),
    "enrol": ("enrolment", "enrollment"),
    "enroll": ("enrollment", "enrolment"),
}


def _record_of_verb(story: UserStory, model: DomainModel) -> None:
    """ "staff book a desk for a day" where bookings are stored: the booking refers to the desk."""
    for text in (story.i_want, *(trace.quote for trace in story.traces)):
        for use in verb_uses(without_purpose(text)):
            thing = model.find(use.obj) if use.obj is not None else None
            if thing is None or is_person_word(thing.noun.split()[-1]):
                continue
            for verb in use.verbs:
                record = next(
                    (model.entities[key] for key in _RECORD_OF_VERB.get(verb, ()) if key in model.entities),
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


def _gerund_records(story: UserStory, model: DomainModel) -> None:
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


def _actor_owns(story: UserStory, model: DomainModel) -> None:
    """ "As a member, I want to place a hold on a book": when the actor is a stored thing, what
    the story creates is theirs (an optional reference to the actor)."""
    role = role_of(story.as_a)
    actor = model.entities.get(noun_key(role)) if role.split()[-1] not in _ANYBODY else None
    if actor is None:
        return
    for entity in model.entities.values():
        if entity is actor or story.id not in entity.creating_stories:
            continue
        if not any(field.references == actor.name for field in entity.fields.values()):
            add_reference(entity, actor, required=False)


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
        parent = _possessive_parent(use, model)
        if parent is not None and parent is not target:
            add_reference(target, parent)
        _relation_after(use, model, target)
        for verb in use.verbs:
            _apply_verb(verb, use, target, story, model)


def _after_object(use: VerbUse) -> int:
    return use.obj.end if use.obj else use.index + len(use.verbs)


def _next(toks: list[str], index: int, word: str, limit: int = 8) -> int | None:
    """The position after `word` within `limit` words of `index` (a bracketed aside counts as one):
    "log every stock movement (goods in or goods out) with the product"."""
    position, seen = index, 0
    while position < len(toks) and seen < limit:
        token = toks[position]
        if token == word:
            return position + 1
        if token == "(" and ")" in toks[position:]:
            position = toks.index(")", position) + 1
            seen += 1
            continue
        if token in (";",) or (token in VERB_ACTIONS and position > index + 1):
            return None
        position += 1
        seen += 1
    return None


_GIVING = frozenset("giving stating including recording noting listing naming".split())


def _giving(toks: list[str], index: int) -> int | None:
    """Where a ", giving A, B and C" list starts within a few words of `index`."""
    for position in range(index, min(index + 6, len(toks) - 2)):
        if toks[position] == "," and toks[position + 1] in _GIVING:
            return position + 2
        if toks[position] in (";", ":"):
            return None
    return None


def _only_a_person(name: str, model: DomainModel) -> bool:
    head = name.split("_")[-1]
    known = model.find(name.replace("_", " ")) is not None
    return is_person_word(head) and name not in ("assignee", "owner") and not known


_NARROWED: dict[str, Action] = {
    "filtered": "filter",
    "sorted": "sort",
    "ordered": "sort",
    "grouped": "sort",
    "searched": "search",
}


def _apply_verb(verb: str, use: VerbUse, target: EntityDraft, story: UserStory, model: DomainModel) -> None:
    action = VERB_ACTIONS[verb]
    toks, after = use.clause, _after_object(use)
    if verb == "open" and _next(toks, after, "with", limit=2) is not None:  # "open tickets with a subject"
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
        start = _next(toks, after, "with", limit=6)
        if after + 1 < len(toks) and toks[after] in (",", "and") and coordinated_object(toks, after + 1):
            start = None  # "record feeding times and every vet visit, with ...": the list is the visit's
        if start is None:  # "a catalogue of books: title, ...", "time entries against a client: the date"
            start = _next(toks, after, ":", limit=5)
        if start is None:  # "apply for a permit, giving the zone, the address and the start date"
            start = _giving(toks, after)
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
        start = _next(toks, after, "by", limit=3)
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
        start = _next(toks, after, "to", limit=2)
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
        giving = _giving(toks, after)
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
    return is_person_word(head) and head not in _ANYBODY and head in model.people_kinds


def people_kinds(stories: list[UserStory]) -> set[str]:
    """The kinds of people the stories name as a role or group things by ("per developer")."""
    kinds = {singular(role_of(story.as_a).split()[-1]) for story in stories if role_of(story.as_a)}
    for story in stories:
        for text in story_texts(story):
            toks = tokens(text)
            kinds.update(singular(toks[i + 1]) for i, t in enumerate(toks[:-1]) if t == "per")
    return {kind for kind in kinds if is_person_word(kind) and kind not in _ANYBODY}


def person_reference(target: EntityDraft, model: DomainModel) -> str | None:
    """The reference to a kind of person the thing is assigned to ("agent_id"), if it has one."""
    for name, field_ in target.fields.items():
        if field_.type == "reference" and field_.references:
            entity = next((e for e in model.entities.values() if e.name == field_.references), None)
            if entity is not None and is_person_word(entity.noun.split()[-1]):
                return name
    return None


def add_listed_field(
    target: EntityDraft, name: str, values: tuple[str, ...], model: DomainModel, *, required: bool = False
) -> str:
    """A listed field: a reference when it names another entity, an enum when values are given;
    "the maximum number of permits" counts permits (an integer), it does not refer to one."""
    name = _label_of(name, target)
    counted = "_of_" in name and {"number", "count", "quantity", "amount"} & set(
        name.split("_of_")[0].split("_")
    )
    if counted:
        target.add_field(name, type_="integer", required=required)
        return name
    parent = model.find(name.replace("_", " "))
    if parent is not None and parent is not target:
        add_reference(target, parent, required=required)
        return f"{parent.noun.replace(' ', '_')}_id"
    if is_person_word(name.split("_")[-1]) and name in ("assignee", "owner"):
        if name == PERSON_FIELD and person_reference(target, model):  # "filter by assignee"
            return person_reference(target, model) or name
        target.add_field(name)
        return name
    if values:
        target.add_field(name, type_="enum", required=required, values=list(values))
    else:
        target.add_field(name, required=required)
    return name


def _label_of(name: str, target: EntityDraft) -> str:
    """ "the name of the medicine" listed for a medication is its name; "the name of the owner"
    is the owner's name, "the name of the school" the school's."""
    label, of, thing = name.partition("_of_")
    if not of or label not in DISPLAY_FIELDS or "_" in thing:
        return name
    head = target.noun.split()[-1]
    same = thing == head or (len(thing) > 4 and thing[:5] == head[:5])
    return label if same else f"{thing}_{label}"


def _add_transition(verb: str, use: VerbUse, target: EntityDraft, story: UserStory) -> None:
    toks, after = use.clause, _after_object(use)
    moves: list[tuple[str, str, str | None]] = []  # name, state it leads to, state it follows
    if verb == "mark":
        start = _next(toks, after, "as", limit=2)
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


_SWITCHES = frozenset("checkbox checkboxes tickbox toggle switch flag".split())


def _serve_referenced(model: DomainModel) -> None:
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


def _switch_field(story: UserStory, model: DomainModel) -> None:
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


def add_display_field(entity: EntityDraft) -> None:
    """Every entity can be shown by a name or a title; a comment, a note or a review by its text."""
    if any(name in entity.fields for name in DISPLAY_FIELDS):
        return
    head = entity.noun.split()[-1]
    if head in TEXT_BODIED and not any(f.type == "text" for f in entity.fields.values()):
        entity.fields = {"text": EntityField(name="text", type="text", required=True), **entity.fields}
        return
    name = "title" if head in TITLED else "name"
    # An entity created with other required fields keeps its display field optional; a state
    # field does not count (it starts at its default, nobody types it).
    entity.fields = {
        name: EntityField(name=name, type="string", required=not _typed_required(entity)),
        **entity.fields,
    }


def _typed_required(entity: EntityDraft) -> list[str]:
    """The required fields a person fills in on create (a state starts at its default)."""
    return [name for name, f in entity.fields.items() if f.required and f.default is None]


def require_label(entity: EntityDraft) -> None:
    """Every kept thing has a field a create cannot leave out: its label (name, title, ...) when
    the text gives one, else the first field the text lists that a person types (not a yes/no box,
    not a state that starts at its default, not a link to another record: "assign each court to a
    coach" links a court that exists before). Nothing marks "the name of a dog" required, yet a dog
    without it is no record. An entity with no field at all gets a required name or title from
    `add_display_field`."""
    if _typed_required(entity):
        return
    label = next((name for name in DISPLAY_FIELDS if name in entity.fields), None)
    if label is None:
        label = next(
            (
                name
                for name, f in entity.fields.items()
                if f.default is None and f.type not in ("boolean", "reference")
            ),
            None,
        )
    if label is not None:
        entity.fields[label] = entity.fields[label].model_copy(update={"required": True})


def derive_entities(stories: list[UserStory], full_crud: bool = True) -> list[DraftEntity]:
    """The offline domain model: entities with fields, relations, rules, operations (sorted by name).

    `full_crud`: every entity gets every operation the text does not forbid; without it, only the
    operations some story names (and list/read for all).
    """
    from assets.architecture.operations import finish_entity
    from assets.architecture.rules import apply_rules, apply_state_changes

    stories = corrected_stories(stories)
    model = DomainModel()
    model.people_kinds = people_kinds(stories)
    acted = discover_entities(stories, model)
    ordered = sorted(
        stories,
        key=lambda story: (
            not any(VERB_ACTIONS.get(use.verbs[0]) == "create" for use in verb_uses(story.i_want))
        ),
    )
    for story in ordered:
        fill_from_story(story, model, acted[story.id])
    for story in stories:
        _each_relations(story, model)
        _actor_owns(story, model)
        _record_of_verb(story, model)
        _gerund_records(story, model)
    for story in ordered:
        apply_state_changes(story, model, acted[story.id])
    for story in ordered:
        apply_rules(story, model, acted[story.id])
    for story in stories:
        if not acted[story.id]:
            _switch_field(story, model)
    _serve_referenced(model)
    return [
        finish_entity(model.entities[key], full_crud)
        for key in sorted(model.entities, key=lambda k: pascal_case(k))
    ]
