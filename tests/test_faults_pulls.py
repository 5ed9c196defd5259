"""Stale pull requests: a story rebuilt on a new base keeps its pull request, brought up to date."""

from __future__ import annotations

from pathlib import Path

from assets.story_builds.asset import offline_generator
from assets.story_builds.build import build_stories, story_branch
from resources.forge import LocalForge
from tests.support.story_builds import loop_project

PROJECT = "bench-loop"


def changed_files(forge: LocalForge, base: str, branch: str) -> set[str]:
    """The files a pull request of `branch` into `base` shows as changed."""
    before, after = forge.read_tree(PROJECT, base), forge.read_tree(PROJECT, branch)
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def test_a_story_rebuilt_on_its_new_dependency_gets_its_pull_requests_new_base_title_and_body(
    tmp_path: Path,
) -> None:
    requirements, architecture = loop_project(stories=3)
    forge = LocalForge(root=str(tmp_path / "forge"))
    first = build_stories(
        PROJECT, requirements, architecture, forge, offline_generator(architecture, requirements), None
    )
    before = {b.story_id: b for b in first.stories}
    assert before["S-1"].base_branch == "main"
    before_title = forge.get_pull_request(PROJECT, before["S-1"].pull_request or 0).title

    # A later document makes S-1 depend on S-0 and renames it: it is rebuilt on S-0's branch.
    stories = [
        story.model_copy(update={"depends_on": ["S-0"], "title": "Value 1, after value 0"})
        if story.id == "S-1"
        else story
        for story in requirements.stories
    ]
    changed = requirements.model_copy(update={"stories": stories})
    for story in changed.stories:
        story.content_hash = story.compute_hash()
    second = build_stories(
        PROJECT, changed, architecture, forge, offline_generator(architecture, changed), first
    )
    rebuilt = {b.story_id: b for b in second.stories}["S-1"]
    assert rebuilt.status == "built" and rebuilt.base_branch == story_branch("S-0")
    assert rebuilt.pull_request == before["S-1"].pull_request, "the same pull request, not a second one"

    pull = forge.get_pull_request(PROJECT, rebuilt.pull_request or 0)
    assert pull.base == story_branch("S-0")
    assert pull.head_sha == rebuilt.commit
    assert len(forge.list_pull_requests(PROJECT)) == 3
    # Its diff is the story's own change on top of its dependency, not S-0's files as well.
    assert changed_files(forge, pull.base, pull.branch) == set(rebuilt.files_changed)
    assert pull.title.startswith("S-1: Value 1, after value 0"), pull.title
    assert "Value 1, after value 0" not in before_title and "I want the value 1" in pull.body
