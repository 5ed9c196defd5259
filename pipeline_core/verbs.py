"""What a verb does to the thing it names: the one verb table the requirements, architecture and
story_builds stages read.

"add a task" makes a record, "look up a book" reads one, "approve a request" moves one to another
state, "keep track of expenses" manages them. The stages used to keep a table each and disagreed
("store", "track", "reserve" made records in one and were unknown in another), so a story said one
thing and the data model or the generated app another. The table here is about English verbs in
general, never about the words of one document.

Multi-word verbs ("set up", "look up", "keep track of") are known by one token joined with "_"
("set_up"); `verb_at` reads them from a token list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

VerbKind = Literal[
    "create", "read", "list", "search", "filter", "sort", "update", "delete", "manage", "state"
]
# The coarse operation on a record a verb stands for (the CRUD of an API contract).
Operation = Literal["create", "read", "list", "update", "delete"]

_VERBS_OF_KIND: dict[VerbKind, str] = {
    # "comment" makes a Comment attached to its object; "register"/"book"/"reserve" a record of the act.
    "create": """create add submit post write register upload import record log enter book make save
        store capture insert input raise place plan set_up define invite enrol enroll subscribe vote
        reserve rsvp sign_up report suggest propose request file lodge nominate apply comment""",
    "read": "view see open show display read check get access inspect look_up",
    "list": "list browse export download print",
    "search": "search find",
    "filter": "filter",
    "sort": "sort order group",
    "update": """edit update change rename modify correct adjust move tag label prioritise prioritize
        assign reassign rate reorder reschedule schedule""",
    "delete": "delete remove discard erase",
    # Managing things is keeping records of them: all of create, read, update and delete.
    "manage": """manage maintain administer track organise organize keep_track_of keep look_after
        take_care_of""",
    # Verbs that move a record from one state to another ("ship an order", "close a ticket").
    "state": """ship deliver publish unpublish approve reject archive unarchive restore close reopen
        complete finish cancel resolve confirm accept decline pay return borrow activate deactivate
        suspend block unblock lock unlock mark start""",
}
VERB_KINDS: dict[str, VerbKind] = {
    verb: kind for kind, verbs in _VERBS_OF_KIND.items() for verb in verbs.split()
}

# Multi-word verbs by their words, longest first (so "keep track of" wins over "keep").
PHRASAL_VERBS: dict[tuple[str, ...], str] = {
    tuple(verb.split("_")): verb
    for verb in sorted((v for v in VERB_KINDS if "_" in v), key=lambda v: -v.count("_"))
}

_OPERATION_OF_KIND: dict[VerbKind, Operation] = {
    "create": "create",
    "read": "read",
    "list": "list",
    "search": "list",
    "filter": "list",
    "sort": "list",
    "update": "update",
    "delete": "delete",
    "manage": "create",  # managing things starts with recording one
    "state": "update",  # a state change is a change of the record
}


# Each verb's coarse operation ("track" -> create, "approve" -> update, "search" -> list).
VERB_OPERATIONS: dict[str, Operation] = {verb: _OPERATION_OF_KIND[kind] for verb, kind in VERB_KINDS.items()}


def _key(verb: str) -> str:
    return "_".join(verb.lower().split())


def verb_kind(verb: str) -> VerbKind | None:
    """What `verb` (its base form; a multi-word verb with spaces or "_") does to its object."""
    return VERB_KINDS.get(_key(verb))


def is_verb(verb: str) -> bool:
    """True if `verb` (base form) is a verb of the table."""
    return _key(verb) in VERB_KINDS


def operation(verb: str) -> Operation | None:
    """The coarse operation on a record `verb` (base form) stands for: "track" -> create,
    "approve" -> update, "search" -> list; None for a verb of no record operation."""
    return VERB_OPERATIONS.get(_key(verb))


def makes_records(verb: str) -> bool:
    """True if `verb` (base form) makes a record of its object ("record", "book", "keep track of")."""
    return operation(verb) == "create"


def verb_at(tokens: Sequence[str], index: int) -> tuple[str, int] | None:
    """The verb of the table at `tokens[index]` (lowercase words, base form) and the index after
    it: a multi-word verb first ("set", "up" -> set_up), then one word."""
    for words, verb in PHRASAL_VERBS.items():
        if tuple(tokens[index : index + len(words)]) == words:
            return verb, index + len(words)
    if index < len(tokens) and tokens[index] in VERB_KINDS:
        return tokens[index], index + 1
    return None
