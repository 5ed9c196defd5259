"""The one-line brief a new user types first ("Build a React todo application with add, edit, delete
functionality"): the generated application, started as a user would start it, used over HTTP."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
from tests.support.acme import plain_parse
from tests.support.offline_build import Build, build_all, sandbox_tests

BRIEF = "Build a React todo application with add, edit, delete functionality\n"


@contextmanager
def started(tree: dict[str, str], folder: Path) -> Iterator[Any]:
    """The backend of `tree` written to `folder` and started by its manifest's start command."""
    for path, text in tree.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    [backend] = [
        c for c in json.loads(tree[".ai-pipeline/manifest.json"])["components"] if c["kind"] == "backend"
    ]
    argv = [
        sys.executable if part == "python" else part.replace("{port}", "0")
        for part in backend["start"]["argv"]
    ]
    env = {"PATH": "/usr/bin:/bin", "DATABASE_PATH": str(folder / "todo.sqlite3")}
    process = subprocess.Popen(argv, cwd=folder / backend["path"], stdout=subprocess.PIPE, text=True, env=env)
    port = int(process.stdout.readline().rsplit(":", 1)[1])  # type: ignore[union-attr]

    def api(method: str, path: str, body: Any = None, raw: bool = False) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            data = None if body is None else json.dumps(body).encode()
            connection.request(method, path, body=data, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            data_in = response.read()
        finally:
            connection.close()
        if raw:
            return response.status, data_in.decode()
        return response.status, (json.loads(data_in) if data_in else None)

    try:
        yield api
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]


def use_todos(build: Build, folder: Path) -> None:
    """What a user of the todo app does: add, list, edit, delete, and get a refusal for a bad todo."""
    todo = next(entity for entity in build.architecture.data_model if entity.name.lower().startswith("todo"))
    required = [f for f in todo.fields if f.required and f.name != "id" and f.type in ("string", "text")]
    title = (
        required[0].name if required else next(f.name for f in todo.fields if f.type in ("string", "text"))
    )
    served = {label for change in build.change_sets for label in change.operations}
    collection = next(
        label.split(" ", 1)[1] for label in served if label.startswith("POST ") and "{" not in label
    )
    for wanted in (
        f"GET {collection}",
        f"POST {collection}",
        f"PATCH {collection}/{{id}}",
        f"DELETE {collection}/{{id}}",
    ):
        assert wanted in served, (wanted, served)
    with started(build.tree, folder) as api:
        status, milk = api("POST", collection, {title: "Buy milk"})
        assert status == 201 and milk[title] == "Buy milk"
        status, bread = api("POST", collection, {title: "Bake bread"})
        assert status == 201
        assert api("GET", collection) == (200, [milk, bread])
        status, edited = api("PATCH", f"{collection}/{milk['id']}", {title: "Buy oat milk"})
        assert status == 200 and edited[title] == "Buy oat milk"
        assert api("DELETE", f"{collection}/{bread['id']}") == (204, None)
        assert api("GET", collection) == (200, [edited])
        status, error = api("POST", collection, {title: 12})
        assert status == 422 and title in error["detail"]
        if required:
            status, error = api("POST", collection, {})
            assert status == 422 and title in error["detail"]
        assert api("DELETE", f"{collection}/{bread['id']}")[0] == 404
        status, page = api("GET", "/", raw=True)  # the backend serves the frontend too
        assert status == 200
        assert f'data-resource="{todo.name}"' in page


def test_the_brief_through_the_offline_stages(tmp_path: Path) -> None:
    document = plain_parse("brief.md", BRIEF.encode())
    requirements = merge_stories(
        [(("brief.md", "v1"), document, extract_offline(document))], None, project="todo"
    )
    architecture = build_architecture(requirements, design_offline(requirements))
    assert any(entity.name.lower().startswith("todo") for entity in architecture.data_model), (
        "the offline requirements/architecture rules draw no Todo entity from the brief "
        f"({len(requirements.stories)} stories, entities {[e.name for e in architecture.data_model]})"
    )
    build = build_all(requirements, architecture)
    use_todos(build, tmp_path / "app")
    backend = sandbox_tests(build.tree, "backend", tmp_path)
    assert backend.ok, backend.stderr_tail
    # every criterion drawn from the brief (add, edit, delete, list) has a test, and it passed
    every = {(story.id, c.id) for story in requirements.stories for c in story.acceptance_criteria}
    covered = {
        (i.story_id, i.criterion_id): i.test.name for c in build.change_sets for i in c.covered_criteria
    }
    assert set(covered) == every
    passed = {test.name for test in backend.tests if test.status == "passed"}
    assert set(covered.values()) <= passed


def todo_design() -> tuple[RequirementsSet, Architecture]:
    """The brief as a person reads it: a Todo with a title, added, edited, deleted and listed."""
    story = UserStory(
        id="US-todo",
        title="Manage todos",
        as_a="user",
        i_want="to add, edit and delete todos",
        so_that="I keep track of what to do",
        acceptance_criteria=[
            AcceptanceCriterion(
                id="AC1", given="a user", when="they add a todo with a title", then="it is listed"
            ),
            AcceptanceCriterion(
                id="AC2", given="a todo", when="they edit its title", then="the new title is shown"
            ),
            AcceptanceCriterion(id="AC3", given="a todo", when="they delete the todo", then="it is gone"),
            AcceptanceCriterion(
                id="AC4", given="a user", when="they add a todo without a title", then="they see an error"
            ),
        ],
    )
    todo = Entity(
        name="Todo",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="title", type="string", required=True, max_length=200),
            EntityField(name="done", type="boolean", default=False),
        ],
    )
    kinds = ("list", "create", "read", "update", "delete")
    document = render_openapi(
        "Todo API", [todo], {"Todo": [EntityOperation(kind=k, story_ids=["US-todo"]) for k in kinds]}
    )
    components = [
        Component(
            name="frontend",
            kind="frontend",
            description="UI",
            path="frontend/",
            stack=TechStack(language="TypeScript", framework="React"),
        ),
        Component(
            name="backend",
            kind="backend",
            description="API",
            path="backend/",
            stack=TechStack(language="Python", framework="FastAPI"),
        ),
    ]
    architecture = Architecture(
        project="todo",
        summary="A todo application.",
        components=components,
        openapi=document,
        data_model=[todo],
        story_map=[StoryComponents(story_id="US-todo", components=["backend", "frontend"])],
    )
    return RequirementsSet(project="todo", stories=[story]), architecture


def test_a_todo_design_gives_an_app_a_user_can_use(tmp_path: Path) -> None:
    build = build_all(*todo_design())
    [change] = build.change_sets
    assert {item.criterion_id for item in change.covered_criteria} == {"AC1", "AC2", "AC3", "AC4"}
    use_todos(build, tmp_path / "app")
    backend = sandbox_tests(build.tree, "backend", tmp_path)
    assert backend.ok, backend.stderr_tail
    assert {"test_us_todo_ac1", "test_us_todo_ac2", "test_us_todo_ac3", "test_us_todo_ac4"} <= {
        test.name for test in backend.tests if test.status == "passed"
    }
    # the README says the architecture asked for React and FastAPI and what was generated instead
    assert "React" in build.tree["README.md"] and "standard library" in build.tree["README.md"]
