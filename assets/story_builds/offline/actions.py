"""The action of an acceptance criterion: its verb read as an operation on an entity of the data model.

A criterion is covered only by a test of the operation its verb names. "they log time against a
client" names a create of TimeEntry, "they look up a book by its title" a search of the Book list,
"the app shows the total per client" a figure (a summary), "another book is added" a create (the
passive), "they keep a list of clients with ..." a create of Client. A verb that names no operation
of the model ("the app turns time entries into an invoice", "they print the receipt") reads as
`other`: no generic CRUD test may claim such a criterion.

The reading is grammar only (verb lemmas, determiners, "a list of X", "with <fields>", "by X"), never
the nouns of a particular project; entities are matched by name through `wording.verb_entity`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lemminflect import getAllLemmas, getLemma

from assets.architecture.models import Entity
from assets.requirements.language import VerbObject, verb_objects, words
from assets.story_builds.offline.wording import (
    SEARCH_WORDS,
    VERB_FIELDS,
    action_clause,
    clause,
    mentions,
    verb_entity,
)
from pipeline_core.verbs import VERB_OPERATIONS, is_verb, verb_kind

# create/read/update/delete/list: that operation on `entity`; view: the verb shows something that is
# no record (figures, "how full each class was"); other: a verb that names no operation of the model;
# none: the clause has no verb to read.
ActionKind = Literal["create", "read", "update", "delete", "list", "view", "other", "none"]

# A when-clause naming no action of its own: the then-clause says what happens.
GENERIC_WHEN = re.compile(
    r"^(?:(?:use|uses|open|opens|visit|visits|go to|goes to|look at|looks at|load|loads|launch|launches|"
    r"start|starts|check|checks)\s+(?:the|a|an|their|his|her|my|our)?\s*"
    r"(?:app|application|site|website|web site|page|screen|list|dashboard|system|tool|home ?page|portal)s?"
    r"|(?:log|logs|sign|signs) (?:in|on))$"
)
# The subject and auxiliaries of a then-clause ("the app shows", "they can see").
THEN_SUBJECT = re.compile(
    r"^(?:(?:the|this)\s+(?:app|application|system|site|website|page|screen|tool|list|dashboard)|it|they|he|"
    r"she|we|i|you|the user|users?)\s+(?:can\s+|will\s+|should\s+|must\s+|(?:is|are)\s+able\s+to\s+)?"
)
TRYING = re.compile(r"^(?:try|tries|tried|attempt|attempts|attempted|want|wants)\s+to\s+")
# "keep a list of clients", "maintain a register of members": records of the things are made.
KEEPING = re.compile(
    r"^(?:(?:keep|keeps|maintain|maintains|track|tracks|manage|manages|build|builds)\s+"
    r"(?:a|an|the|their|his|her|my|our)?\s*(?:list|catalogue|catalog|record|register|log|directory|"
    r"inventory|database|table|collection|profile|card|details)s?\s+(?:of|for)\s+"
    r"|(?:keep|keeps|kept|keeping)\s+(?:a\s+)?(?:track|record|note)\s+of\s+)"
)
# "see the list of overdue loans", "open an overview of the bookings": the records themselves.
CONTAINER = re.compile(
    r"^(?:a|an|the|their|his|her|my|our)?\s*(?:list|catalogue|catalog|register|directory|inventory|table|"
    r"overview|board|feed|index)\s+of\s+"
)
# "a product's price", "the members' names": the owner is the object, the rest one of its values.
POSSESSIVE = re.compile(r"^((?:(?:a|an|the|their|his|her|my|our|this|that)\s+)?[a-z]+)(?:'s|s')\s+", re.I)
# A relative clause with its own subject ends the object: "the books we've read", "boats they own".
RELATIVE = re.compile(r"\s(?:that\s+|which\s+)?(?:we|they|i|you|he|she)(?:'\w+|\s)", re.I)
# Verbs that look records up; "by X" then names the filter.
LOOKUP = re.compile(
    r"^(?:look(?:s|ed|ing)?\s+(?:up|for|through)|search(?:es|ed|ing)?(?:\s+for)?|find|finds|found|filter"
    r"(?:s|ed)?|browse[sd]?|query|queries)\b\s*"
)
# Verbs that show something: records when their object is an entity, figures otherwise.
SHOW_VERBS = frozenset("see view show display read check get open review watch look".split())
DETERMINERS = frozenset("a an the another new each every any one their his her my our this that".split())
# Verbs that work out figures: a summary, whatever their object.
FIGURE_VERBS = frozenset(
    "count calculate compute total sum summarise summarize compare tally measure".split()
)
# Verbs of listing that no list of records shows: "print the receipt" makes a sheet, "order a meal"
# buys one as often as it sorts a list.
UNLISTED_VERBS = frozenset("print order".split())
# Verbs that put a new thing forward: a record of it is made ("suggest a book", "propose a walk").
PROPOSE_VERBS = frozenset("suggest propose nominate".split())
# Verbs that say the app has a kind of record ("the app offers subjects", "it supports
# assignments"): records of it are kept, so creating one is what a test exercises.
OFFER_VERBS = frozenset("offer provide support include".split())
# Verbs that give a record a value: "give each ticket a priority", "set the boat's seats".
VALUE_VERBS = frozenset("give set change".split())
# A passive clause: "another book is added", "the loan gets returned".
PASSIVE = re.compile(
    r"^(?:(?:a|an|the|another|new|each|every|any|one|their|his|her|my|our)\s+)?(?P<noun>[a-z][a-z ]*?)\s+"
    r"(?:is|are|was|were|gets|get|got|has been|have been|will be)\s+(?P<verb>[a-z]+)\b(?P<rest>.*)$"
)


@dataclass(frozen=True)
class Action:
    """What a criterion's verb does: an operation (`kind`) on `entity`, as read from `clause`."""

    kind: ActionKind
    verb: str = ""  # the verb's lemma as written ("book", "turn")
    noun: str = ""  # its object as written, singular ("place", "time entry")
    entity: str | None = None  # the entity of the data model it acts on, if the object names one
    rest: str = ""  # the words after the object ("to an agent", "by status")
    clause: str = ""  # the clause the action was read from
    search: bool = False  # the verb looks records up ("look up", "search", "filter", "find")

    @property
    def changes(self) -> bool:
        return self.kind in ("create", "update", "delete")

    def phrase(self) -> str:
        return " ".join(part for part in (self.verb, self.noun) if part)


