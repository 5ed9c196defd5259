"""The validations stage: the example project built by the offline generator, committed to a local
forge, validated (sandboxed tests, contract checks, criterion coverage), and the asset's checks.

The tree is the real generator's output for the example project's real requirements and design;
breakages are small edits of that tree, so each test shows the finding it names appears.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from assets.architecture.design import build_architecture, design_offline
from assets.architecture.models import Architecture
from assets.requirements.extraction import extract_offline
from assets.requirements.merge import merge_stories
from assets.requirements.models import RequirementsSet
from assets.story_builds.asset import story_builds
from assets.story_builds.models import StoryBuild, StoryBuildsSet, StoryChangeSet, apply_changes
from assets.story_builds.offline import generate_story_changes, plan_build_order, story_class
from assets.validations.asset import CONTRACT_CHECK, COVERAGE_CHECK, TESTS_CHECK, validations
from assets.validations.backend_check import check_backend_contract
from assets.validations.frontend_scan import check_frontend_calls, frontend_calls
from assets.validations.install import install_component
from assets.validations.models import ContractResult, ValidationReport
from assets.validations.openapi_schemas import expected_operations
from assets.validations.report import check_tests
from assets.validations.sandbox import coverage_report, namespace_support
from assets.validations.tracing import coverage_change_sets, trace_tests
from assets.validations.validate import validate_build
from pipeline_core.partitions import projects_partitions
from pipeline_core.repository.manifest import MANIFEST_PATH, read_manifest
from pipeline_core.settings import get_settings
from resources.forge import FileChange, LocalForge
from resources.io_manager import ArtifactJsonIOManager, asset_value_key
from resources.llm.resource import LlmResource
from resources.object_store import LocalObjectStore
from tests.support.acme import acme_parsed

PROJECT = "acme-tasks"
REPO = "acme-tasks-app"
ISOLATED, _ = namespace_support()


@dataclass
class Acme:
    requirements: RequirementsSet
    architecture: Architecture
    order: list[list[str]]
    change_sets: list[StoryChangeSet]
    tree: dict[str, str]

    def story_builds(
        self, forge: LocalForge, commit: str | None, failed: tuple[str, ...] = ()
    ) -> StoryBuildsSet:
        """The story_builds value as the lead's stage records it, pointing at `commit`."""
        builds = []
        for change in self.change_sets:
            story = next(story for story in self.requirements.stories if story.id == change.story_id)
            broken = change.story_id in failed
            builds.append(
                StoryBuild(
                    story_id=story.id,
                    title=story.title,
                    status="failed" if broken else "built",
                    build_key=change.input_hash,
                    spec_hash=story.content_hash,
                    branch=f"story/{story.id.lower()}",
                    base_branch="integration",
                    commit=None if broken else commit,
                    operations=change.operations,
                    covered_criteria=[] if broken else change.covered_criteria,
                    uncovered_criteria=[] if broken else change.uncovered_criteria,
                    reason="the generator gave up" if broken else None,
                )
            )
        return StoryBuildsSet(
            project=PROJECT,
            repository=REPO,
            repository_url=forge.repository_url(REPO),
            build_order=self.order,
            stories=builds,
            integration_branch="integration",
            integration_commit=commit,
        )


@pytest.fixture(scope="module")
def install_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("install-cache")


