"""Building the offline application story by story, outside Dagster, for the offline generator's tests.

`build_all` generates every story in build order over the real stage logic's inputs and keeps the
tree after each story; `acme_inputs` are the example project's requirements and offline design;
`notes_design` a small hand-made design (PUT updates, a validation criterion, an uncovered rule);
`sandbox_tests` runs one component's generated tests in the sandbox.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from assets.architecture.design import build_architecture, design_offline
from assets.architecture.models import (
    Architecture,
    Component,
    Entity,
    EntityField,
    StoryComponents,
    TechStack,
)
from assets.architecture.openapi import EntityOperation, render_openapi
from assets.requirements.extraction import extract_offline
from assets.requirements.merge import merge_stories
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.models import StoryChangeSet, apply_changes
from assets.story_builds.offline import component_tests, generate_story_changes, plan_build_order
from assets.validations.sandbox import SandboxResult, run_tests_in_sandbox
from tests.support.acme import acme_parsed


@dataclass
class Build:
    requirements: RequirementsSet
    architecture: Architecture
    order: list[str]
    change_sets: list[StoryChangeSet]
    trees: list[dict[str, str]]  # the tree after each story

    @property
    def tree(self) -> dict[str, str]:
        return self.trees[-1]

    def story(self, want_prefix: str) -> UserStory:
        return next(story for story in self.requirements.stories if story.i_want.startswith(want_prefix))

    def change(self, story_id: str) -> StoryChangeSet:
        return next(change for change in self.change_sets if change.story_id == story_id)


def stdlib_components() -> list[Component]:
    """The offline templates' two components: a stdlib Python backend and a plain JavaScript page."""
    return [
        Component(
            name="backend",
            kind="backend",
            description="API",
            path="backend/",
            stack=TechStack(language="Python", framework="stdlib"),
        ),
        Component(
            name="frontend",
            kind="frontend",
            description="UI",
            path="frontend/",
            stack=TechStack(language="JavaScript", framework="none"),
        ),
    ]


def build_all(requirements: RequirementsSet, architecture: Architecture) -> Build:
    order = [story for layer in plan_build_order(requirements) for story in layer]
    tree: dict[str, str] = {}
    change_sets, trees = [], []
    for story_id in order:
        change = generate_story_changes(architecture, requirements, story_id, tree)
        tree = apply_changes(tree, change.files)
        change_sets.append(change)
        trees.append(tree)
    return Build(requirements, architecture, order, change_sets, trees)


def acme_inputs() -> tuple[RequirementsSet, Architecture]:
    documents = acme_parsed()
    requirements = merge_stories(
        [(ref, doc, extract_offline(doc)) for ref, doc in documents], None, project="acme-tasks"
    )
    return requirements, build_architecture(requirements, design_offline(requirements))


def sandbox_tests(tree: dict[str, str], component: str, tmp_path: Path) -> SandboxResult:
    [(name, folder, argv)] = [
        entry for entry in component_tests(tree, python=sys.executable) if entry[0] == component
    ]
    return run_tests_in_sandbox(tree, argv, timeout_s=120, workdir_parent=tmp_path, cwd=folder)


def notes_design() -> tuple[RequirementsSet, Architecture]:
    def criterion(cid: str, when: str, then: str) -> AcceptanceCriterion:
        return AcceptanceCriterion(id=cid, given="a user", when=when, then=then)

    stories = [
        UserStory(
            id="US-note01",
            title="Write a note",
            as_a="user",
            i_want="to write a note with a title and a body",
            so_that="I remember things",
            acceptance_criteria=[
                criterion("AC1", "they save a note with a title and a body", "the note is listed"),
                criterion("AC2", "they submit a note without a title", "they see an error"),
                criterion("AC3", "they save a note", "only the author can read it"),
            ],
        ),
        UserStory(
            id="US-note02",
            title="Rename a note",
            as_a="user",
            i_want="to rename a note",
            so_that="titles stay accurate",
            depends_on=["US-note01"],
            acceptance_criteria=[criterion("AC1", "they rename a note", "the new title is shown")],
        ),
        UserStory(
            id="US-note03",
            title="Open a note",
            as_a="user",
            i_want="to open a note",
            so_that="I can read it",
            depends_on=["US-note01"],
            acceptance_criteria=[criterion("AC1", "they open a note", "they see its body")],
        ),
        UserStory(
            id="US-note04",
            title="Filter notes",
            as_a="user",
            i_want="to filter notes by pinned and stars",
            so_that="I find the important ones",
            depends_on=["US-note01"],
            acceptance_criteria=[
                criterion("AC1", "they filter notes by pinned and stars", "they see the matches")
            ],
        ),
    ]
    requirements = RequirementsSet(project="notes", stories=stories)
    note = Entity(
        name="Note",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="title", type="string", required=True),
            EntityField(name="body", type="string"),
            EntityField(name="pinned", type="boolean"),
            EntityField(name="stars", type="number"),
            EntityField(name="remind_at", type="datetime"),
        ],
    )
    document = render_openapi(
        "Notes API",
        [note],
        {
            "Note": [
                EntityOperation(kind="create", story_ids=["US-note01"]),
                EntityOperation(
                    kind="list", story_ids=["US-note01", "US-note04"], parameters=["pinned", "stars"]
                ),
                EntityOperation(kind="read", story_ids=["US-note03"]),
                EntityOperation(kind="update", story_ids=["US-note02"]),
            ]
        },
    )
    # This contract replaces (PUT) instead of patching.
    item = document["paths"]["/api/notes/{id}"]
    item["put"] = item.pop("patch")
    architecture = Architecture(
        project="notes",
        summary="Notes for one person.",
        components=stdlib_components(),
        openapi=document,
        data_model=[note],
        story_map=[
            StoryComponents(story_id=story.id, components=["backend", "frontend"]) for story in stories
        ],
    )
    return requirements, architecture
