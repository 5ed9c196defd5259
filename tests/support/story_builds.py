"""Instrumented forge and generator for story-build tests and benchmarks: they count what they do;
`dependents` names the stories a rebuild of one story must reach."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from assets.architecture.models import (
    Architecture,
    Component,
    Entity,
    EntityField,
    StoryComponents,
    TechStack,
)
from assets.architecture.openapi import render_openapi
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.build import StoryGenerator
from assets.story_builds.models import StoryChangeSet
from resources.forge import LocalForge
from resources.forge.base import ForgeError
from resources.llm.task import LlmUsage
from tests.support.anthropic_server import ScriptedResponse, error_body, message_body


def dependents(requirements: RequirementsSet, story_id: str) -> set[str]:
    """`story_id` and every story built on it, directly or not."""
    found = {story_id}
    grew = True
    while grew:
        grew = False
        for story in requirements.stories:
            if story.id not in found and found & set(story.depends_on):
                found.add(story.id)
                grew = True
    return found


class CountingForge(LocalForge):
    """A local forge that records its writes and can be told to fail the commits of some branches."""

    def model_post_init(self, context: object) -> None:
        super().model_post_init(context)
        object.__setattr__(self, "writes", [])
        object.__setattr__(self, "fail_branches", set())

    def commit_files(self, repo, branch, base, changes, message, author=None, trailers=None, date=None):  # type: ignore[no-untyped-def]
        if branch in self.fail_branches:
            raise ForgeError(f"simulated forge outage while writing {branch}")
        self.writes.append(("commit", branch))
        return super().commit_files(repo, branch, base, changes, message, author, trailers, date)

    def open_pull_request(self, repo, branch, base, title, body="", story_id=None):  # type: ignore[no-untyped-def]
        self.writes.append(("pull", branch))
        return super().open_pull_request(repo, branch, base, title, body, story_id)


def counting_generator(
    generator: StoryGenerator, calls: list[str], fail: frozenset[str] = frozenset()
) -> StoryGenerator:
    """`generator`, appending each story it is asked for to `calls`; stories in `fail` raise instead."""

    def generate(
        story_id: str, tree: Mapping[str, str], feedback: str | None
    ) -> tuple[StoryChangeSet, LlmUsage]:
        calls.append(story_id)
        if story_id in fail:
            raise ValueError("the model answered nonsense")
        return generator.generate(story_id, tree, feedback)

    return StoryGenerator(
        id=generator.id, generate=generate, finalize=generator.finalize, story_key=generator.story_key
    )


# ---------------------------------------------------------------------------------------------
# A scripted model for the closed loop: answers any story of `loop_project`, some wrongly first.

LOOP_BACKEND = {
    "name": "backend",
    "path": "backend",
    "kind": "worker",
    "runtime": "python",
    "test": ["python", "-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v"],
}


def loop_project(stories: int) -> tuple[RequirementsSet, Architecture]:
    """`stories` independent one-criterion stories and a one-component architecture."""
    requirements = RequirementsSet(
        project="bench-loop",
        stories=[
            UserStory(
                id=f"S-{index}",
                title=f"Value {index}",
                as_a="user",
                i_want=f"the value {index}",
                so_that="it is known",
                acceptance_criteria=[
                    AcceptanceCriterion(id="AC1", given="the app", when="asked", then=f"it answers {index}")
                ],
            )
            for index in range(stories)
        ],
    )
    note = Entity(name="Note", fields=[EntityField(name="id", type="integer")])
    architecture = Architecture(
        project="bench-loop",
        summary="Values.",
        components=[
            Component(
                name="backend",
                kind="backend",
                description="the values",
                stack=TechStack(language="Python", framework="standard library"),
                path="backend/",
            )
        ],
        openapi=render_openapi("bench-loop", [note], {}),
        data_model=[note],
        story_map=[
            StoryComponents(story_id=story.id, components=["backend"]) for story in requirements.stories
        ],
        repository_layout=["backend/"],
    )
    return requirements, architecture


class ScriptedStoryModel:
    """A `responder` for AnthropicServer: a change set for the story the request names. Stories in
    `failing` get a wrong first answer; those also in `stubborn` a wrong fix as well."""

    def __init__(self, requirements: RequirementsSet, failing: set[str], stubborn: set[str]):
        self.stories = {story.id for story in requirements.stories}
        self.failing = failing
        self.stubborn = stubborn

    def respond(self, request: Any) -> ScriptedResponse:
        text = request.body["messages"][0]["content"][-1]["text"]
        found = re.search(r"Implement story (\S+) \(", text)
        if found is None or found.group(1) not in self.stories:
            return ScriptedResponse(400, error_body("invalid_request_error", "no story named"))
        story_id = found.group(1)
        fixing = any(
            block["text"].startswith('<document name="test-output"')
            for block in request.body["messages"][0]["content"]
        )
        wrong = story_id in self.failing and (not fixing or story_id in self.stubborn)
        return ScriptedResponse(200, message_body(json.dumps(self.answer(story_id, wrong, fixing))))

    @staticmethod
    def answer(story_id: str, wrong: bool, fixing: bool) -> dict[str, Any]:
        index = int(story_id.split("-")[1])
        slug = f"s_{index}"
        module = f"def value():\n    return {index + 1 if wrong else index}\n"
        tests = (
            "import unittest\n\n"
            f"from app.{slug} import value\n\n\n"
            f"class Test{index}(unittest.TestCase):\n"
            f"    def test_{slug}_ac1(self):\n"
            f'        """Covers: {story_id} AC1"""\n'
            f"        self.assertEqual(value(), {index})\n"
        )
        if fixing:
            changes = [{"action": "replace", "path": f"backend/app/{slug}.py", "content": module}]
        else:
            changes = [
                {"action": "create", "path": "backend/app/__init__.py", "content": ""},
                {"action": "create", "path": f"backend/app/{slug}.py", "content": module},
                {"action": "create", "path": "backend/tests/__init__.py", "content": ""},
                {"action": "create", "path": f"backend/tests/test_{slug}.py", "content": tests},
            ]
        return {
            "changes": changes,
            "covered_criteria": [
                {
                    "criterion_id": "AC1",
                    "test_file": f"backend/tests/test_{slug}.py",
                    "test_name": f"test_{slug}_ac1",
                    "behaviour": "the value",
                }
            ],
            "uncovered_criteria": [],
            "components": [] if fixing else [LOOP_BACKEND],
            "operations": [],
            "summary": f"value {index}",
        }