@pytest.fixture(autouse=True)
def _install_cache_setting(install_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The asset's installs go to this module's cache folder, not the working copy's var/."""
    monkeypatch.setenv("PIPELINE_INSTALL_CACHE_DIR", str(install_cache))
    get_settings.cache_clear()


def backend_contract(
    tree: dict[str, str], openapi: dict, timeout_s: float, cache: Path, **options: object
) -> ContractResult:
    """The contract check of the tree's backend, started by its manifest in its own environment."""
    manifest = read_manifest(tree)
    assert manifest is not None
    backend = manifest.component("backend")
    assert backend is not None
    install, environment = install_component(tree, backend, cache)
    assert environment is not None, install.output_tail
    return check_backend_contract(tree, openapi, backend, environment, timeout_s, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def acme() -> Acme:
    """The example project's requirements and design (offline rules), built story by story."""
    documents = acme_parsed()
    requirements = merge_stories(
        [(ref, doc, extract_offline(doc)) for ref, doc in documents], None, project=PROJECT
    )
    architecture = build_architecture(requirements, design_offline(requirements))
    order = plan_build_order(requirements)
    tree: dict[str, str] = {}
    change_sets = []
    for story_id in (story for layer in order for story in layer):
        change = generate_story_changes(architecture, requirements, story_id, tree)
        tree = apply_changes(tree, change.files)
        change_sets.append(change)
    return Acme(requirements, architecture, order, change_sets, tree)


def commit_tree(forge: LocalForge, tree: dict[str, str], branch: str) -> str:
    forge.ensure_repository(REPO, "the example project's generated application")
    base = forge.default_branch(REPO)
    changes = [FileChange(path=path, content=text) for path, text in sorted(tree.items())]
    return forge.commit_files(REPO, branch, base, changes, f"All stories ({branch})").sha


@pytest.fixture(scope="module")
def forge(tmp_path_factory: pytest.TempPathFactory) -> LocalForge:
    return LocalForge(root=str(tmp_path_factory.mktemp("forge")))


@pytest.fixture(scope="module")
def good_commit(acme: Acme, forge: LocalForge) -> str:
    return commit_tree(forge, acme.tree, "integration")


@pytest.fixture(scope="module")
def good_report(acme: Acme, forge: LocalForge, good_commit: str, install_cache: Path) -> ValidationReport:
    tree = {path: data.decode() for path, data in forge.read_tree(REPO, good_commit).items()}
    return validate_build(
        tree,
        good_commit,
        acme.story_builds(forge, good_commit),
        acme.architecture,
        acme.requirements,
        timeout_s=120,
        contract_timeout_s=60,
        cache_dir=install_cache,
    )


def edit(tree: dict[str, str], path: str, old: str, new: str) -> dict[str, str]:
    assert old in tree[path], f"{old!r} is not in {path}"
    return {**tree, path: tree[path].replace(old, new, 1)}


def serve_undocumented_put(tree: dict[str, str]) -> dict[str, str]:
    """The backend also serves `PUT /api/projects/{id}` (a full update), which the document lacks."""
    return edit(
        tree,
        "backend/app/server.py",
        "        operations = [resource.operation(kind) for kind in kinds]\n",
        '        if method == "PUT" and resource.name == "Project" and "update" in kinds:\n'
        '            return "update"\n'
        "        operations = [resource.operation(kind) for kind in kinds]\n",
    )


def criteria(acme: Acme) -> set[tuple[str, str]]:
    return {(story.id, c.id) for story in acme.requirements.stories for c in story.acceptance_criteria}


# ---------------------------------------------------------------------------------------------
# The example project as built: everything passes, coverage names what is not covered


def test_the_built_project_passes_its_tests_and_matches_its_contract(
    acme: Acme, good_report: ValidationReport, good_commit: str
) -> None:
    report = good_report
    assert report.commit == good_commit
    runs = {run.component: run for run in report.components}
    assert set(runs) == {"backend", "frontend"}
    assert all(run.ok and run.passed > 0 for run in runs.values())
    assert all(run.network_isolated == ISOLATED for run in runs.values())
    # every generated test of every story ran and is recorded by name
    generated = {c.test.name for change in acme.change_sets for c in change.covered_criteria}
    assert generated <= {test.name for test in runs["backend"].tests if test.status == "passed"}
    assert report.tests_pass

    contract = report.contract
    assert contract is not None and contract.started and contract.ok, contract.mismatches
    documented = {
        f"{method.upper()} {path}"
        for path, item in acme.architecture.openapi["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert set(contract.operations) == documented
    assert contract.unserved == [] and contract.requests > len(documented)
    assert contract.network_isolated == ISOLATED
    assert report.frontend_mismatches == []
    assert report.contract_matches


def test_coverage_names_covered_and_uncovered_criteria(acme: Acme, good_report: ValidationReport) -> None:
    coverage = {(item.story_id, item.criterion_id): item for item in good_report.coverage}
    assert set(coverage) == criteria(acme)
    for change in acme.change_sets:
        for covered in change.covered_criteria:
            item = coverage[(covered.story_id, covered.criterion_id)]
            assert item.status == "passed"
            assert [(t.test.name, t.outcome) for t in item.tests] == [(covered.test.name, "passed")]
        for uncovered in change.uncovered_criteria:
            item = coverage[(uncovered.story_id, uncovered.criterion_id)]
            assert item.status == "uncovered" and item.tests == []
            assert item.reason == uncovered.reason  # the generator's own reason, by name
    assert {item.status for item in coverage.values()} == {"passed", "uncovered"}
    statuses = {story.story_id: story for story in good_report.stories}
    for change in acme.change_sets:
        story = statuses[change.story_id]
        assert story.build_status == "built"
        assert story.status == ("passed" if change.covered_criteria else "untested")
        assert story.uncovered == [item.criterion_id for item in change.uncovered_criteria]


def test_a_test_that_asserts_nothing_covers_nothing(acme: Acme, forge: LocalForge) -> None:
    covered = next(c for change in acme.change_sets for c in change.covered_criteria)
    text = acme.tree[covered.test.file]

    def assertions(text: str) -> list[int]:
        traced = trace_tests({**acme.tree, covered.test.file: text}, [("backend", "backend")])
        return [t.assertions for t in traced if t.name == covered.test.name]

    [real] = assertions(text)
    assert real >= 3
    # Keep the test and its "Covers:" docstring; replace every assertion with a print, or with an
    # assertion over constants only.
    assert assertions(re.sub(r"self\.assert\w+\(", "print(", text)) == [0]
    assert assertions(re.sub(r"self\.assert\w+\(.*\)\n", "self.assertTrue(True)\n", text)) == [0]
    assert assertions(re.sub(r"self\.assert\w+\(.*\)\n", "assert 1 == 1\n", text)) == [0]

    tree = {**acme.tree, covered.test.file: re.sub(r"self\.assert\w+\(", "print(", text)}
    traced = trace_tests(tree, [("backend", "backend")])
    builds = acme.story_builds(forge, "0" * 40)
    report = coverage_report(acme.requirements, coverage_change_sets(acme.requirements, builds, traced), {})
    [item] = [i for i in report if (i.story_id, i.criterion_id) == (covered.story_id, covered.criterion_id)]
    assert item.status == "uncovered"
    assert "asserts nothing" in item.reason and covered.test.name in item.reason


def test_a_claimed_test_missing_from_the_tree_covers_nothing(acme: Acme, forge: LocalForge) -> None:
    covered = next(c for change in acme.change_sets for c in change.covered_criteria)
    tree = {path: text for path, text in acme.tree.items() if path != covered.test.file}
    builds = acme.story_builds(forge, "0" * 40)
    traced = trace_tests(tree, [("backend", "backend")])
    report = coverage_report(acme.requirements, coverage_change_sets(acme.requirements, builds, traced), {})
    [item] = [i for i in report if (i.story_id, i.criterion_id) == (covered.story_id, covered.criterion_id)]
    assert item.status == "uncovered" and covered.test.name in item.reason


# ---------------------------------------------------------------------------------------------
# Contract checks find what breaks


def test_a_changed_status_code_is_a_contract_mismatch(
    acme: Acme, tmp_path: Path, install_cache: Path
) -> None:
    tree = edit(
        acme.tree, "backend/app/server.py", "return HTTPStatus.CREATED, item", "return HTTPStatus.OK, item"
    )
    result = backend_contract(tree, acme.architecture.openapi, 60, install_cache, workdir_parent=tmp_path)
    assert result.started and not result.ok
    found = {(m.operation, m.check) for m in result.mismatches}
    creates = {
        f"POST {path}"
        for path, item in acme.architecture.openapi["paths"].items()
        if "post" in item and "{" not in path  # a transition (POST on an item) answers 200
    }
    assert {(label, "status") for label in creates} <= found
    [one] = [m for m in result.mismatches if m.operation == sorted(creates)[0] and m.check == "status"]
    assert "201" in one.expected and one.got.startswith("200")


def test_a_dropped_route_is_a_mismatch_unless_its_story_is_not_built(
    acme: Acme, tmp_path: Path, install_cache: Path
) -> None:
    tree = edit(
        acme.tree, "backend/app/resources/task.py", '        Operation("delete", "DELETE"', "        # ("
    )
    openapi = acme.architecture.openapi
    result = backend_contract(tree, openapi, 60, install_cache, workdir_parent=tmp_path)
    assert {(m.operation, m.check, m.got[:3]) for m in result.mismatches} == {
        ("DELETE /api/tasks/{id}", "status", "405"),  # on a created task
        ("DELETE /api/tasks/{id}", "not_found", "405"),  # on an id nothing was created with
    }

    # the story that enables the delete failed to build: the operation is not served yet, no mismatch
    built = [op for change in acme.change_sets for op in change.operations if op != "DELETE /api/tasks/{id}"]
    result = backend_contract(tree, openapi, 60, install_cache, expected=expected_operations(openapi, built))
    assert result.ok and result.unserved == ["DELETE /api/tasks/{id}"]


def test_an_undocumented_route_and_a_wrong_response_are_mismatches(
    acme: Acme, tmp_path: Path, install_cache: Path
) -> None:
    tree = serve_undocumented_put(acme.tree)
    tree = edit(tree, "backend/app/store.py", '{"id": row["id"]}', '{"id": str(row["id"])}')
    result = backend_contract(tree, acme.architecture.openapi, 60, install_cache, workdir_parent=tmp_path)
    by_check: dict[str, set[str]] = {}
    for m in result.mismatches:
        by_check.setdefault(m.check, set()).add(m.operation)
    assert by_check["undocumented_operation"] == {"PUT /api/projects/{id}"}
    assert "GET /api/tasks/{id}" in by_check["response_schema"]
    schema = next(m for m in result.mismatches if m.check == "response_schema")
    assert "is not of type 'integer'" in schema.got


def test_a_backend_that_accepts_invalid_bodies_is_a_mismatch(
    acme: Acme, tmp_path: Path, install_cache: Path
) -> None:
    tree = edit(
        acme.tree,
        "backend/app/validation.py",
        "    if problems:\n        raise",
        "    if False:\n        raise",
    )
    result = backend_contract(tree, acme.architecture.openapi, 60, install_cache, workdir_parent=tmp_path)
    accepted = {m.operation for m in result.mismatches if m.check == "invalid_body_accepted"}
    assert {"POST /api/tasks", "PATCH /api/tasks/{id}"} <= accepted


def test_a_backend_that_ignores_references_and_states_is_a_mismatch(
    acme: Acme, tmp_path: Path, install_cache: Path
) -> None:
    server = "backend/app/server.py"
    tree = edit(acme.tree, server, "        if current not in allowed:\n", "        if False:\n")
    tree = edit(tree, server, "if target is None or self.store.get(target, value) is None:", "if False:")
    tree = edit(tree, server, "        self._check_not_referenced(resource, item_id)\n", "")
    result = backend_contract(tree, acme.architecture.openapi, 60, install_cache, workdir_parent=tmp_path)
    found = {(m.operation, m.check) for m in result.mismatches}
    # a project that is still open is archived; a task of no project and a comment on no task are
    # accepted; a project its tasks refer to is deleted
    assert {
        ("POST /api/projects/{id}/archive", "status"),
        ("POST /api/tasks", "invalid_body_accepted"),
        ("POST /api/comments", "invalid_body_accepted"),
        ("DELETE /api/projects/{id}", "status"),
    } <= found
    archive = next(m for m in result.mismatches if m.operation == "POST /api/projects/{id}/archive")
    assert "not allowed from 'open'" in archive.expected and archive.got.startswith("200")


def test_a_backend_that_does_not_start_is_reported(acme: Acme, tmp_path: Path, install_cache: Path) -> None:
    tree = edit(acme.tree, "backend/app/server.py", "import json\n", "import json(\n")
    result = backend_contract(tree, acme.architecture.openapi, 60, install_cache, workdir_parent=tmp_path)
    assert not result.started and not result.ok
    [mismatch] = result.mismatches
    assert mismatch.check == "unreachable" and "exited" in mismatch.got
    assert "SyntaxError" in mismatch.detail


def test_a_backend_that_never_listens_is_stopped_at_the_time_limit(
    acme: Acme, tmp_path: Path, install_cache: Path
) -> None:
    tree = edit(
        acme.tree,
        "backend/app/__main__.py",
        "    args = parser.parse_args(argv)\n",
        "    args = parser.parse_args(argv)\n    import time\n\n    time.sleep(600)\n",
    )
    result = backend_contract(tree, acme.architecture.openapi, 8, install_cache, workdir_parent=tmp_path)
    assert not result.started and not result.ok
    [mismatch] = result.mismatches
    assert mismatch.check == "unreachable"
    # Either the driver's own deadline or, on a loaded machine, the sandbox's time limit stops it first.
    stopped_by_driver = mismatch.got.startswith("the backend no answer within")
    stopped_by_sandbox = mismatch.got == "it was killed at the time limit" and result.timed_out
    assert stopped_by_driver or stopped_by_sandbox, mismatch.got


def test_frontend_calls_are_checked_against_the_document(acme: Acme) -> None:
    openapi = acme.architecture.openapi
    calls = frontend_calls(acme.tree)
    assert {f"{c.method} {c.path}" for c in calls} == {
        op for change in acme.change_sets for op in change.operations
    }
    assert check_frontend_calls(acme.tree, openapi) == []

    tree = {
        **acme.tree,
        "frontend/app.js": acme.tree["frontend/app.js"]
        + 'async function report() {\n  return fetch(API_BASE + "/api/reports", { method: "POST" });\n}\n'
        + 'async function wipe(id) {\n  return api("PUT", "/api/projects/" + id);\n}\n',
    }
    resources = json.loads(
        acme.tree["frontend/resources.js"].removeprefix("window.RESOURCES = ").rstrip(";\n")
    )
    task = next(r for r in resources if r["name"] == "Task")
    task["list_parameters"].append("colour")
    tree["frontend/resources.js"] = "window.RESOURCES = " + json.dumps(resources) + ";\n"
    found = {(m.operation, m.check, m.got) for m in check_frontend_calls(tree, openapi)}
    assert found == {
        ("POST /api/reports", "undocumented_call", "no such path in the document"),
        (
            "PUT /api/projects/{param}",
            "undocumented_call",
            "no PUT on /api/projects/{id} (it has GET, DELETE, PATCH)",
        ),
        ("GET /api/tasks", "undocumented_parameter", "colour"),
    }
    sources = {m.source for m in check_frontend_calls(tree, openapi)}
    lines = acme.tree["frontend/app.js"].count("\n")
    assert f"frontend/app.js:{lines + 2}" in sources


# ---------------------------------------------------------------------------------------------
# The asset


@dg.asset(partitions_def=projects_partitions, deps=[validations])
def deployment_stand_in() -> None:
    """Stands in for the deployment stage downstream: it must not run on failed blocking checks."""


def _materialise(
    tmp_path: Path, forge: LocalForge, acme: Acme, builds: StoryBuildsSet
) -> tuple[dg.ExecuteInProcessResult, LocalObjectStore]:
    artifacts = LocalObjectStore(root=str(tmp_path / "artifacts"))
    for name, value in (
        ("story_builds", builds),
        ("architecture", acme.architecture),
        ("requirements", acme.requirements),
    ):
        artifacts.put_text(asset_value_key(dg.AssetKey(name), PROJECT), value.model_dump_json())
    specs = [
        dg.AssetSpec(name, partitions_def=projects_partitions)
        for name in ("story_builds", "architecture", "requirements")
    ]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("projects", [PROJECT])
        result = dg.materialize(
            [*specs, validations, deployment_stand_in],
            selection=[validations, deployment_stand_in],
            partition_key=PROJECT,
            instance=instance,
            resources={
                "io_manager": ArtifactJsonIOManager(store=artifacts),
                "forge": forge,
                "artifacts": artifacts,
            },
            run_config={"ops": {"validations": {"config": {"timeout_s": 120, "contract_timeout_s": 60}}}},
            raise_on_error=False,
        )
    return result, artifacts


def _materialised(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {check.check_name: check for check in result.get_asset_check_evaluations()}


def _metadata(entries: dict[str, dg.MetadataValue]) -> dict[str, object]:
    return {key: entry.value for key, entry in entries.items()}


def test_the_asset_reports_tables_checks_and_a_stable_data_version(
    acme: Acme, forge: LocalForge, good_commit: str, good_report: ValidationReport, tmp_path: Path
) -> None:
    result, artifacts = _materialise(tmp_path, forge, acme, acme.story_builds(forge, good_commit))
    assert result.success
    # the coverage warning does not block the stage after
    assert _materialised(result) == {"validations", "deployment_stand_in"}
    stored = ValidationReport.model_validate_json(
        artifacts.get_text(asset_value_key(dg.AssetKey("validations"), PROJECT))
    )
    # same commit, same results: the same data version, although durations and ports differ
    assert stored.data_version() == good_report.data_version()
    [event] = [
        e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("validations")
    ]
    materialization = event.event_specific_data.materialization
    assert (materialization.tags or {}).get("dagster/data_version") == stored.data_version()
    metadata = _metadata(materialization.metadata)
    assert metadata["commit"] == good_commit
    assert metadata["tests_failed"] == 0 and metadata["tests_passed"] == sum(
        r.passed for r in stored.components
    )
    assert metadata["contract_mismatches"] == 0 and metadata["frontend_mismatches"] == 0
    uncovered = stored.uncovered()
    assert uncovered and metadata["criteria_uncovered"] == len(uncovered)
    summary = str(metadata["summary"])
    assert "| backend |" in summary and "| frontend |" in summary
    for item in uncovered:
        assert f"{item.story_id} {item.criterion_id}" in summary

    checks = _checks(result)
    assert checks[TESTS_CHECK].passed and checks[CONTRACT_CHECK].passed
    coverage = checks[COVERAGE_CHECK]
    assert not coverage.passed and coverage.severity == dg.AssetCheckSeverity.WARN
    listed = str(_metadata(coverage.metadata)["uncovered_criteria"])
    for item in uncovered:
        story = next(s for s in acme.requirements.stories if s.id == item.story_id)
        assert f"{item.story_id} {item.criterion_id} ({story.title})" in listed and item.reason in listed


def test_failing_tests_and_mismatches_fail_the_blocking_checks(
    acme: Acme, forge: LocalForge, tmp_path: Path
) -> None:
    covered = next(c for change in acme.change_sets for c in change.covered_criteria)
    # A wrong expectation in one generated test, and a backend that serves an undocumented PUT
    # (no generated test notices that one: only the contract check does).
    text = acme.tree[covered.test.file]
    start = text.index(f"def {covered.test.name}(")
    wrong = text[start:].replace("self.assertEqual(status, 201", "self.assertEqual(status, 299", 1)
    assert wrong != text[start:]
    tree = serve_undocumented_put({**acme.tree, covered.test.file: text[:start] + wrong})
    commit = commit_tree(forge, tree, "broken")
    result, artifacts = _materialise(tmp_path, forge, acme, acme.story_builds(forge, commit))

    # blocking: the step fails and the stage after does not run
    assert not result.success
    assert _materialised(result) == {"validations"}
    checks = _checks(result)
    for name in (TESTS_CHECK, CONTRACT_CHECK):
        assert not checks[name].passed and checks[name].severity == dg.AssetCheckSeverity.ERROR
    failing = str(_metadata(checks[TESTS_CHECK].metadata)["failing_tests"])
    stored = ValidationReport.model_validate_json(
        artifacts.get_text(asset_value_key(dg.AssetKey("validations"), PROJECT))
    )
    runs = {run.component: run for run in stored.components}
    assert failing.splitlines() == [
        f"backend: tests.{covered.test.file.removeprefix('backend/tests/').removesuffix('.py')}."
        f"{story_class(covered.story_id)}.{covered.test.name} (failed)",
        f"backend: exit 1; {runs['backend'].passed} passed, 1 failed",
    ]
    mismatch_list = str(_metadata(checks[CONTRACT_CHECK].metadata)["mismatch_list"])
    assert mismatch_list == (
        "backend PUT /api/projects/{id}: expected 404 or 405 (not in the document), got 422: "
        '{"detail": "name: required"}'
    )

    stored = ValidationReport.model_validate_json(
        artifacts.get_text(asset_value_key(dg.AssetKey("validations"), PROJECT))
    )
    assert stored.commit == commit and not stored.tests_pass and not stored.contract_matches
    statuses = {story.story_id: story.status for story in stored.stories}
    assert statuses[covered.story_id] == "failed"
    assert list(statuses.values()).count("failed") == 1
    [item] = [
        i for i in stored.coverage if (i.story_id, i.criterion_id) == (covered.story_id, covered.criterion_id)
    ]
    assert item.status == "failed"


def test_nothing_built_is_reported_and_fails_the_blocking_checks(
    acme: Acme, forge: LocalForge, tmp_path: Path
) -> None:
    builds = acme.story_builds(forge, None, failed=tuple(change.story_id for change in acme.change_sets))
    result, artifacts = _materialise(tmp_path, forge, acme, builds)
    checks = _checks(result)
    assert not checks[TESTS_CHECK].passed and not checks[CONTRACT_CHECK].passed
    assert "nothing is built" in str(_metadata(checks[TESTS_CHECK].metadata)["problems"])
    stored = ValidationReport.model_validate_json(
        artifacts.get_text(asset_value_key(dg.AssetKey("validations"), PROJECT))
    )
    assert stored.commit is None and stored.components == [] and stored.contract is None
    assert {(i.story_id, i.criterion_id) for i in stored.coverage} == criteria(acme)
    assert all(i.status == "uncovered" and "build failed" in i.reason for i in stored.coverage)
    assert all(story.status == "not_built" for story in stored.stories)


def test_validations_of_what_the_real_story_builds_stage_integrated(acme: Acme, tmp_path: Path) -> None:
    """The real story_builds stage builds into a local forge; validations test its integration commit."""
    artifacts = LocalObjectStore(root=str(tmp_path / "artifacts"))
    for name, value in (("architecture", acme.architecture), ("requirements", acme.requirements)):
        artifacts.put_text(asset_value_key(dg.AssetKey(name), PROJECT), value.model_dump_json())
    specs = [
        dg.AssetSpec(name, partitions_def=projects_partitions) for name in ("architecture", "requirements")
    ]
    resources = {
        "io_manager": ArtifactJsonIOManager(store=artifacts),
        "artifacts": artifacts,
        "forge": LocalForge(root=str(tmp_path / "forge")),
        "llm": LlmResource(provider="offline", cache_url=(tmp_path / "cache").as_uri()),
    }
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("projects", [PROJECT])
        result = dg.materialize(
            [*specs, story_builds, validations],
            selection=[story_builds, validations],
            partition_key=PROJECT,
            instance=instance,
            resources=resources,
        )
    assert result.success
    built = StoryBuildsSet.model_validate_json(
        artifacts.get_text(asset_value_key(dg.AssetKey("story_builds"), PROJECT))
    )
    report = ValidationReport.model_validate_json(
        artifacts.get_text(asset_value_key(dg.AssetKey("validations"), PROJECT))
    )
    assert built.integration_commit is not None and report.commit == built.integration_commit
    checks = {name: check.passed for name, check in _checks(result).items()}
    assert checks == {
        TESTS_CHECK: True,
        CONTRACT_CHECK: True,
        COVERAGE_CHECK: False,
        "all_stories_built": True,
    }
    covered = {(c.story_id, c.criterion_id) for b in built.stories for c in b.covered_criteria}
    assert {(i.story_id, i.criterion_id) for i in report.coverage if i.status == "passed"} == covered
    assert {(i.story_id, i.criterion_id) for i in report.uncovered()} == criteria(acme) - covered


def test_identical_inputs_reuse_the_previous_results(
    acme: Acme, forge: LocalForge, good_commit: str, tmp_path: Path
) -> None:
    builds = acme.story_builds(forge, good_commit)
    first, _ = _materialise(tmp_path, forge, acme, builds)
    second, artifacts = _materialise(tmp_path, forge, acme, builds)
    metadata = [
        _metadata(event.event_specific_data.materialization.metadata)
        for result in (first, second)
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey("validations")
    ]
    assert [m["reused_previous_results"] for m in metadata] == [False, True]
    assert _checks(second)[TESTS_CHECK].passed and _checks(second)[CONTRACT_CHECK].passed
    stored = ValidationReport.model_validate_json(
        artifacts.get_text(asset_value_key(dg.AssetKey("validations"), PROJECT))
    )
    assert stored.commit == good_commit and stored.input_key


def test_every_check_is_per_project() -> None:
    """One project's failing check never shows on another's page: each check is partitioned."""
    specs = list(validations.check_specs)
    assert {spec.name for spec in specs} == {TESTS_CHECK, CONTRACT_CHECK, COVERAGE_CHECK}
    assert all(spec.partitions_def == projects_partitions for spec in specs)


def test_a_manifest_that_breaks_the_contract_fails_the_tests_check_with_the_reason(
    acme: Acme, forge: LocalForge, install_cache: Path
) -> None:
    manifest = json.loads(acme.tree[MANIFEST_PATH])
    del manifest["components"][0]["kind"]
    tree = {**acme.tree, MANIFEST_PATH: json.dumps(manifest)}
    report = validate_build(
        tree,
        "0" * 40,
        acme.story_builds(forge, "0" * 40),
        acme.architecture,
        acme.requirements,
        cache_dir=install_cache,
    )
    assert not report.tests_pass and not report.contract_matches and report.components == []
    [problem] = report.problems
    assert "does not follow the contract" in problem and "components.0.kind" in problem
    check = check_tests(report)
    assert not check.passed and "components.0.kind" in (check.description or "")

    without = {path: text for path, text in acme.tree.items() if path != MANIFEST_PATH}
    report = validate_build(
        without, "0" * 40, acme.story_builds(forge, "0" * 40), acme.architecture, acme.requirements
    )
    assert not report.tests_pass and "has no .ai-pipeline/manifest.json" in report.problems[0]
