"""Evaluations a person leaves on a thing: "leave a rating of the borrower from one to five",
"leave feedback on an application, a score from 1 to 5 and a comment", "score each proposal from
1 to 5, with a comment".

Each is a record of its own (Rating, Feedback, Review) that refers to the thing evaluated when that
thing is stored, with a `score` (an integer within the range the text gives) and a `comment` when
the text names one. ("rate a book" stays a rating field of the book: nothing says the ratings are
kept one by one.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assets.architecture.phrases import DETERMINERS, entity_phrase, tokens, without_purpose
from assets.architecture.vocabulary import is_person_word, number_value

if TYPE_CHECKING:
    from assets.architecture.domain_model import DomainModel, EntityDraft
    from assets.requirements.models import UserStory

EVALUATIONS = frozenset("rating review feedback evaluation assessment".split())
_LEAVING = frozenset("leave leaves give gives add adds write writes post posts submit submits".split())
_SCORING = frozenset("score scores".split())
_ON = frozenset("of on for about".split())
_REMARKS = frozenset("comment comments note notes remark remarks".split())


def _range(toks: list[str], start: int) -> tuple[int, int] | None:
    """ "from 1 to 5", "from one to five" within the clause from `start`."""
    for index in range(start, len(toks) - 3):
        if toks[index] == "from" and toks[index + 2] == "to":
            low, high = number_value(toks[index + 1]), number_value(toks[index + 3])
            if low is not None and high is not None and low < high:
                return low, high
    return None


def _evaluated(toks: list[str], index: int, model: DomainModel) -> EntityDraft | None:
    while index < len(toks) and toks[index] in DETERMINERS:
        index += 1
    phrase = entity_phrase(toks, index)
    thing = model.find(phrase) if phrase is not None else None
    if thing is None or is_person_word(thing.noun.split()[-1]):
        return None
    return thing


def _record(model: DomainModel, noun: str, thing: EntityDraft | None, toks: list[str], start: int) -> None:
    from assets.architecture.relations import add_reference

    record = model.find(noun) or model.entity(noun)
    if thing is not None and thing is not record:
        add_reference(record, thing)
    bounds = _range(toks, start)
    record.add_field(
        "score",
        type_="integer",
        required=True,
        minimum=float(bounds[0]) if bounds else None,
        maximum=float(bounds[1]) if bounds else None,
    )
    if _REMARKS & set(toks[start:]):
        record.add_field("comment", type_="text")


def evaluation_records(story: UserStory, model: DomainModel) -> list[EntityDraft]:
    """The evaluation records the story's want (or its quote) leaves, created by the story."""
    made: list[EntityDraft] = []
    for text in (story.i_want, *(trace.quote for trace in story.traces)):
        toks = tokens(without_purpose(text))
        for index, token in enumerate(toks[:-2]):
            noun, thing = None, None
            if token in _LEAVING:
                position = index + 1
                while position < len(toks) and toks[position] in DETERMINERS:
                    position += 1
                if position < len(toks) and toks[position] in EVALUATIONS:
                    noun = toks[position]
                    if toks[position + 1 : position + 2] and toks[position + 1] in _ON:
                        thing = _evaluated(toks, position + 2, model)
            elif token in _SCORING and toks[index + 1] in DETERMINERS:
                thing = _evaluated(toks, index + 1, model)
                noun = "review" if thing is not None and _range(toks, index) else None
            if noun is None:
                continue
            _record(model, noun, thing, toks, index)
            record = model.find(noun)
            if record is not None and record not in made:
                record.touch("create", story.id)
                made.append(record)
        if made:
            break
    return made
