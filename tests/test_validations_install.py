"""Installing, testing and starting components as CI would: an own environment per component, the
registry reachable only while installing, a cache keyed by the dependency files, failures not
cached; the contract check starts a FastAPI and an Express backend by their manifest start argv.

The FastAPI and Express fixtures install from PyPI and npm once per test session (one shared
cache folder); the other tests use components with nothing to download.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.models import CoveredCriterion, StoryChangeSet, TestRef
from assets.validations.backend_check import check_backend_contract
from assets.validations.components import install_and_test
from assets.validations.coverage import coverage_report, story_report
from assets.validations.install import install_component, install_key, registry_env
from assets.validations.sandbox import namespace_support
from assets.validations.tracing import trace_tests
from pipeline_core.repository.manifest import MANIFEST_PATH, ComponentSpec, Manifest, render_manifest
from tests.fixtures.components.trees import EXPRESS, FASTAPI, TASKS_OPENAPI, express_tree, fastapi_tree
from tests.support.listener import greeting_listener

ISOLATED, WHY_NOT = namespace_support()
needs_namespaces = pytest.mark.skipif(not ISOLATED, reason=WHY_NOT)


@pytest.fixture(scope="session")
def install_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One install cache for the whole session: each registry fixture installs once."""
    return tmp_path_factory.mktemp("install-cache")


def with_manifest(tree: dict[str, str], *components: ComponentSpec) -> dict[str, str]:
    manifest = Manifest(generator="test-1", project="demo", components=list(components))
    return {**tree, MANIFEST_PATH: render_manifest(manifest)}


def python_component(install: list[str], test: list[str], name: str = "app") -> ComponentSpec:
    return ComponentSpec(name=name, path=name, kind="worker", runtime="python", install=install, test=test)


@pytest.mark.integration
def test_a_fastapi_backend_installs_from_pypi_once_and_its_pytest_suite_passes(install_cache: Path) -> None:
    tree = fastapi_tree()
    manifest = Manifest.model_validate_json(tree[MANIFEST_PATH])

    first = install_and_test(tree, manifest, cache_dir=install_cache)
    [backend] = first.components
    assert first.ok, first.output()
    assert backend.install is not None and backend.install.status in ("installed", "cached")
    assert {test.name: test.status for test in backend.tests} == {
        "test_us_1_ac1_a_created_task_is_listed": "passed",
        "test_us_1_ac2_a_task_without_title_is_refused": "passed",
    }
    assert backend.run is not None and backend.run.network_isolated == ISOLATED

    started = time.monotonic()
    again = install_and_test(tree, manifest, cache_dir=install_cache)
    assert again.ok and again.components[0].install.status == "cached"
    assert time.monotonic() - started < 30


@pytest.mark.integration
def test_an_express_backend_installs_from_npm_once_and_its_node_tests_pass(install_cache: Path) -> None:
    tree = express_tree()
    manifest = Manifest.model_validate_json(tree[MANIFEST_PATH])

    result = install_and_test(tree, manifest, cache_dir=install_cache)
    [api] = result.components
    assert result.ok, result.output()
    assert {test.name: test.status for test in api.tests} == {
        "test_us_1_ac1 a created task is listed": "passed",
        "test_us_1_ac2 a task without title is refused": "passed",
    }
    assert (Path(api.install.environment) / "node_modules" / "express" / "package.json").is_file()

    # The JavaScript tests trace to their criteria by the covering-test rules, and their outcomes
    # (reported by title) count for the criteria they cover.
    traced = trace_tests(tree, [("api", "api")])
    assert {(t.story_id, t.criterion_id, t.name, t.problem) for t in traced} == {
        ("US-1", "AC1", "test_us_1_ac1", None),
        ("US-1", "AC2", "test_us_1_ac2", None),
    }
    criterion = [AcceptanceCriterion(id=c, given="g", when="w", then="t") for c in ("AC1", "AC2")]
    story = UserStory(id="US-1", title="t", as_a="a", i_want="b", so_that="c", acceptance_criteria=criterion)
    change = StoryChangeSet(
        story_id="US-1",
        message="US-1",
        covered_criteria=[
            CoveredCriterion(
                story_id=t.story_id,
                criterion_id=t.criterion_id,
                test=TestRef(component="api", file=t.file, name=t.name),
                behaviour="b",
            )
            for t in traced
        ],
    )
    requirements = RequirementsSet(project="tasks", stories=[story])
    coverage = coverage_report(requirements, [change], {"api": api})
    assert [(item.criterion_id, item.status) for item in coverage] == [("AC1", "passed"), ("AC2", "passed")]
    [per_story] = story_report(requirements, [change], {"api": api})
    assert per_story.status == "passed" and len(per_story.passed) == 2

    again = install_and_test(tree, manifest, cache_dir=install_cache)
    assert again.components[0].install.status == "cached"


