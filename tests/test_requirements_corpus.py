"""The offline rules on real documents written outside this project (../shared/corpus).

The meeting IS1004b (AMI corpus: four people designing a TV remote control, 401 turns of real
speech) and two real backlogs (F. Dalpiaz's user-story data sets, every line tagged `#G04# `).
These files are read where they are, never copied; the tests skip when they are not on the machine.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assets.documents.parsing import parse_file
from assets.requirements.extraction import extract_offline
from assets.requirements.merge import merge_stories
from assets.requirements.models import RequirementsSet

CORPUS = next(
    (
        folder / "shared" / "corpus"
        for folder in Path(__file__).resolve().parents
        if (folder / "shared" / "corpus").is_dir()
    ),
    Path("shared/corpus"),
)
DANGLING = {"a", "an", "the", "to", "of", "and", "or", "with", "for", "at", "on", "in", "by", "from"}


def _requirements(path: Path) -> tuple[RequirementsSet, int]:
    if not path.exists():
        pytest.skip(f"{path} is not on this machine")
    [doc] = parse_file(path.name, path.read_bytes(), 10_000_000)
    extracted = extract_offline(doc)
    merged = merge_stories([((doc.path, "v1"), doc, extracted)], None, project="corpus")
    return merged, len(extracted.stories)


def test_the_real_meeting_gives_a_few_readable_stories_each_with_its_speaker() -> None:
    requirements, _ = _requirements(CORPUS / "meeting-transcript" / "IS1004b.txt")
    stories = requirements.stories
    assert 5 <= len(stories) <= 25, [s.title for s in stories]  # not the 85 garbled ones of before
    speakers = {"Project Manager", "Marketing", "User Interface", "Industrial Designer"}
    for story in stories:
        assert story.traces and all(trace.location.speaker in speakers for trace in story.traces)
        for text in (story.title, story.i_want):
            assert not re.search(r"\{|\b(?:um|uh|you know|I mean|mm-hmm)\b|_", text, re.I), text
            assert not re.search(r"\b(\w+) \1\b", text, re.I), text  # no repeated words
        assert story.title.split()[-1].lower() not in DANGLING, story.title
    titles = {story.title for story in stories}
    # Two things the team asks of the product in so many words.
    assert "Keep the buttons down to a minimum" in titles
    assert "Restrict the remote control to TV only" in titles


@pytest.mark.parametrize("name", ["g03-loudoun.txt", "g04-recycling.txt"])
def test_a_real_backlog_gives_every_story_with_its_role(name: str) -> None:
    path = CORPUS / "user-story-backlogs" / name
    requirements, drafts = _requirements(path)
    gold = json.loads(Path(f"{path}.gold.json").read_text())["stories"]
    assert drafts == len(gold)  # one draft per story line; the tag is never part of it
    roles = {re.match(r"As an? ([^,]+?),", story, re.I).group(1).lower() for story in gold}  # type: ignore[union-attr]
    found_roles = {story.as_a for story in requirements.stories}
    assert len(found_roles & {role.replace("the ", "") for role in roles}) >= len(roles) // 2
    for story in requirements.stories:
        assert "#G0" not in story.title and "#G0" not in story.i_want
        assert 2 <= len(story.title.split()) <= 10, story.title
        assert story.title.split()[-1].lower() not in DANGLING, story.title
