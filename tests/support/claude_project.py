"""A small Claude-built project for the code-generation tests: two stories about tasks, their
architecture, and valid model answers for each (the scripted Messages API server sends them)."""

from __future__ import annotations

from assets.architecture.models import (
    Architecture,
    Component,
    Entity,
    EntityField,
    StoryComponents,
    TechStack,
)
from assets.architecture.openapi import EntityOperation, render_openapi
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from tests.support.anthropic_server import RecordedRequest

UNITTEST = ["python", "-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v"]
BACKEND = {
    "name": "backend",
    "path": "backend",
    "kind": "backend",
    "runtime": "python",
    "test": UNITTEST,
    "start": ["python", "-m", "app", "--port", "{port}"],
    "health": "/api/health",
}
BACKEND_SPEC = {**BACKEND, "start": {"argv": BACKEND["start"]}}  # as the manifest holds it


def make_requirements() -> RequirementsSet:
    create = UserStory(
        id="US-1",
        title="Create a task",
        as_a="team member",
        i_want="to create a task with a title",
        so_that="the team sees the work",
        acceptance_criteria=[
            AcceptanceCriterion(
                id="AC1", given="an empty board", when="they create a task", then="it is listed"
            ),
            AcceptanceCriterion(
                id="AC2", given="the form", when="they create a task without a title", then="it is refused"
            ),
            AcceptanceCriterion(
                id="AC3", given="a new task", when="it is created", then="the owner is e-mailed"
            ),
        ],
    )
    delete = UserStory(
        id="US-2",
        title="Delete a task",
        as_a="team member",
        i_want="to delete a task",
        so_that="the board stays tidy",
        depends_on=["US-1"],
        acceptance_criteria=[
            AcceptanceCriterion(id="AC1", given="a task", when="they delete it", then="it is gone"),
        ],
    )
    return RequirementsSet(project="tasks", stories=[create, delete])


def make_architecture() -> Architecture:
    task = Entity(
        name="Task",
        fields=[
            EntityField(name="id", type="integer"),
            EntityField(name="title", type="string", required=True),
        ],
    )
    project = Entity(
        name="Project",
        fields=[
            EntityField(name="id", type="integer"),
            EntityField(name="name", type="string", required=True),
        ],
    )
    operations = {
        "Task": [
            EntityOperation(kind="list", story_ids=["US-1"]),
            EntityOperation(kind="create", story_ids=["US-1"]),
            EntityOperation(kind="delete", story_ids=["US-2"]),
        ],
        "Project": [EntityOperation(kind="list", story_ids=["US-9"])],
    }
    return Architecture(
        project="tasks",
        summary="A task board.",
        components=[
            Component(
                name="backend",
                kind="backend",
                description="the API",
                stack=TechStack(language="Python", framework="standard library"),
                path="backend/",
            ),
            Component(
                name="frontend",
                kind="frontend",
                description="the page",
                stack=TechStack(language="JavaScript", framework="none", hosting="netlify"),
                path="frontend/",
            ),
        ],
        openapi=render_openapi("tasks", [task, project], operations),
        data_model=[task, project],
        story_map=[
            StoryComponents(story_id="US-1", components=["backend"]),
            StoryComponents(story_id="US-2", components=["backend"]),
        ],
        repository_layout=["backend/", "frontend/"],
    )


TASKS_MODULE = '''"""Tasks kept in memory."""


class TaskStore:
    def __init__(self):
        self._tasks = []

    def create(self, title):
        if not title:
            raise ValueError("title is required")
        task = {"id": len(self._tasks) + 1, "title": title}
        self._tasks.append(task)
        return task

    def list(self):
        return list(self._tasks)
'''

US1_TESTS = '''"""Tests of US-1: Create a task."""

import unittest

from app.tasks import TaskStore


class TestUS1(unittest.TestCase):
    def test_us_1_ac1(self):
        """Covers: US-1 AC1. A created task is listed."""
        store = TaskStore()
        task = store.create("Write the report")
        self.assertEqual(store.list(), [task])

    def test_us_1_ac2(self):
        """Covers: US-1 AC2. A task without a title is refused and not stored."""
        store = TaskStore()
        with self.assertRaises(ValueError):
            store.create("")
        self.assertEqual(store.list(), [])
'''


def us1_answer(**overrides) -> dict:
    """A valid answer for US-1 on an empty tree."""
    answer = {
        "changes": [
            {"action": "create", "path": "backend/app/__init__.py", "content": ""},
            {"action": "create", "path": "backend/app/tasks.py", "content": TASKS_MODULE},
            {"action": "create", "path": "backend/tests/__init__.py", "content": ""},
            {"action": "create", "path": "backend/tests/test_us_1.py", "content": US1_TESTS},
        ],
        "covered_criteria": [
            {
                "criterion_id": "AC1",
                "test_file": "backend/tests/test_us_1.py",
                "test_name": "test_us_1_ac1",
                "behaviour": "a created task is listed",
            },
            {
                "criterion_id": "AC2",
                "test_file": "backend/tests/test_us_1.py",
                "test_name": "test_us_1_ac2",
                "behaviour": "a task without a title is refused",
            },
        ],
        "uncovered_criteria": [{"criterion_id": "AC3", "reason": "no mail service in the architecture"}],
        "components": [BACKEND],
        "operations": ["post /api/tasks", "GET /api/tasks"],
        "summary": "An in-memory task store with its tests.",
    }
    answer.update(overrides)
    return answer


def us2_answer(tree: dict[str, str]) -> dict:
    """A valid answer for US-2 on top of US-1's tree."""
    tasks = tree["backend/app/tasks.py"] + (
        "\n    def delete(self, task_id):\n"
        "        self._tasks = [task for task in self._tasks if task['id'] != task_id]\n"
    )
    tests = '''"""Tests of US-2."""

import unittest

from app.tasks import TaskStore


class TestUS2(unittest.TestCase):
    def test_us_2_ac1(self):
        """Covers: US-2 AC1. A deleted task is gone."""
        store = TaskStore()
        task = store.create("Old")
        store.delete(task["id"])
        self.assertEqual(store.list(), [])
'''
    return {
        "changes": [
            {"action": "replace", "path": "backend/app/tasks.py", "content": tasks},
            {"action": "create", "path": "backend/tests/test_us_2.py", "content": tests},
        ],
        "covered_criteria": [
            {
                "criterion_id": "AC1",
                "test_file": "backend/tests/test_us_2.py",
                "test_name": "test_us_2_ac1",
                "behaviour": "a deleted task is gone",
            }
        ],
        "uncovered_criteria": [],
        "components": [],
        "operations": ["DELETE /api/tasks/{id}"],
        "summary": "Tasks can be deleted.",
    }


def documents_of(request: RecordedRequest) -> dict[str, str]:
    """Document name -> text of the delimited document blocks of the first user turn."""
    out = {}
    for block in request.body["messages"][0]["content"]:
        text = block["text"]
        if text.startswith("<document name="):
            name = text.split('"', 2)[1]
            out[name] = text.split(">\n", 1)[1].rsplit("\n</document>", 1)[0]
    return out


def request_text(request: RecordedRequest) -> str:
    return request.body["messages"][0]["content"][-1]["text"]
