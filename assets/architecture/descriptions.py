"""Sentences that describe a stored thing by its fields, whatever verb (or none) carries them.

- possession or record: "each booking records the date, the start time and the member", "a loan
  holds the score, the singer and the date", "a singer comes with a name and an e-mail address";
- "for each X we store A, B and C", "for every pupil we keep their name and class";
- "X ..., each with A, B and C": "list the tools they lend, each with a name and a category".

A thing described by two or more fields is a record the application keeps, even when its word is
otherwise a generic one ("tool") or names a person ("a singer comes with a name ..."); the listed
items become its fields (`fields.add_listed_field`: a reference where an item names another entity).
"""

from __future__ import annotations

from dataclasses import dataclass

from assets.architecture.phrases import (
    DETERMINERS,
    ListedField,
    NounPhrase,
    listed_fields,
    noun_phrase,
    tokens,
)
from assets.architecture.vocabulary import is_adjective, is_non_record, is_person_word
from assets.requirements.language import STOPWORDS, singular
from pipeline_core.possession import COMING_WITH_VERBS, HOLDING_VERBS, PERSON_DOABLE_VERBS, RECORDING_VERBS

# Verbs of possession or record: "X has / records / holds ... A, B and C"; those a person also does
# ("the family records feeding times") describe a thing only after "each", "every", "a" or "an"
# ("each stay records the dog, ..."), never with a person as the subject.
_POSSESSION = HOLDING_VERBS | RECORDING_VERBS
_ALSO_ACTIONS = PERSON_DOABLE_VERBS
_INDEFINITE = frozenset("each every a an".split())
_WITH_AFTER = COMING_WITH_VERBS  # "a singer comes with a name, ..."
_STORING = frozenset("store record keep track capture hold note log save want need".split())
_PRONOUNS = frozenset("we you they i he she it someone".split())
_AUXILIARIES = frozenset("need needs to must should will can want wants would also always then".split())
# Words that never name the described thing: the software, its parts, a pronoun.
_NOT_THINGS = frozenset(
    """app application system software platform website site portal page screen interface ui api backend
    frontend database server it one ones thing things them this that each every list entry""".split()
)


@dataclass(frozen=True)
class Description:
    """A thing and the fields a sentence gives it."""

    thing: NounPhrase
    fields: list[ListedField]


def _thing(toks: list[str], start: int, end: int) -> NounPhrase | None:
    """The thing toks[start:end] names, determiners left out ("each vet visit" -> vet visit)."""
    words = [word for word in toks[start:end] if word not in DETERMINERS]
    if not 1 <= len(words) <= 3 or not all(word.isalpha() and word not in STOPWORDS for word in words):
        return None  # "how many tools they have lent": "they" ends the thing before the verb
    head = singular(words[-1])
    if head in _NOT_THINGS or len(head) < 3 or is_non_record((*words[:-1], head)) or is_adjective(head):
        return None
    return NounPhrase(words=(*words[:-1], head), start=start, end=end)


def _fields(toks: list[str], start: int) -> list[ListedField]:
    listed, _ = listed_fields(toks, start)
    return listed if len(listed) >= 2 else []


def _subject_start(toks: list[str], verb: int) -> int | None:
    """Where the subject before the verb at `verb` starts: a determiner, or the clause start."""
    for size in (1, 2, 3):
        start = verb - size
        if start < 0:
            return None
        word = toks[start]
        if word in DETERMINERS:
            return start
        if start == 0 or toks[start - 1] in (",", ":", "(", "and"):
            return start if word.isalpha() else None
    return None


def _possessions(toks: list[str]) -> list[Description]:
    found = []
    for index, token in enumerate(toks):
        start_fields = None
        if token in _POSSESSION:
            start_fields = index + 1
        elif token in _WITH_AFTER and toks[index + 1 : index + 2] == ["with"]:
            start_fields = index + 2
        if start_fields is None or index == 0:
            continue
        start = _subject_start(toks, index)
        thing = _thing(toks, start, index) if start is not None else None
        if thing is not None and token in _ALSO_ACTIONS:
            if toks[start] not in _INDEFINITE or is_person_word(thing.words[-1]):
                continue
        fields = _fields(toks, start_fields) if thing is not None else []
        if thing is not None and fields:
            found.append(Description(thing, fields))
    return found


def _for_each(toks: list[str]) -> list[Description]:
    """ "for each score we store the title, ...": the fields after the storing verb."""
    found = []
    for index in range(len(toks) - 2):
        if toks[index] != "for" or toks[index + 1] not in ("each", "every"):
            continue
        phrase = noun_phrase(toks, index + 1)
        phrase = _thing(toks, index + 1, phrase.end) if phrase is not None else None
        if phrase is None:
            continue
        position = phrase.end
        while position < len(toks) and (toks[position] in _PRONOUNS or toks[position] in _AUXILIARIES):
            position += 1
        if position < len(toks) and toks[position] in _STORING and position > phrase.end:
            fields = _fields(toks, position + 1)
            if fields:
                found.append(Description(phrase, fields))
    return found


def _each_with(toks: list[str]) -> list[Description]:
    """ "the tools they are willing to lend, each with a name, a category and ...": the nearest
    thing named with a determiner before ", each with"."""
    found = []
    for index in range(1, len(toks) - 2):
        if toks[index - 1 : index + 2] != [",", "each", "with"]:
            continue
        for start in range(index - 2, -1, -1):
            if toks[start] not in DETERMINERS or toks[start] in ("each", "every"):
                continue
            phrase = noun_phrase(toks, start)
            phrase = _thing(toks, start, phrase.end) if phrase is not None else None
            if phrase is not None:
                fields = _fields(toks, index + 2)
                if fields:
                    found.append(Description(phrase, fields))
                break
    return found


def descriptions(sentence: str) -> list[Description]:
    """Every thing a sentence describes by two or more fields."""
    toks = tokens(sentence)
    return [*_possessions(toks), *_for_each(toks), *_each_with(toks)]