def lemma(word: str) -> str:
    found = getLemma(word, upos="VERB")
    return found[0] if found else word


def _participle(word: str) -> bool:
    """True for a past participle ("added", "sent", "kept"), not an adjective ("full", "open")."""
    return lemma(word) != word or word.endswith("ed")


def _verb_kind(verb: str) -> ActionKind:
    if verb in PROPOSE_VERBS or verb in OFFER_VERBS:
        return "create"
    if verb in FIGURE_VERBS:
        return "view"
    if verb in VALUE_VERBS:
        return "update"
    if verb in SHOW_VERBS:
        return "read"
    if verb in UNLISTED_VERBS:
        return "other"
    if verb_kind(verb) == "state" and verb not in VERB_FIELDS:
        # "approve a request", "ship an order": only the model's transition shows the change, an
        # edit of some other field would not ("mark", "close" name the fields they set).
        return "other"
    # "capture a decision", "manage ordinances", "assign a bug": the operation the verb stands for,
    # as the data model reads it (managing things starts with recording one).
    return VERB_OPERATIONS.get(verb, "other")


def _object(verb: str, tail: str) -> tuple[str, str]:
    """The object noun and the words after it, read as if `verb` were a known one."""
    tail = re.split(r"[:;(]| - ", tail, maxsplit=1)[0]  # "a catalogue of books: title, author"
    tail = RELATIVE.split(tail, maxsplit=1)[0]  # "the books we've read": the books
    tail = POSSESSIVE.sub(r"\1 of its ", tail, count=1)  # "a product's price": the product, its price
    found = verb_objects(f"to check {tail}")
    return (found[0].noun, found[0].rest) if found else ("", tail)


def _entity(verb: str, kind: ActionKind, noun: str, rest: str, entities: Sequence[Entity]) -> str | None:
    if not noun:
        return None
    operation = kind if kind in ("create", "read", "update", "delete", "list") else "read"
    found = verb_entity(VerbObject(verb, operation, noun, rest), entities)  # type: ignore[arg-type]
    return found.name if found else None


