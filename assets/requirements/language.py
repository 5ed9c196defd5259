"""Small English rules shared by the requirements and architecture stages.

Content-word tokens (stemmed with the Snowball English stemmer) for comparing want-clauses,
singular/plural of entity nouns, and the verb-object reading of a want-clause ("assign a task to
a colleague" -> verb `assign`, object `task`) that both dependency rules and the data model use.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import snowballstemmer

from pipeline_core.verbs import VERB_OPERATIONS, Operation, verb_at

_STEMMER = snowballstemmer.stemmer("english")

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

# Function words and the wording of a requirement itself: they say nothing about what is wanted.
STOPWORDS = frozenset(
    """
    a an the to be able of for with by and or on in at into from as so that this these those
    it its it's they them their theirs we us our ours i me my mine you your he she his her
    is are was were been being am do does did can could should must shall will would may might
    need needs have has had want wants like also all any each every some own very just only
    when then than if once after before while there here which who whom what where how
    get gets let lets via per up out about new existing please
    """.split()
)

# Words before a noun that are not part of the entity's name.
_DETERMINERS = frozenset(
    """a an the my our their his her its your this that these those all each every any some
    new existing single several many multiple one own other""".split()
)
# Words that end an object noun phrase.
_PHRASE_END = frozenset(
    """to for with by in on at of from into as so that when once after before because while and or
    if than via per within without""".split()
)

PERSON_WORDS = frozenset(
    """user member admin administrator lead manager customer client visitor owner developer guest
    reviewer editor viewer staff employee assignee colleague people person stakeholder tester
    designer operator maintainer contributor clerk nurse doctor patient student teacher parent child
    buyer seller driver rider passenger traveller traveler tenant landlord agent librarian cashier chef
    cook waiter host attendee organiser organizer speaker volunteer donor subscriber reader writer
    author player coach trainer athlete mechanic technician engineer accountant auditor officer
    inspector resident citizen neighbour neighbor friend supervisor dispatcher courier vet
    receptionist pharmacist therapist clinician physician surgeon caregiver carer employer applicant
    candidate recruiter instructor learner pupil shopper merchant vendor supplier partner contractor
    freelancer homeowner team family analyst planner moderator creator seller marketer agent""".split()
)

_IRREGULAR_PLURALS = {"person": "people", "child": "children", "status": "statuses", "data": "data"}
_IRREGULAR_SINGULARS = {plural: singular for singular, plural in _IRREGULAR_PLURALS.items()}


def words(text: str) -> list[str]:
    """Lowercase words; a possessive "'s" is dropped ("project's" -> "project")."""
    out = []
    for word in WORD.findall(text.lower().replace("’", "'")):
        if word.endswith("'s"):
            word = word[:-2]
        out.append(word.replace("'", ""))
    return out


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _STEMMER.stemWord(singular(word))


def content_tokens(text: str) -> frozenset[str]:
    """The stemmed content words of `text`: the basis of duplicate detection and story ids."""
    return frozenset(stem(word) for word in words(text) if word not in STOPWORDS)


def jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    if not left and not right:
        return 1.0
    return len(left & right) / len(left | right)


def singular(word: str) -> str:
    word = word.lower()
    if word in _IRREGULAR_SINGULARS:
        return _IRREGULAR_SINGULARS[word]
    if word in _IRREGULAR_PLURALS or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if re.search(r"(ss|x|z|ch|sh|us)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def plural(word: str) -> str:
    lower = word.lower()
    if lower in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[lower]
    if re.search(r"[^aeiou]y$", lower):
        return lower[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh)$", lower):
        return lower + "es"
    return lower + "s"


def third_person(verb: str) -> str:
    """ "show" -> "shows", "reach" -> "reaches", "be" -> "is" (for derived criteria and titles)."""
    if verb == "be":
        return "is"
    if verb == "have":
        return "has"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    if re.search(r"(s|x|z|ch|sh|o)$", verb):
        return verb + "es"
    return verb + "s"


def snake_case(text: str) -> str:
    return "_".join(words(text))[:40].strip("_")


def pascal_case(text: str) -> str:
    return "".join(part.capitalize() for part in words(text))


def is_person(phrase: str) -> bool:
    """True if the phrase names people ("team members", "admins", "the project manager")."""
    tokens = [word for word in words(phrase) if word not in _DETERMINERS]
    return bool(tokens) and singular(tokens[-1]) in PERSON_WORDS


def role_of(phrase: str) -> str:
    """ "Team members" -> "team member"; determiners dropped, last word singular."""
    tokens = [word for word in words(phrase) if word not in _DETERMINERS]
    if not tokens:
        return "user"
    return " ".join([*tokens[:-1], singular(tokens[-1])])


class VerbObject(NamedTuple):
    verb: str
    operation: Operation
    noun: str  # singular, lowercase, one or two words ("task", "support ticket")
    rest: str  # the words after the object phrase, for field and parameter rules


def verb_objects(want: str) -> list[VerbObject]:
    """The leading verbs of a want-clause and the object they act on.

    "to create and edit tasks with a title" -> [(create, task), (edit, task)];
    "to comment on a task" -> [(comment, task)]. Clauses that do not start with a known verb
    ("a dark mode", "the API to respond") give nothing.
    """
    tokens = words(want)
    index = 0
    while index < len(tokens) and tokens[index] in ("to", "be", "able", "also", "quickly", "easily"):
        index += 1
    verbs: list[str] = []
    while index < len(tokens):
        found = verb_at(tokens, index)
        if found is not None:
            verbs.append(found[0])
            index = found[1]
            continue
        if tokens[index] not in ("and", "or") or not verbs:
            break
        index += 1
    if not verbs:
        return []
    if index < len(tokens) and tokens[index] in ("on", "to", "up"):  # "comment on a task"
        index += 1
    while index < len(tokens) and tokens[index] in _DETERMINERS:
        index += 1
    noun_words: list[str] = []
    while index < len(tokens) and len(noun_words) < 2:
        token = tokens[index]
        if token in _PHRASE_END or token in STOPWORDS or token.endswith("ly") or token.isdigit():
            break
        if noun_words and token.endswith(("ed", "ing")):  # "the board grouped by status"
            break
        noun_words.append(token)
        index += 1
    if not noun_words:
        return []
    noun = " ".join([*noun_words[:-1], singular(noun_words[-1])])
    rest = " ".join(tokens[index:])
    return [VerbObject(verb, VERB_OPERATIONS[verb], noun, rest) for verb in verbs]
