"""What is written down when something happens to a thing: "when they borrow it we note the
neighbour's name, the date and the date it is due back" is a loan with those fields; "each time a
member books a court we record the start time and the length" a booking.

The record is the noun of the verb (borrow -> loan, book -> booking); it refers to the thing the
verb acts on where the text names it, and `relations.record_of_verb` links it where another sentence
does ("neighbours borrow a tool"). The listed items become its fields, the first one required.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assets.architecture.phrases import (
    DETERMINERS,
    entity_phrase,
    listed_fields,
    third_person_base,
    tokens,
    without_purpose,
)
from assets.architecture.vocabulary import NOMINAL_OF_VERB

if TYPE_CHECKING:
    from assets.architecture.domain_model import DomainModel, EntityDraft
    from assets.requirements.models import UserStory

# The record a happening makes: "borrow" a loan, "hire" a hire, "book" a booking.
RECORD_OF_VERB: dict[str, str] = {
    **NOMINAL_OF_VERB,
    "borrow": "loan",
    "lend": "loan",
    "hire": "hire",
    "rent": "rental",
    "return": "return",
    "visit": "visit",
    "donate": "donation",
    "order": "order",
    "buy": "purchase",
}
_WHEN = (("when",), ("whenever",), ("each", "time"), ("every", "time"))
_WRITERS = frozenset("we they you i staff".split())
_WRITING = frozenset(
    "note notes record records log logs write writes keep keeps store stores save saves take takes".split()
)
_PRONOUNS = frozenset("it them one".split())


def _verb(token: str) -> str | None:
    if token in RECORD_OF_VERB:
        return token
    base = third_person_base(token)
    if base in RECORD_OF_VERB:
        return base
    return token[:-1] if token.endswith("s") and token[:-1] in RECORD_OF_VERB else None


def _occasion(toks: list[str], index: int) -> tuple[str, int] | None:
    """From the word after "when": (the record's noun, where the writing verb's list starts)."""
    for position in range(index, min(index + 4, len(toks))):  # "they", "a member", "the club"
        verb = _verb(toks[position])
        if verb is None:
            continue
        after = position + 1
        if after < len(toks) and toks[after] in _PRONOUNS:
            after += 1
        elif (phrase := entity_phrase(toks, after)) is not None:
            after = phrase.end
        if toks[after : after + 1] == [","]:
            after += 1
        if after + 1 < len(toks) and toks[after] in _WRITERS and toks[after + 1] in _WRITING:
            return RECORD_OF_VERB[verb], after + 2
        return None
    return None


def occasion_records(story: UserStory, model: DomainModel) -> list[EntityDraft]:
    """The records the story's want or quotes say are written down when something happens."""
    from assets.architecture.fields import add_listed_field

    made: list[EntityDraft] = []
    for text in (story.i_want, *(trace.quote for trace in story.traces)):
        toks = tokens(without_purpose(text))
        for index in range(len(toks)):
            lead = next((words for words in _WHEN if tuple(toks[index : index + len(words)]) == words), None)
            if lead is None:
                continue
            found = _occasion(toks, index + len(lead))
            if found is None:
                continue
            listed = listed_fields(toks, found[1])[0]
            if len(listed) < 2:
                continue
            record = model.find(found[0]) or model.entity(found[0])
            for position, item in enumerate(listed):
                add_listed_field(record, item.name, item.values, model, required=position == 0)
            record.touch("create", story.id)
            if record not in made:
                made.append(record)
    return [record for record in made if record.noun not in DETERMINERS]
