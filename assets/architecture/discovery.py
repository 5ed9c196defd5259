"""Which entities the stories name: the objects of their verbs, things described by their fields,
actors who register themselves, wants that are only a thing ("subjects"), the software's subject
("a todo application"). Generic words, people nobody keeps and times never become one."""

from __future__ import annotations

from assets.architecture.acts import act_records
from assets.architecture.descriptions import descriptions
from assets.architecture.domain_model import ANYBODY, MANAGED_PEOPLE_VERBS, DomainModel, EntityDraft
from assets.architecture.evaluations import evaluation_records
from assets.architecture.occasions import occasion_records
from assets.architecture.phrases import (
    DETERMINERS,
    PLACES,
    NounPhrase,
    VerbUse,
    clauses,
    entity_phrase,
    listed_fields,
    tokens,
    verb_uses,
    without_purpose,
)
from assets.architecture.positions import next_after
from assets.architecture.relations import RECORDS_OF_VERB
from assets.architecture.vocabulary import (
    FILED_NOUNS,
    FILING_VERBS,
    SOFTWARE_NOUNS,
    TEXT_BODIED,
    is_adjective,
    is_generic,
    is_non_record,
    is_person_word,
)
from assets.requirements.language import STOPWORDS, role_of
from assets.requirements.models import UserStory
from pipeline_core.verbs import VERB_KINDS

# Words that end a noun phrase without naming a thing: "the ones who", "the tools they lend".
_NEVER_IN_NAMES = STOPWORDS | frozenset("whether whose she he".split())


def _is_entity_noun(phrase: NounPhrase, verbs: tuple[str, ...]) -> bool:
    head = phrase.words[-1]
    filed = head in FILED_NOUNS and bool(FILING_VERBS & set(verbs))  # "submit an application"
    if (is_generic(head) and not filed) or head in DETERMINERS or is_non_record(phrase.words):
        return False
    if any(word in _NEVER_IN_NAMES for word in phrase.words) or is_adjective(head):
        return False
    if len(phrase.words) == 1 and head in PLACES and any(verb in RECORDS_OF_VERB for verb in verbs):
        return False  # "book a place": a share of what is booked, not a thing of its own
    if is_person_word(head) or head in ("account", "profile"):
        # People are records when the stories keep them ("record suppliers", "keep a list of
        # clients"), never because they are looked at or talked to.
        return any(verb in MANAGED_PEOPLE_VERBS or VERB_KINDS[verb] in ("create", "manage") for verb in verbs)
    return head.isalpha() and len(head) > 2


def _listed_record(use: VerbUse) -> bool:
    """ "record work days with a date, a task and a leader": a thing given two or more fields is
    kept, even when its word is otherwise a time or a generic word."""
    if use.obj is None or use.clause[use.obj.end : use.obj.end + 1] != ["with"]:
        return False
    head = use.obj.words[-1]
    if len(use.obj.words) < 2 or is_person_word(head) or not head.isalpha():
        return False
    if any(VERB_KINDS[verb] not in ("create", "manage") for verb in use.verbs):
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
                    reading = all(VERB_KINDS[verb] in ("read", "list") for verb in use.verbs)
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
            *act_records(story, model),
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
    if verb in STOPWORDS or verb in VERB_KINDS or is_adjective(verb):
        return []
    if toks[2] not in DETERMINERS:  # "to own houseplants": no thing is made
        return []
    obj = entity_phrase(toks, 2)
    if obj is None or obj.start != 2 or toks[obj.end : obj.end + 1] in (["into"], ["as"], ["from"]):
        return []  # "to turn a quote into a job": the quote is not what is made
    if verb in _META_VERBS and obj.words[-1] not in TEXT_BODIED:
        return []  # "to leave a review" writes something down; "to leave the page" does not
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


_SELF_VERBS = frozenset("sign_up register join enrol enroll subscribe apply".split())


_OWN = frozenset("my their our his her".split())


def self_registration(story: UserStory) -> tuple[str, int] | None:
    """ "to sign up at the desk with my name, e-mail and a card number", as a member: the actor
    records themselves, so the actor's role is the thing stored; (role, where its fields start)."""
    role = role_of(story.as_a)
    if role.split()[-1] in ANYBODY:
        return None
    toks = tokens(without_purpose(story.i_want))
    start = 1 if toks[:1] == ["to"] else 0
    found = _verb_at_start(toks, start)
    if found is None or found[0] not in _SELF_VERBS:
        return None
    after = next_after(toks, found[1], "with", limit=5)
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
            if phrase is not None and not is_generic(phrase.words[-1]) and phrase.words[-1] not in VERB_KINDS:
                return [model.entity(phrase.noun)]
    return []