def read_clause(text: str, entities: Sequence[Entity]) -> Action:
    """The action of one clause ("let a lead assign a bug to a developer" -> update Bug)."""
    text = clause(text).lower().strip()
    text = action_clause(TRYING.sub("", text))
    text = TRYING.sub("", text)
    tokens = words(text)
    if not tokens:
        return Action("none", clause=text)
    keeping = KEEPING.match(text)
    if keeping:
        noun, rest = _object("create", text[keeping.end() :])
        verb = lemma(tokens[0])
        return Action("create", verb, noun, _entity("create", "create", noun, rest, entities), rest, text)
    lookup = LOOKUP.match(text)
    if lookup:
        noun, rest = _object("find", text[lookup.end() :])
        return Action(
            "list", lemma(tokens[0]), noun, _entity("find", "list", noun, rest, entities), rest, text, True
        )
    passive = PASSIVE.match(text)
    subject = tokens[0] in DETERMINERS or (not is_verb(tokens[0]) and lemma(tokens[0]) not in SHOW_VERBS)
    if passive and subject and len(words(passive.group("noun"))) <= 3 and _participle(passive.group("verb")):
        verb = lemma(passive.group("verb"))  # "another book is added", "the loan gets returned"
        kind = _verb_kind(verb)
        noun = " ".join(words(passive.group("noun"))[-2:])
        rest = passive.group("rest").strip()
        return Action(kind, verb, noun, _entity(verb, kind, noun, rest, entities), rest, text)
    if tokens[0] in DETERMINERS:  # a subject noun first: "a member books a class"
        for cut in (2, 3):  # the subject's noun words, then a verb of the model's operations
            verb = lemma(tokens[cut]) if len(tokens) > cut else ""
            if is_verb(verb) or verb in SHOW_VERBS:
                return read_clause(" ".join([verb, *text.split()[cut + 1 :]]), entities)
        return Action("none", clause=text)
    verb = lemma(tokens[0])
    if verb in ("be", "have", "do") or "VERB" not in getAllLemmas(tokens[0]):  # "nothing happens"
        return Action("none", clause=text)
    kind = _verb_kind(verb)
    tail = " ".join(text.split()[1:])
    if tail.startswith(("up ", "on ", "to ", "at ")) and kind == "read":  # "look at", "check on"
        tail = tail[3:]
    container = CONTAINER.match(tail)
    if container and kind in ("read", "list"):
        noun, rest = _object(verb, tail[container.end() :])
        return Action("list", verb, noun, _entity(verb, "list", noun, rest, entities), rest, text)
    noun, rest = _object(verb, tail)
    entity = _entity(verb, kind, noun, rest, entities)
    if kind == "read":
        if entity is None:
            return Action("view", verb, noun, None, rest, text)
        if _names_fields(rest, entities, entity):  # "open a ticket with a subject and a description"
            return Action("create", verb, noun, entity, rest, text)
    search = kind == "list" and (verb in ("search", "find", "filter") or bool(SEARCH_WORDS.search(text)))
    return Action(kind, verb, noun, entity, rest, text, search)


def _names_fields(rest: str, entities: Sequence[Entity], entity: str) -> bool:
    """True if `rest` gives the record values: "with a subject, a description and their email"."""
    if not rest.startswith("with "):
        return False
    found = next((item for item in entities if item.name == entity), None)
    return found is not None and any(
        mentions(rest, field.name) for field in found.fields if field.name != "id"
    )


def read_action(when: str, then: str, entities: Sequence[Entity]) -> Action:
    """The action of a criterion: its when-clause's verb, or, when that clause names no action of
    its own ("they use the app", "they open the page"), what its then-clause says happens."""
    action = read_clause(when, entities)
    generic = GENERIC_WHEN.match(action.clause or "")
    if action.kind not in ("none",) and not generic:
        return action
    said = THEN_SUBJECT.sub("", clause(then).lower().strip())
    from_then = read_clause(said, entities)
    if not generic:  # no verb at all ("the class is full"): an outcome that names an operation, or none
        return from_then if from_then.kind not in ("other", "none") else Action("none", clause=action.clause)
    if from_then.kind == "none":
        return Action("view", action.verb, action.noun, None, action.rest, action.clause)
    return from_then
