"""Feedback written as acceptance criteria: Given/When/Then in any casing and line layout.

"Given a board with tasks, when I open it, then the tasks are sorted by due date" and the same on
three lines ("GIVEN ...", "When ...", "then ...") are one criterion each; "And ..." lines stay with
the clause they follow; a then-clause ends at a blank line or a new sentence. What is left over is
free text.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory

REVIEW_CRITERION_PREFIX = "RF"  # review feedback: RF1, RF2, ... after the story's own criteria

_CRITERION = re.compile(
    r"\bgiven\b[\s:,]*(?P<given>.+?)[\s,;]*\bwhen\b[\s:,]*(?P<when>.+?)[\s,;]*\bthen\b[\s:,]*(?P<then>.+?)"
    # The then-clause ends at the next Given, a blank line, or a sentence that starts anew (not "And").
    r"(?=(?:[\s.;]|^)\bgiven\b|\n[ \t]*\n|\.\s+(?!(?:and|but)\b)[A-Z]|\.?\s*\Z)",
    re.IGNORECASE | re.DOTALL,
)
# A leading bullet or quote marker of a line: "- ", "* ", "> ", "1. ".
_MARKERS = re.compile(r"^\s*(?:[-*>]|\d+[.)])\s+", re.MULTILINE)


class SplitFeedback(BaseModel):
    """One feedback text split into the criteria it states and the rest."""

    criteria: list[tuple[str, str, str]]
    free_text: str


def _clause(text: str) -> str:
    return " ".join(text.split()).strip(" ,;:.")


def split_feedback(text: str) -> SplitFeedback:
    """The Given/When/Then criteria in `text` (each clause on one line, trimmed) and the free text
    around them (whitespace collapsed; empty when there is none)."""
    plain = _MARKERS.sub("", text)
    criteria: list[tuple[str, str, str]] = []
    rest: list[str] = []
    position = 0
    for match in _CRITERION.finditer(plain):
        clauses = tuple(_clause(match.group(name)) for name in ("given", "when", "then"))
        if all(clauses):
            criteria.append(clauses)  # type: ignore[arg-type]
            rest.append(plain[position : match.start()])
            position = match.end()
    rest.append(plain[position:])
    pieces = [" ".join(piece.split()).strip(" .,;:") for piece in rest]
    free = " ".join(piece for piece in pieces if any(ch.isalnum() for ch in piece))
    return SplitFeedback(criteria=criteria, free_text=free)


def review_criteria(story: UserStory, bodies: list[str]) -> list[AcceptanceCriterion]:
    """The criteria the feedback `bodies` state, as criteria of `story` (RF1, RF2, ... in the order
    they were written; one the story already has, word for word, is not added again)."""
    known = {(c.given.lower(), c.when.lower(), c.then.lower()) for c in story.acceptance_criteria}
    found: list[AcceptanceCriterion] = []
    for body in bodies:
        for given, when, then in split_feedback(body).criteria:
            if (given.lower(), when.lower(), then.lower()) in known:
                continue
            known.add((given.lower(), when.lower(), then.lower()))
            found.append(
                AcceptanceCriterion(
                    id=f"{REVIEW_CRITERION_PREFIX}{len(found) + 1}", given=given, when=when, then=then
                )
            )
    return found


def with_criteria(
    requirements: RequirementsSet, added: dict[str, list[AcceptanceCriterion]]
) -> RequirementsSet:
    """`requirements` with each story's `added` criteria after its own (its content hash follows)."""
    if not any(added.values()):
        return requirements
    stories = []
    for story in requirements.stories:
        extra = added.get(story.id) or []
        if extra:
            story = story.model_copy(update={"acceptance_criteria": [*story.acceptance_criteria, *extra]})
            story = story.model_copy(update={"content_hash": story.compute_hash()})
        stories.append(story)
    return requirements.model_copy(update={"stories": stories})