def test_the_cache_key_follows_the_dependency_files_only(tmp_path: Path) -> None:
    component = python_component(["pip", "install", "-r", "requirements.txt"], ["python", "-m", "unittest"])
    tree = {"app/requirements.txt": "six\n", "app/main.py": "print(1)\n"}

    assert install_key({**tree, "app/main.py": "print(2)\n"}, component) == install_key(tree, component)
    assert install_key({**tree, "app/requirements.txt": "six==1.16\n"}, component) != install_key(
        tree, component
    )
    assert install_key({**tree, "app/requirements-dev.txt": "x\n"}, component) != install_key(tree, component)
    other = component.model_copy(update={"install": ["pip", "install", "six"]})
    assert install_key(tree, other) != install_key(tree, component)


def test_a_failed_install_is_reported_with_its_output_and_not_cached(tmp_path: Path) -> None:
    # pip refuses the malformed requirement before it asks any index: no download needed.
    component = python_component(["pip", "install", "-r", "requirements.txt"], ["python", "-c", "pass"])
    tree = with_manifest({"app/requirements.txt": "this is === not a requirement\n"}, component)
    manifest = Manifest.model_validate_json(tree[MANIFEST_PATH])

    result = install_and_test(tree, manifest, cache_dir=tmp_path / "cache", timeout_s=60)
    [app] = result.components
    assert not result.ok and app.status == "install_failed" and app.run is None
    assert app.install is not None and app.install.status == "failed"
    assert "requirement" in app.install.output_tail.lower()
    assert "install pip install -r requirements.txt failed" in result.output()
    assert not any((tmp_path / "cache" / "python").iterdir())  # nothing kept

    again = install_and_test(tree, manifest, cache_dir=tmp_path / "cache", timeout_s=60)
    assert again.components[0].install.status == "failed"  # tried again, not served from a cache


def test_a_component_with_nothing_to_install_gets_a_clean_interpreter(tmp_path: Path) -> None:
    probe = (
        "import importlib.util, json, os, sys; "
        "print(json.dumps({'prefix': sys.prefix, 'base': sys.base_prefix, 'env': sorted(os.environ), "
        "'dagster': importlib.util.find_spec('dagster') is not None}))"
    )
    component = python_component([], ["python", "-c", probe])
    tree = with_manifest({"app/README.md": "nothing to install\n"}, component)

    result = install_and_test(tree, Manifest.model_validate_json(tree[MANIFEST_PATH]), cache_dir=tmp_path)
    [app] = result.components
    assert result.ok, result.output()
    assert app.install.status == "nothing_to_install"
    seen = json.loads(app.run.stdout_tail)
    assert seen["prefix"] == app.install.environment != seen["base"]  # its own venv, not the pipeline's
    assert not seen["dagster"]  # the pipeline's packages are not the component's
    assert "VIRTUAL_ENV" in seen["env"]


@pytest.fixture
def parent_listener() -> Iterator[int]:
    """A TCP server on 127.0.0.1 in the test's own network namespace."""
    with greeting_listener(b"registry\n") as port:
        yield port


REACH = (
    "import json, os, socket, sys\n"
    "try:\n"
    "    with socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5) as c:\n"
    "        reached = c.recv(20).decode().strip()\n"
    "except OSError as error:\n"
    "    reached = 'blocked'\n"
    "seen = json.dumps({'reached': reached, 'env': dict(os.environ)})\n"
    "print(seen)\n"
    "if len(sys.argv) > 2:\n"
    "    open(sys.argv[2], 'w').write(seen)\n"
)


@needs_namespaces
def test_the_install_reaches_the_network_without_credentials_and_the_tests_do_not(
    tmp_path: Path, parent_listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-not-for-installs")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-not-for-installs")
    monkeypatch.setenv("PIPELINE_LLM_PROVIDER", "anthropic")
    seen = tmp_path / "install-saw.json"
    component = python_component(
        ["python", "reach.py", str(parent_listener), str(seen)], ["python", "reach.py", str(parent_listener)]
    )
    tree = with_manifest({"app/reach.py": REACH}, component)

    result = install_and_test(
        tree, Manifest.model_validate_json(tree[MANIFEST_PATH]), cache_dir=tmp_path / "c"
    )
    [app] = result.components
    assert result.ok, result.output()
    during_install = json.loads(seen.read_text())
    during_tests = json.loads(app.run.stdout_tail)
    assert during_install["reached"] == "registry"
    assert during_tests["reached"] == "blocked"
    for environ in (during_install["env"], during_tests["env"]):
        assert not {"ANTHROPIC_API_KEY", "GITHUB_TOKEN", "PIPELINE_LLM_PROVIDER"} & set(environ)
        assert "not-for-installs" not in json.dumps(environ)
    # The machine's index settings travel with the install (so mirrors work), nothing else.
    assert {name for name in registry_env() if name in during_install["env"]} == set(registry_env())


