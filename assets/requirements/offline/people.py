"""Who acts in a story: the people a document names, and the actor a phrase stands for.

A word is a person where the text uses it as one (a role position, the subject of a modal or of a
verb only people do); outside a document the shape of the word (an agent noun) is all there is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from assets.requirements.language import PERSON_WORDS, singular, third_person, words
from assets.requirements.offline.phrasing import (
    BREAK_WORDS,
    DETERMINERS,
    END_WORDS,
    NUMBER_WORDS,
    POSSESSIVES,
    SYSTEM_WORDS,
    is_verb,
)

AGENT_SUFFIXES = ("er", "or", "ist", "ant", "ent", "ian", "ee")

# A subject never starts with a preposition or a quantifier phrase.
_NOT_SUBJECT_STARTS = frozenset(
    "for to of at in on by with from about as than per into over under after before".split()
)
_NOT_AGENTS = frozenset(
    """order number letter paper water filter folder header footer register counter marker server browser
    computer printer scanner container timer scheduler controller router player parameter calendar
    cover corner border matter power sender pointer poster sticker trailer banner chapter winter summer
    monitor sensor vendor error door floor color colour factor sector vector mirror indicator calculator
    editor tutor event content payment comment document element agent client segment component student
    department reminder newsletter voucher ledger mower heater freezer charger answer""".split()
)
# Agent-like words that are people after all.
_AGENTS = frozenset("editor tutor agent client student vendor".split())


def looks_like_person(phrase: str) -> bool:
    """A phrase naming people: a known role word, or an agent noun ("clerk", "organiser", "trainer")."""
    tokens = [word for word in words(phrase) if word not in DETERMINERS and word not in POSSESSIVES]
    if not tokens or any(token in SYSTEM_WORDS for token in tokens[-1:]):
        return False
    if named_role(phrase):
        return True
    if words(phrase)[0] in _NOT_SUBJECT_STARTS or any(t.isdigit() or t in NUMBER_WORDS for t in tokens):
        return False  # "for the trustees", "at most three", "80% of staff": not someone who acts
    head = singular(tokens[-1])
    if head in PERSON_WORDS or head in _AGENTS:
        return True
    people = _PEOPLE.get()
    agent_like = head.endswith(AGENT_SUFFIXES) and head not in _NOT_AGENTS and len(head) > 4
    if people is None:  # no document around the phrase: the word's shape is all there is
        return agent_like
    # In a document, a word is a person only where the text uses it as one; its suffix is not enough
    # ("the enlarger", "a dryer" are things).
    return head in people.named or (agent_like and head in people.acting)


# Verbs whose doer is a person: a plural subject of one of them names people ("Stewards log
# incidents", "Secretaries add plots"), even when the noun is no known role word.
PERSON_VERBS = frozenset(
    """see view book add create record log edit update delete search filter find sign apply request
    assign approve reject cancel buy sell pay rate review vote suggest join attend register upload
    download export print check write post submit enter browse share comment reply plan schedule
    borrow lend order invite""".split()
)


# What only a person does (a device records, logs, sends or prints too): the present-tense subject
# of one of these is a person.
_PEOPLES_VERBS = frozenset(
    """see view browse search filter find book buy pay sign apply request approve reject cancel rate
    review vote suggest join attend borrow lend invite choose pick decide assign mark register comment
    reply share plan bring visit arrive want wish prefer agree""".split()
)
_PEOPLES_VERB_FORMS = "|".join(sorted({third_person(verb) for verb in _PEOPLES_VERBS}))


class People:
    """The words a document uses as people: `named` in a role position, `acting` as the subject of a
    modal ("printers can ..."), which counts for words shaped like agent nouns only."""

    def __init__(self, named: frozenset[str], acting: frozenset[str], roles: dict[str, str] | None = None):
        self.named, self.acting = named, acting
        self.roles = roles or {}  # a person's first name -> the role the text gives them


_PEOPLE: ContextVar[People | None] = ContextVar("document_people", default=None)
_NOUN = r"(?<![\w'’])([A-Za-z][\w-]*)"
# "As a darkroom member, ...", "Members want ...", "the treasurer would like ...", "Roles: ...".
_NAMED_AS_PERSON = (
    re.compile(rf"\bas an?\s+(?:[\w-]+\s+){{0,2}}?{_NOUN}\s*,?\s*(?:I|we)\s", re.I),
    re.compile(
        rf"\b{_NOUN}\s+(?:also\s+|really\s+|often\s+)?(?:wants?|would (?:like|love)|wish(?:es)?"
        r"|asked for|requested)\b",
        re.I,
    ),
    # "remind the borrower", "notify each tenant": whom a message goes to
    re.compile(
        r"\b(?:remind|notify|email|e-mail|alert|tell|inform|invite|thank|warn|text|phone)s?\s+"
        rf"(?:the|a|an|each|every|all|our|their)\s+(?:[\w-]+\s+)?{_NOUN}\b",
        re.I,
    ),
    # "gardeners who cut lawns": "who" speaks of people
    re.compile(rf"\b{_NOUN}\s+who\s+(?!is\b|are\b)", re.I),
    # "lets owners keep track", "helps busy households look after": whom the product serves
    re.compile(rf"\b(?:lets|allows|enables|helps|permits)\s+(?:[\w-]+\s+)?{_NOUN}\s+(?:to\s+)?[a-z]+", re.I),
)
_ROLE_LIST = re.compile(
    r"^\W*(?:roles|users|actors|user roles|personas|who uses it)\s*[:-]\s*(?P<list>.+)$", re.I | re.M
)
_ACTING = (
    re.compile(
        rf"\b{_NOUN}\s+(?:can|could|should|must|shall|will|may|needs? to|has to|have to|(?:is|are) able to)"
        r"\s+(?:also\s+|then\s+|now\s+)?"
        r"(?:be able to\s+)?[a-z]+",
        re.I,
    ),
    # "the coordinator sees ...", "the fixer marks it": the subject of what only people do
    re.compile(rf"\b{_NOUN}\s+(?:also\s+|then\s+|now\s+|just\s+|only\s+)?(?:{_PEOPLES_VERB_FORMS})\b", re.I),
    # "the treasurer needs a report": who needs a thing (counts for agent-shaped words only, so
    # "each berth needs a number" names no person)
    re.compile(rf"\b{_NOUN}\s+(?:also\s+|really\s+)?needs?\s+(?:an?|the|some|more)\s", re.I),
    # "must be approved by the harbour master": the doer of a passive
    re.compile(
        r"\b(?:be|been|is|are)\s+[a-z]+(?:ed|en|t)\s+(?:(?:in|out|up|off|over|back)\s+)?by\s+"
        rf"(?:the|a|an|each|every|any|our|their)\s+(?:[\w-]+\s+)?{_NOUN}",
        re.I,
    ),
    # "Could section leaders mark ...?": the question form
    re.compile(
        rf"\b(?:can|could|should|shall)\s+(?:the\s+)?(?:[\w-]+\s+)?{_NOUN}\s+(?:also\s+)?[a-z]+\b[^.?!]*\?",
        re.I,
    ),
)


# "Present: Ruth (librarian), Owen": a person named with their role.
_NAME_ROLE = re.compile(r"\b(?P<name>[A-Z][a-z]+)\s*\((?:our\s+|the\s+)?(?P<role>[a-z][a-z -]{2,30}?)\)")


def document_people(text: str) -> People:
    """The words `text` uses as people (the last word of each role phrase, singular)."""
    named = {singular(m.group(1).lower()) for pattern in _NAMED_AS_PERSON for m in pattern.finditer(text)}
    for listing in _ROLE_LIST.finditer(text):
        named |= {
            singular(w)
            for w in re.findall(r"[A-Za-z][\w-]*(?=\s*(?:,|;|\.|\band\b|\bor\b|$|\())", listing["list"])
        }
    acting = {singular(m.group(1).lower()) for pattern in _ACTING for m in pattern.finditer(text)}
    blocked = (
        SYSTEM_WORDS
        | DETERMINERS
        | POSSESSIVES
        | END_WORDS
        | BREAK_WORDS
        | NUMBER_WORDS
        | {"i", "we", "you", "they", "he", "she", "who", "them", "us", "me", "him", "it", "one", "also"}
    )
    # A word that is not a noun of a role: a verb's base form ("know who"), an adverb, a contraction.
    named = {
        w for w in named if len(w) > 2 and not w.endswith("ly") and (w in PERSON_WORDS or not is_verb(w))
    }
    acting = {w for w in acting if len(w) > 2 and not w.endswith("ly")}
    roles = {
        match["name"].lower(): actor_of(match["role"])
        for match in _NAME_ROLE.finditer(text)
        if len(match["role"].split()) <= 3
    }
    return People(frozenset(named - blocked - _NOT_NAMES), frozenset(acting - blocked - _NOT_NAMES), roles)


def named_role(phrase: str) -> str | None:
    """The role of a person the document names with one ("Ruth" -> "librarian"), else None."""
    people = _PEOPLE.get()
    tokens = words(phrase)
    if people is None or len(tokens) != 1:
        return None
    return people.roles.get(tokens[0])


_NOT_NAMES = frozenset("gonna wanna gotta know thing things something anything everything nothing".split())


@contextmanager
def people_of(text: str) -> Iterator[People]:
    """Within this block, `looks_like_person` takes a suffix-shaped word for a person only where
    `text` uses it as one."""
    people = document_people(text)
    token = _PEOPLE.set(people)
    try:
        yield people
    finally:
        _PEOPLE.reset(token)


def actor_of(phrase: str) -> str:
    """ "Warehouse clerks" -> "warehouse clerk"; "the fleet manager" -> "fleet manager"."""
    tokens = [
        w
        for w in words(phrase)
        if w not in DETERMINERS and w not in POSSESSIVES and w not in ("only", "also", "other")
    ]
    if not tokens:
        return "user"
    role = named_role(phrase)
    if role:
        return role
    return " ".join([*tokens[:-1], singular(tokens[-1])])
