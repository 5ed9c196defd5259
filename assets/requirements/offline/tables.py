"""Rows of a requirements table, read by what their header says each column holds.

A feature table gives each row's requirement in one cell. With a header that names who does it and
what it holds ("| Feature | Who | Notes |"), a row is read as the sentence a person would say for
it: "Office staff can log a found item with a description, ...". Without one, the longest cell of
three or more words is the requirement, and a priority cell ("Must", "Low") or a later-release cell
("Phase 2", "Not now") says how much it is wanted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from assets.requirements.language import words
from assets.requirements.models import Priority

CELL_PRIORITIES: dict[str, Priority] = {
    "must": "Must", "must have": "Must", "high": "Must", "critical": "Must", "essential": "Must",
    "should": "Should", "should have": "Should", "medium": "Should",
    "could": "Could", "could have": "Could", "nice to have": "Could", "low": "Could",
    "won't": "Won't", "wont": "Won't", "won't have": "Won't",
}  # fmt: skip

# A cell that puts its row in a later release or out of scope ("Later", "Phase 2", "Not now").
_CELL_LATER = re.compile(
    r"^(?:later|future|phase\s*(?:[2-9]|two|three)|next (?:release|version)|v2|post[- ]mvp|not now"
    r"|out of scope|not in scope|backlog|someday)$",
    re.I,
)
# What a header cell says its column holds.
_ACTOR_HEADER = re.compile(
    r"^(?:who|by whom|for whom|role|roles|actor|actors|user|users|persona|for|by)$", re.I
)
_FEATURE_HEADER = re.compile(
    r"^(?:feature|features|requirement|requirements|story|capability|function|functionality|need|task|"
    r"action|what)$",
    re.I,
)
_NOTES_HEADER = re.compile(
    r"^(?:notes?|details?|fields?|data|comments?|remarks?|description|info|information"
    r"|what it (?:does|holds))$",
    re.I,
)
_SEPARATOR = re.compile(r"^:?-{2,}:?$")
_PREPOSITION = frozenset("by for per in on at from to with within via".split())
# A cell that is a clause of its own: "the claim records ...", "an item is handed over ...".
_CLAUSE = re.compile(
    r"^(?:(?:an?|the|each|every|its|their)\s+)?[a-z]+\s+(?:is|are|was|were|has|have|gets?|can|must|should|"
    r"will|[a-z]+s)\b",
    re.I,
)


@dataclass(frozen=True)
class TableRow:
    """A row read as a requirement: its text, the priority a cell states, why it is left out."""

    text: str
    priority: Priority | None = None
    later: str | None = None  # the reason, when a cell puts the row in a later release


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split(" | ") if cell.strip()]


@dataclass
class _Columns:
    actor: int
    feature: int
    notes: int | None


class TableReader:
    """Reads the rows of one table after another; `end()` when a line that is no row comes."""

    def __init__(self, starts_with_action: Callable[[str], bool]) -> None:
        self._starts_with_action = starts_with_action
        self._columns: _Columns | None = None
        self._in_table = False

    def end(self) -> None:
        self._columns, self._in_table = None, False

    def row(self, line: str) -> TableRow | None:
        """The row's requirement, or None for a header, a separator or a row of short values."""
        found = cells(line)
        first = not self._in_table
        self._in_table = True
        if found and all(_SEPARATOR.match(cell) for cell in found):
            return None
        if first:
            self._columns = _header_columns(found)
            if self._columns is not None:
                return None
        priority = next((CELL_PRIORITIES[c.lower()] for c in found if c.lower() in CELL_PRIORITIES), None)
        later = next((c for c in found if _CELL_LATER.match(c)), None)
        reason = f'marked "{later}" in its table row (a later phase, not this release)' if later else None
        columns = self._columns
        if columns is not None and max(columns.actor, columns.feature) < len(found):
            text = self._said(found, columns)
            return TableRow(text, priority, reason) if text else None
        texts = [c for c in found if len(c.split()) >= 3]
        if not texts:
            return None
        return TableRow(max(texts, key=len), priority, reason)

    def _said(self, found: list[str], columns: _Columns) -> str:
        """The row as one sentence: who can do the feature, with what the notes give."""
        actor, feature = found[columns.actor], found[columns.feature].rstrip(".")
        notes_at = columns.notes
        notes = found[notes_at].rstrip(".") if notes_at is not None and notes_at < len(found) else ""
        if not feature:
            return ""
        lowered = feature[:1].lower() + feature[1:]
        # "Monthly report" names what they see; "Log a found item" what they do.
        doing = self._starts_with_action(feature)
        head = f"{actor} can {lowered}" if doing else f"{actor} can see the {lowered}"
        if not notes:
            return head + "."
        tokens = words(notes)
        if tokens and tokens[0] in _PREPOSITION:
            return f"{head} {notes}."
        if "," in notes and not _CLAUSE.match(notes):
            return f"{head} with {notes}."
        return f"{head}: {notes}."


def _header_columns(found: list[str]) -> _Columns | None:
    """Where the actor, feature and notes columns are, when the header names an actor and a feature."""
    actor = next((i for i, cell in enumerate(found) if _ACTOR_HEADER.match(cell)), None)
    feature = next((i for i, cell in enumerate(found) if _FEATURE_HEADER.match(cell)), None)
    if actor is None or feature is None:
        return None
    notes = next(
        (i for i, cell in enumerate(found) if i not in (actor, feature) and _NOTES_HEADER.match(cell)), None
    )
    return _Columns(actor, feature, notes)


def as_sentences(lines: list[str], starts_with_action: Callable[[str], bool]) -> list[str]:
    """The lines with each table row read as its sentence, for rules that learn from the whole text
    (who the people are: "Bakers can find orders" names bakers where the row only had "Bakers")."""
    table = TableReader(starts_with_action)
    said: list[str] = []
    for line in lines:
        if " | " not in line:
            table.end()
            said.append(line)
            continue
        row = table.row(line)
        said.append(row.text if row else line)
    return said
