"""Done-when: a FastAPI + React project written through the scripted Claude server.

The model's answer lays down a FastAPI backend (pytest, installed from PyPI into its own virtualenv)
and a React frontend (react + react-dom from npm, tested with `node --test` on server-rendered
markup), proposing each component's commands as structured fields; the pipeline writes the
manifest, installs both components, runs their tests in the sandbox and only then commits the story.
Through the code location, story_builds then validations end with every check green: both
components installed and passing, the backend contract-checked with its own start command.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from assets.architecture.models import Architecture, Component, StoryComponents, TechStack
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.asset import ALL_BUILT_CHECK, model_generator
from assets.story_builds.build import build_stories, story_branch
from assets.story_builds.story_tests import sandbox_tester
from assets.validations.report import CONTRACT_CHECK, COVERAGE_CHECK, TESTS_CHECK
from pipeline_core.repository.manifest import read_manifest
from pipeline_core.settings import get_settings
from resources.forge import LocalForge
from tests.fixtures.components.trees import HERE as FIXTURES
from tests.fixtures.components.trees import TASKS_OPENAPI
from tests.support.anthropic_server import AnthropicServer
from tests.support.pipeline import PipelineHarness

pytestmark = pytest.mark.integration

PROJECT = "tasks"
BACKEND_TESTS = '''from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app)


def test_us_1_ac1():
    """Covers: US-1 AC1"""
    created = client.post("/api/tasks", json={"title": "Buy milk"})
    assert created.status_code == 201
    assert any(task["title"] == "Buy milk" for task in client.get("/api/tasks").json())
'''
PACKAGE_JSON = """{
  "name": "frontend",
  "version": "1.0.0",
  "private": true,
  "scripts": {"test": "node --test"},
  "dependencies": {"react": "18.3.1", "react-dom": "18.3.1"}
}
"""
TASK_LIST = """const React = require("react");

function TaskList({ tasks }) {
  return React.createElement(
    "ul",
    { className: "tasks" },
    tasks.map((task) => React.createElement("li", { key: task.id }, task.title))
  );
}

module.exports = { TaskList };
"""
FRONTEND_TESTS = """const test = require("node:test");
const assert = require("node:assert");
const React = require("react");
const { renderToStaticMarkup } = require("react-dom/server");
const { TaskList } = require("../src/TaskList");

test("test_us_1_ac2 the board lists the tasks", () => {
  // Covers: US-1 AC2
  const html = renderToStaticMarkup(React.createElement(TaskList, { tasks: [{ id: 1, title: "Buy milk" }] }));
  assert.match(html, /<li>Buy milk<\\/li>/);
});
"""


def stack_project() -> tuple[RequirementsSet, Architecture]:
    story = UserStory(
        id="US-1",
        title="See and add tasks",
        as_a="team member",
        i_want="to add a task and see it on the board",
        so_that="the team sees the work",
        acceptance_criteria=[
            AcceptanceCriterion(id="AC1", given="the API", when="a task is created", then="it is listed"),
            AcceptanceCriterion(id="AC2", given="tasks", when="the board is shown", then="each is listed"),
        ],
    )
    architecture = Architecture(
        project=PROJECT,
        summary="A task board: a FastAPI backend and a React frontend.",
        components=[
            Component(
                name="backend",
                kind="backend",
                description="the API",
                stack=TechStack(language="Python", framework="FastAPI"),
                path="backend/",
            ),
            Component(
                name="frontend",
                kind="frontend",
                description="the board",
                stack=TechStack(language="JavaScript", framework="React", hosting="netlify"),
                path="frontend/",
            ),
        ],
        openapi=TASKS_OPENAPI,
        data_model=[],
        story_map=[StoryComponents(story_id="US-1", components=["backend", "frontend"])],
        repository_layout=["backend/", "frontend/"],
    )
    return RequirementsSet(project=PROJECT, stories=[story]), architecture


def answer() -> dict:
    fastapi = FIXTURES / "fastapi_backend" / "backend"
    files = {
        "backend/requirements.txt": (fastapi / "requirements.txt").read_text(),
        "backend/app/__init__.py": "",
        "backend/app/main.py": (fastapi / "app" / "main.py").read_text(),
        "backend/tests/test_us_1.py": BACKEND_TESTS,
        "frontend/package.json": PACKAGE_JSON,
        "frontend/src/TaskList.js": TASK_LIST,
        "frontend/test/us1.test.js": FRONTEND_TESTS,
        "frontend/public/index.html": "<!doctype html><title>Tasks</title><div id=root></div>\n",
    }
    return {
        "changes": [{"action": "create", "path": path, "content": text} for path, text in files.items()],
        "covered_criteria": [
            {
                "criterion_id": "AC1",
                "test_file": "backend/tests/test_us_1.py",
                "test_name": "test_us_1_ac1",
                "behaviour": "a created task is listed by the API",
            },
            {
                "criterion_id": "AC2",
                "test_file": "frontend/test/us1.test.js",
                "test_name": "test_us_1_ac2",
                "behaviour": "the board renders every task",
            },
        ],
        "uncovered_criteria": [],
        "components": [
            {
                "name": "backend",
                "path": "backend",
                "kind": "backend",
                "runtime": "python",
                "install": ["pip", "install", "-r", "requirements.txt"],
                "test": ["python", "-m", "pytest", "-v"],
                "start": [
                    "python",
                    "-m",
                    "uvicorn",
                    "app.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "{port}",
                ],
                "health": "/health",
            },
            {
                "name": "frontend",
                "path": "frontend",
                "kind": "frontend",
                "runtime": "node",
                "install": ["npm", "install", "--no-audit", "--no-fund"],
                "test": ["npm", "test"],
                "publish_dir": "frontend/public",
            },
        ],
        "operations": ["GET /api/tasks", "POST /api/tasks"],
        "summary": "FastAPI tasks API and a React task list.",
    }


@pytest.fixture(scope="module")
def install_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One install cache for this module: FastAPI and React install from the registries once."""
    return tmp_path_factory.mktemp("install-cache")


