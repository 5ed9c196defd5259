"""Markdown for people: the tables the requirements and architecture assets show as metadata."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from assets.requirements.models import ExcludedStatement, RequirementsSet


def _cell(value: object) -> str:
    return " ".join(str(value).split()).replace("|", "\\|")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def stories_table(requirements: RequirementsSet) -> str:
    """Id, title, priority, criteria count, traces and dependencies of every story."""
    rows = [
        (
            story.id,
            story.title,
            story.priority,
            len(story.acceptance_criteria),
            "; ".join(f"{trace.document} @ {trace.location.describe()}" for trace in story.traces),
            ", ".join(story.depends_on) or "-",
        )
        for story in requirements.stories
    ]
    return markdown_table(["id", "title", "priority", "criteria", "traces", "depends on"], rows)


def excluded_table(excluded: Sequence[ExcludedStatement]) -> str:
    rows = [
        (statement.document, statement.location.describe(), statement.text[:160], statement.reason)
        for statement in excluded
    ]
    return markdown_table(["document", "where", "statement", "reason"], rows)
