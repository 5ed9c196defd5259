"""Records an act makes of the thing it acts on, where the thing itself is not what is made.

- Proposing a thing ("members suggest a book", "anyone can nominate a volunteer") does not add the
  thing to what is kept: it makes a suggestion (a nomination, a proposal) that refers to it
  (`relations.record_of_verb` links the two).
- Saying whether one takes part ("players tell us whether they're attending", "say if I'm coming")
  is a response: a yes/no field named by what is answered.
- Passing a thing to somebody ("lend copies to a singer", "hire the marquee to a school") makes a
  loan (a hire, a rental) naming who has it and referring to the thing; "copies" counted on a score
  ("the number of copies") are copies of that score.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assets.architecture.phrases import entity_phrase, third_person_base, tokens, without_purpose
from assets.architecture.vocabulary import is_generic

if TYPE_CHECKING:
    from assets.architecture.domain_model import DomainModel, EntityDraft
    from assets.requirements.models import UserStory

# A verb that proposes its object -> the record the proposal is.
PROPOSAL_OF_VERB = {"suggest": "suggestion", "propose": "proposal", "nominate": "nomination"}
# A verb that passes its object to the person after "to" -> the record of who has it.
_LOAN_OF_VERB = {"lend": "loan", "loan": "loan", "lent": "loan", "hire": "hire", "rent": "rental"}


def _texts(story: UserStory) -> list[str]:
    return [story.i_want, *(trace.quote for trace in story.traces)]


def _loan_verb(token: str) -> str | None:
    if token in _LOAN_OF_VERB:
        return token
    base = third_person_base(token) or (token[:-1] if token.endswith("s") else "")
    return base if base in _LOAN_OF_VERB else None


def _passings(toks: list[str]) -> list[tuple[str, str, str]]:
    """(the record, the raw word of what is passed, the recipient's noun) of each "<lend> X to Y"."""
    found = []
    for index, token in enumerate(toks[:-3]):
        verb = _loan_verb(token)
        if verb is None:
            continue
        thing = entity_phrase(toks, index + 1)
        if thing is None or toks[thing.end : thing.end + 1] != ["to"]:
            continue
        recipient = entity_phrase(toks, thing.end + 1)
        if recipient is None:
            continue
        found.append((_LOAN_OF_VERB[verb], toks[thing.end - 1], recipient.noun))
    return found


_ANSWERING = frozenset("say tell confirm answer indicate let".split())
_IF = frozenset("if whether".split())
# "i'm", "they're" (as tokens: "im", "theyre"), or a subject and a form of "be" / a modal
_SUBJECT_BE = frozenset("im theyre youre were hes shes".split())
_SUBJECTS = frozenset("i they we you he she".split())
_BE = frozenset("am are is will can".split())


def _answered(toks: list[str]) -> str | None:
    """ "tell us whether they're attending" -> "attending": what a person says yes or no to."""
    for index, token in enumerate(toks):
        if token not in _ANSWERING:
            continue
        for position in range(index + 1, min(index + 5, len(toks) - 1)):
            if toks[position] not in _IF:
                continue
            rest = toks[position + 1 : position + 4]
            if rest[:1] and rest[0] in _SUBJECT_BE:
                word = rest[1] if len(rest) > 1 else ""
            elif len(rest) > 2 and rest[0] in _SUBJECTS and rest[1] in _BE:
                word = rest[2]
            else:
                break
            return word if word.isalpha() and len(word) > 2 else None
    return None


def act_records(story: UserStory, model: DomainModel) -> list[EntityDraft]:
    """The records the story's acts make: a proposal of what it proposes, a loan of what it lends."""
    made: list[EntityDraft] = []
    for text in _texts(story):
        toks = tokens(without_purpose(text))
        for index, token in enumerate(toks[:-1]):
            nominal = PROPOSAL_OF_VERB.get(token) or PROPOSAL_OF_VERB.get(third_person_base(token) or "")
            thing = entity_phrase(toks, index + 1) if nominal else None
            if nominal and thing is not None and thing.start == index + 1 and not is_generic(thing.noun):
                made.append(model.find(nominal) or model.entity(nominal))
        answered = _answered(toks)
        if answered is not None:
            response = model.find("response") or model.entity("response")
            response.add_field(answered, type_="boolean", required=True)
            made.append(response)
        for record_noun, _, recipient in _passings(toks):
            record = model.find(record_noun) or model.entity(record_noun)
            record.add_field(recipient.replace(" ", "_"), required=True)
            made.append(record)
    unique: list[EntityDraft] = []
    for record in made:
        record.touch("create", story.id)
        if record not in unique:
            unique.append(record)
    return unique


def _counted_owner(word: str, model: DomainModel, record: EntityDraft) -> EntityDraft | None:
    """The one entity that counts `word` ("the number of copies"): the copies are its copies."""
    owners = [
        entity
        for entity in model.entities.values()
        if entity is not record
        and any(name == word or name.endswith(f"_of_{word}") for name in entity.fields)
    ]
    return owners[0] if len(owners) == 1 else None


def link_loans(story: UserStory, model: DomainModel) -> None:
    """A loan refers to what is lent and, where it is kept, to who has it."""
    from assets.architecture.relations import add_reference

    for text in _texts(story):
        for record_noun, raw, recipient in _passings(tokens(without_purpose(text))):
            record = model.find(record_noun)
            if record is None:
                continue
            thing = model.find(raw)
            if thing is None or thing is record:
                thing = _counted_owner(raw, model, record)
            if thing is not None and thing is not record:
                add_reference(record, thing)
            person = model.find(recipient)
            if person is not None and person not in (record, thing):
                add_reference(record, person)