def test_a_fastapi_and_react_story_is_installed_tested_and_committed(
    anthropic_server: AnthropicServer, tmp_path: Path, install_cache: Path
) -> None:
    anthropic_server.enqueue_json_answer(answer())
    requirements, architecture = stack_project()
    forge = LocalForge(root=str(tmp_path / "forge"))
    tester = sandbox_tester(workdir_parent=tmp_path, cache_dir=install_cache)
    llm = anthropic_server.llm(tmp_path / "llm")
    generator = model_generator(llm, architecture, requirements, tester=tester, max_rounds=2)

    value = build_stories(PROJECT, requirements, architecture, forge, generator, None)

    [build] = value.stories
    assert build.status == "built", build.reason
    assert build.rounds == 1 and len(anthropic_server.requests) == 1
    tree = {path: data.decode() for path, data in forge.read_tree(PROJECT, build.commit or "").items()}
    manifest = read_manifest(tree)
    assert manifest is not None
    assert {(c.name, c.runtime, c.kind) for c in manifest.components} == {
        ("backend", "python", "backend"),
        ("frontend", "node", "frontend"),
    }
    backend = manifest.component("backend")
    assert backend is not None and backend.start is not None and backend.start.command(8123)[-1] == "8123"
    assert forge.branch_head(PROJECT, story_branch("US-1")) == build.commit
    # Both components install from the registries and pass in the sandbox on the committed tree.
    run = tester(tree, manifest, ["backend", "frontend"])
    assert run.ok, run.report()
    assert [item.status for item in run.components] == ["passed", "passed"]


def test_the_fastapi_and_react_project_passes_every_check_through_the_code_location(
    anthropic_server: AnthropicServer, tmp_path: Path, install_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("PIPELINE_INSTALL_CACHE_DIR", str(install_cache))
    get_settings.cache_clear()
    anthropic_server.enqueue_json_answer(answer())
    requirements, architecture = stack_project()
    settings = anthropic_server.pipeline_settings(tmp_path / "var")
    try:
        with dg.instance_for_test() as instance:
            harness = PipelineHarness.create(settings, instance)
            harness.put_design(PROJECT, requirements, architecture)
            result = harness.defs.resolve_job_def("project_pipeline").execute_in_process(
                partition_key=PROJECT,
                instance=instance,
                asset_selection=[dg.AssetKey("story_builds"), dg.AssetKey("validations")],
                raise_on_error=False,
            )
            checks = {
                evaluation.check_name: (evaluation.passed, evaluation.metadata)
                for evaluation in result.get_asset_check_evaluations()
            }
    finally:
        get_settings.cache_clear()
    assert set(checks) == {ALL_BUILT_CHECK, TESTS_CHECK, CONTRACT_CHECK, COVERAGE_CHECK}
    failed = {name: metadata for name, (passed, metadata) in checks.items() if not passed}
    assert failed == {}
    assert result.success
    # Both components' tests ran (one each), every criterion is covered, and the backend served
    # the contract's operations when started by its own manifest command.
    assert checks[TESTS_CHECK][1]["passed"].value == 2
    assert checks[COVERAGE_CHECK][1]["uncovered"].value == 0
    assert checks[CONTRACT_CHECK][1]["operations_checked"].value >= 3
    assert checks[CONTRACT_CHECK][1]["requests"].value > 0
    assert len(anthropic_server.requests) == 1