def test_unknown_component_names_are_problems_not_exceptions(tmp_path: Path) -> None:
    component = python_component([], ["python", "-c", "pass"])
    tree = with_manifest({"app/x.txt": "x\n"}, component)
    manifest = Manifest.model_validate_json(tree[MANIFEST_PATH])

    result = install_and_test(tree, manifest, ["app", "nope"], cache_dir=tmp_path)
    assert not result.ok and result.problems == ["no component named nope in the manifest"]
    assert [item.component for item in result.components] == ["app"]
    assert "no component named nope" in result.output()


def test_registry_settings_never_carry_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "https://user:secret@mirror.example/simple")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "https://open.example/simple https://u:p@closed.example/simple")
    env = registry_env()
    assert "secret" not in json.dumps(env) and "u:p@" not in json.dumps(env)
    assert "https://open.example/simple" in env["PIP_EXTRA_INDEX_URL"]


def edit(tree: dict[str, str], path: str, old: str, new: str) -> dict[str, str]:
    assert old in tree[path], f"{old!r} is not in {path}"
    return {**tree, path: tree[path].replace(old, new, 1)}


@pytest.mark.integration
@pytest.mark.parametrize(
    ("make", "component", "started_line", "breakage"),
    [
        (
            fastapi_tree,
            FASTAPI,
            "Uvicorn running on http://127.0.0.1:",
            ("backend/app/main.py", '@app.post("/api/tasks", status_code=201)', '@app.post("/api/tasks")'),
        ),
        (
            express_tree,
            EXPRESS,
            "listening on http://127.0.0.1:",
            ("api/app.js", "res.status(201).json(task)", "res.status(200).json(task)"),
        ),
    ],
    ids=["fastapi", "express"],
)
def test_the_contract_check_starts_each_stack_by_its_manifest_and_finds_what_breaks(
    install_cache: Path, tmp_path: Path, make, component: ComponentSpec, started_line: str, breakage
) -> None:
    tree = make()
    install, environment = install_component(tree, component, install_cache)
    assert environment is not None, install.output_tail

    result = check_backend_contract(tree, TASKS_OPENAPI, component, environment, 60, workdir_parent=tmp_path)
    assert result.started and result.ok, [m.describe() for m in result.mismatches]
    assert started_line in result.log_tail  # its own start command, on the port the check chose
    assert set(result.operations) == {
        "GET /health",
        "GET /api/tasks",
        "POST /api/tasks",
        "GET /api/tasks/{id}",
    }
    assert result.network_isolated == ISOLATED

    broken = edit(tree, *breakage)
    found = check_backend_contract(broken, TASKS_OPENAPI, component, environment, 60, workdir_parent=tmp_path)
    assert found.started and not found.ok
    assert ("POST /api/tasks", "status") in {(m.operation, m.check) for m in found.mismatches}
    [status] = [m for m in found.mismatches if m.check == "status"]
    assert "201" in status.expected and status.got.startswith("200") and status.component == component.name


def test_a_backend_whose_health_path_never_answers_is_reported(tmp_path: Path) -> None:
    server = (
        "import http.server, sys\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(503); self.end_headers()\n"
        "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n"
    )
    component = ComponentSpec(
        name="api",
        path="api",
        kind="backend",
        runtime="python",
        test=["python", "-c", "pass"],
        start={"argv": ["python", "server.py", "{port}"]},
        health="/ready",
    )
    tree = with_manifest({"api/server.py": server}, component)
    _, environment = install_component(tree, component, tmp_path / "cache")
    started = time.monotonic()
    result = check_backend_contract(tree, TASKS_OPENAPI, component, environment, 20, workdir_parent=tmp_path)
    # Reported at the 20 s limit, not hung: a few seconds of teardown on a loaded machine are fine.
    assert not result.started and time.monotonic() - started < 25
    [mismatch] = result.mismatches
    assert not result.timed_out, mismatch.describe()  # the driver said why before the sandbox's limit
    assert mismatch.check == "unreachable" and "GET /ready answered 503" in mismatch.got
    assert mismatch.request == "python server.py {port}"
