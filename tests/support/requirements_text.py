"""Helpers for tests that read requirement text written in the test: extract its stories offline
and find one by its words."""

from __future__ import annotations

from assets.documents.parsing import parse_file
from assets.requirements.extraction import extract_offline
from assets.requirements.merge import merge_stories
from assets.requirements.models import RequirementsSet, UserStory

LIMIT = 10_000_000


def extract(name: str, text: str, project: str = "written-here") -> RequirementsSet:
    """The merged stories of one document named `name` holding `text`."""
    documents = parse_file(name, text.encode(), LIMIT)
    return merge_stories(
        [((doc.path, "v1"), doc, extract_offline(doc)) for doc in documents], None, project=project
    )


def titles(requirements: RequirementsSet) -> list[str]:
    return [story.title for story in requirements.stories]


def having(requirements: RequirementsSet, *words: str) -> UserStory:
    """The one story whose title or want holds all `words`."""
    found = [
        story
        for story in requirements.stories
        if all(word in f"{story.title} {story.i_want}".lower() for word in words)
    ]
    assert len(found) == 1, (words, titles(requirements))
    return found[0]


def criteria_text(story: UserStory) -> str:
    return " | ".join(f"{c.given} / {c.when} / {c.then}" for c in story.acceptance_criteria)
