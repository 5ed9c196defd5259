"""The wording of acceptance criteria: the phrases the planning rules look for, and small readers of
them (stems, whether a text names a field, the action verb of a clause).

Rules come from the grammar of criteria ("without a X", "at most", "by X", "cannot"), never from the
nouns of a particular project.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache

import snowballstemmer

from assets.architecture.models import Entity
from assets.requirements.language import VerbObject, singular, verb_objects, words
from assets.story_builds.offline.names import split_pascal

# Needs the templates do not build, found in a criterion's When/Then: (pattern, reason). A match that
# names something of the data model (a field, a state, a transition) is not such a need.
UNSUPPORTED_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"\b(?:sign(?:s|ed|ing)?[- ]?(?:in|out|up)|log(?:s|ged|ging)?[- ]?(?:in|out)|passwords?|"
            r"authenticat\w*|authori[sz]\w*|permissions?|private|credentials?|two-factor|2fa|"
            r"only (?:the|an?) (?:author|owner|admin\w*|creator|manager))\b"
        ),
        "needs authentication or access control, which the offline templates do not implement",
    ),
    (
        re.compile(
            r"\bwithin\s+(?:a|an|one|two|three|five|ten|\d+)?\s*(?:milliseconds?|ms|seconds?|minutes?|hours?|days?)\b"
            r"|\b(?:latency|response times?|performance|per second|uptime|load)\b"
        ),
        "sets a time or performance limit, which the generated functional tests do not measure",
    ),
    (
        re.compile(
            r"\b(?:notif\w*|sends?|sent|sms|push messages?|reminders?|remind\w*|alerts?|e-?mail(?:s|ed)? "
            r"(?:to|about)|"
            r"e-?mailed|receives? an? e-?mail)\b"
        ),
        "needs notifications or messages sent to people, which the offline templates do not implement",
    ),
    (
        re.compile(
            r"\b(?:csv|pdf|excel|xlsx?|export\w*|import\w*|download\w*|upload\w*|attach\w*|files?|photos?|images?)\b"
        ),
        "needs reading or writing files (export, import, attachments), which the offline templates lack",
    ),
    (
        re.compile(
            r"\b(?:dark mode|light mode|themes?|colou?rs?|fonts?|animations?|drag(?:s|ged|ging)?|drop|"
            r"responsive|mobile|offline|keyboard shortcuts?|screen readers?|accessib\w*|charts?|graphs?|"
            r"highlight\w*|pages? loads?|scroll\w*|click\w*|maps?)\b"
        ),
        "is about how the user interface looks or behaves in a browser, which API tests cannot check",
    ),
    (
        re.compile(
            r"\b(?:real[- ]time|live|instantly|automatically|concurrent\w*|at the same time|sync\w*|"
            r"every (?:day|week|month|hour|morning|night)|daily|weekly|monthly|overdue|expir\w*)\b"
        ),
        "needs real-time, scheduled or automatic behaviour, which the offline templates do not implement",
    ),
    (
        re.compile(
            r"\b(?:history|audit\w*|undo|previous versions?|version history|versioning|revert\w*|restor\w*|"
            r"trash)\b"
        ),
        "needs a history or audit trail, which the offline templates do not implement",
    ),
    (
        re.compile(r"\b(?:payments?|pays?|checkout|invoic\w*|card|refund\w*|billing|subscri\w*)\b"),
        "needs payments or billing, which the offline templates do not implement",
    ),
    (
        re.compile(
            r"\b(?:calendar|slack|github|google|integrat\w*|third[- ]party|webhooks?|share\w*|invit\w*|"
            r"translat\w*|language)\b"
        ),
        "needs an external service or sharing with other people, which the offline templates do not "
        "integrate",
    ),
]
# Rules stated in a criterion that no part of the data model carries: reasons once nothing matched.
SOFT_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"\b(?:totals?|sums?|averages?|counts?|statistics|dashboards?|summar\w*)\b"
            r"|\breports\b(?! (?:a|an|the) )|\b(?:a|the|an|monthly|weekly|daily) report\b"
        ),
        "needs computed figures that the data model defines no summary for",
    ),
    (
        re.compile(
            r"\b(?:at (?:least|most)|more than|fewer than|less than|up to|maximum|minimum|limit(?:s|ed)?|"
            r"unique|duplicates?)\b"
        ),
        "sets a numeric or uniqueness rule that the data model does not carry",
    ),
    (
        re.compile(
            r"\b(?:cannot|can't|can not|not allowed|forbidden|prevent\w*|blocked|denied|only "
            r"(?:the|an?|their|his|her|if|when|once))\b"
        ),
        "forbids an action by a business rule that the data model does not carry",
    ),
    (
        re.compile(
            r"\b(?:does not|do not|doesn't|don't|no longer|never|hidden|hides?|clutter\w*|disappears?|"
            r"not (?:shown|listed|visible))\b"
        ),
        "hides or excludes items by a domain rule that the data model does not carry",
    ),
]
ERROR_WORDS = re.compile(
    r"\b(?:errors?|rejected|refused|refuses?|invalid|warn\w*|not "
    r"(?:saved|created|accepted|stored|added|allowed)|"
    r"cannot|can't|fails?|message)\b"
)
MISSING = re.compile(
    r"\b(?:without|missing|no|empty|blank|leaves? out|omits?)\s+(?:a |an |the |any |its )?([a-z][a-z ]*)"
)
INVALID = re.compile(
    r"\b(?:(?:does not|doesn't|do not|don't) exist|invalid|negative|wrong|bad|malformed|unknown|"
    r"non-?existent|too long|too large|too small|"
    r"above|below|over|under|out of range|not (?:a )?valid)\b"
)
SUBJECT = re.compile(r"^(?:they|he|she|we|i|you|the user|a user|users?)\s+", re.IGNORECASE)
SEARCH_WORDS = re.compile(
    r"\b(?:search\w*|keywords?|text|find\w*|look(?:s|ing)? (?:for|up)|contain\w*|match\w*)\b"
)
SORT_WORDS = re.compile(
    r"\b(?:sort\w*|order(?:ed)? by|in order|newest|oldest|highest|lowest|earliest|latest)\b"
)
SUMMARY_WORDS = re.compile(
    r"\b(?:totals?|sums?|averages?|counts?|how many|number of|reports?|statistics|dashboards?|summar\w*|per|"
    r"breakdown|overview|value of)\b"
)
# "per client", "for each agent", "by status": what figures are broken down by, or a list filtered by.
GROUPING = re.compile(
    r"\b(?:per|for each|for every|by|each)\s+(?:(?:the|a|an|its|their|his|her)\s+)?([a-z]+)"
)
LIMIT_WORDS = re.compile(
    r"\b(?:at most|no more than|more than|maximum|limit\w*|up to|exceed\w*|too many|full|already has)\b"
)
UNIQUE_WORDS = re.compile(
    r"\b(?:unique|duplicate\w*|already (?:exists?|used|taken|registered)|same|twice|again)\b"
)
REFERENCED_WORDS = re.compile(
    r"\b(?:still|in use|referenc\w*|linked|belong\w*|has|have|with (?:open |existing "
    r")?\w+s|attached|assigned)\b"
)
# An outcome that is a refusal: a test of the operation succeeding would claim the opposite.
REFUSED_OUTCOME = re.compile(
    r"\b(?:errors?|rejected|refused|refuses?|not (?:saved|created|accepted|stored|added|allowed)|"
    r"cannot|can't|can not|not possible|blocked|prevented)\b"
)
REFUSE_WORDS = re.compile(
    r"\b(?:cannot|can't|can not|not allowed|refused|rejected|prevent\w*|blocked|only|unless|until|before|"
    r"error|fails?|not possible)\b"
)

VERB_FIELDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("assign", "reassign"), ("assignee", "assigned_to", "assignee_id", "owner", "owner_id")),
    "archive": ("archived", "is_archived", "status"),
    **dict.fromkeys(("complete", "mark"), ("completed", "done", "is_done", "status")),
    **dict.fromkeys(("close", "reopen"), ("closed", "is_closed", "status")),
    "rename": ("name", "title"),
    "move": ("status", "column", "position", "project_id"),
    "schedule": ("due_date", "scheduled_at", "scheduled_for", "date", "start"),
    **dict.fromkeys(("tag", "label"), ("tags", "tag", "labels", "label")),
    **dict.fromkeys(("prioritise", "prioritize"), ("priority",)),
}


# "let a lead assign a bug", "allow members to comment": the action is the second verb.
ENABLING = re.compile(
    r"^(?:let|lets|allow|allows|enable|enables|help|helps)\s+(?:(?:any|a|an|the|all|every|each|our|my)\s+)?"
    r"(?:[a-z]+\s+){0,2}?(?:to\s+)?(?=[a-z]+\b)",
    re.I,
)


def action_clause(clause: str) -> str:
    """The clause from its action verb on, the verb as written: "let a lead book a desk" -> "book a desk"."""
    clause = clause.strip()
    rest = ENABLING.sub("", clause, count=1)
    if rest != clause:
        for cut in range(0, 4):  # skip the person ("a lead", "team members") up to a known verb
            tail = re.sub(r"^to\s+", "", " ".join(rest.split()[cut:]))
            if verb_objects("to " + tail):
                return tail
    return clause


def clause(text: str) -> str:
    return SUBJECT.sub("", text.strip().rstrip("."))


# A Snowball stemmer keeps its working state in the instance, and stories are built on several
# threads: one stemmer per thread (the shared one in `language.stem` fails under concurrent use).
_LOCAL = threading.local()


@lru_cache(maxsize=65536)
def stem_word(word: str) -> str:
    base = singular(word) or word
    if not base:
        return ""
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        stemmer = _LOCAL.stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord(singular(base))


def stems(text: str) -> list[str]:
    return [stem_word(word) for word in words(text)]


def mentions(text: str, name: str) -> bool:
    """True if `text` names `name` ("due date" for due_date, "statuses" for status, "shipped" for ship)."""
    wanted = stems(name.replace("_", " "))
    have = stems(text)
    if wanted and wanted[-1] == "id" and len(wanted) > 1:  # "supplier" names supplier_id
        wanted = wanted[:-1]
    return bool(wanted) and any(have[i : i + len(wanted)] == wanted for i in range(len(have)))


def entity_for_noun(noun: str, entities: Sequence[Entity]) -> Entity | None:
    wanted = [singular(word) for word in words(noun)]
    if not wanted:
        return None
    for entity in entities:
        if [singular(part) for part in split_pascal(entity.name)] == wanted:
            return entity
    for entity in entities:  # "support ticket" ~ Ticket
        if singular(split_pascal(entity.name)[-1]) == wanted[-1]:
            return entity
    return None


def action_entity(verb: str, target: Entity | None, entities: Sequence[Entity]) -> Entity | None:
    """The entity whose records the verb's action makes, named after the verb and referring to what
    it acts on: "book a desk" makes a Booking of the Desk, "reserve a room" a Reservation."""
    stem = stem_word(verb)
    for entity in entities:
        parts = split_pascal(entity.name)
        if entity is target or len(parts) != 1 or stem_word(parts[0]) != stem:
            continue
        refers = any(
            field.type == "reference" and field.references == target.name
            for field in entity.fields
            if target is not None
        )
        if target is None or refers:
            return entity
    return None


def verb_entity(found: VerbObject, entities: Sequence[Entity]) -> Entity | None:
    if found.verb == "comment":  # "comment on a task" creates a Comment
        return entity_for_noun("comment", entities) or entity_for_noun(found.noun, entities)
    target = entity_for_noun(found.noun, entities)
    if found.operation == "create":
        return action_entity(found.verb, target, entities) or target
    return target
