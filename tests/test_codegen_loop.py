"""The closed loop for Claude-written stories, through the real anthropic SDK and the real sandbox.

A story whose first change set fails its tests gets a fix request quoting the failure and is
committed after the fix passes; one that never passes is failed after the round limit with the last
failure, no branch, its dependent blocked, and retried by a re-run; budgets stop a story or the
project before anything is committed; a repair that edits the manifest or escapes the tree is
refused; the asset reports rounds, tokens, cost and the project's spend, and its check per project.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest

from assets.requirements.models import RequirementsSet
from assets.story_builds.asset import ALL_BUILT_CHECK, model_generator
from assets.story_builds.build import build_stories, story_branch
from assets.story_builds.models import StoryBuildsSet, apply_changes
from assets.story_builds.story_tests import StoryTestRun, sandbox_tester, scrub_secrets, story_components
from pipeline_core.repository.manifest import MANIFEST_PATH, read_manifest
from resources.forge import LocalForge
from resources.llm import LlmResource
from tests.support.anthropic_server import AnthropicServer, RecordedRequest
from tests.support.claude_project import (
    TASKS_MODULE,
    documents_of,
    make_architecture,
    make_requirements,
    request_text,
    us1_answer,
    us2_answer,
)
from tests.support.pipeline import PipelineHarness, materialization_metadata

PROJECT = "tasks"
# The bug of a first answer: a created task is never stored, so US-1 AC1's test fails.
BROKEN_MODULE = TASKS_MODULE.replace("        self._tasks.append(task)\n", "")
# A second, different bug: the list comes back reversed and doubled.
STILL_BROKEN = TASKS_MODULE.replace("return list(self._tasks)", "return list(self._tasks) * 2")
EXPENSIVE = {"input_tokens": 100_000, "output_tokens": 1_000}  # $0.315 a call at Sonnet prices


def llm_for(server: AnthropicServer, tmp_path: Path) -> LlmResource:
    return server.llm(tmp_path / "llm-cache")


def broken(module: str = BROKEN_MODULE) -> dict:
    answer = us1_answer()
    answer["changes"] = [
        {**change, "content": module} if change["path"] == "backend/app/tasks.py" else change
        for change in answer["changes"]
    ]
    return answer


def fix(module: str = TASKS_MODULE) -> dict:
    """A fix round's answer: relative to the tree holding the failed change set."""
    answer = us1_answer(components=[])
    answer["changes"] = [{"action": "replace", "path": "backend/app/tasks.py", "content": module}]
    return answer


def build(
    server: AnthropicServer,
    tmp_path: Path,
    forge: LocalForge,
    previous: StoryBuildsSet | None = None,
    *,
    max_rounds: int = 3,
    story_budget: float | None = None,
    project_budget: float | None = None,
    requirements: RequirementsSet | None = None,
) -> StoryBuildsSet:
    requirements = requirements or make_requirements()
    architecture = make_architecture()
    generator = model_generator(
        llm_for(server, tmp_path),
        architecture,
        requirements,
        tester=sandbox_tester(workdir_parent=tmp_path),
        max_rounds=max_rounds,
        story_budget_usd=story_budget,
        project_budget_usd=project_budget,
    )
    return build_stories(PROJECT, requirements, architecture, forge, generator, previous)


def fix_request(request: RecordedRequest) -> str:
    return documents_of(request).get("test-output", "")


def test_a_failing_first_answer_is_fixed_in_a_second_round_and_committed(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    anthropic_server.enqueue_json_answer(broken())
    anthropic_server.enqueue_json_answer(fix())
    forge = LocalForge(root=str(tmp_path / "forge"))
    only_us1 = make_requirements().model_copy(update={"stories": make_requirements().stories[:1]})

    value = build(anthropic_server, tmp_path, forge, requirements=only_us1)

    [us1] = value.stories
    assert us1.status == "built", us1.reason
    assert us1.rounds == 2 and us1.model_calls == 2
    assert len(anthropic_server.requests) == 2
    first, second = anthropic_server.requests
    assert "test-output" not in documents_of(first)
    output = fix_request(second)
    assert "test_us_1_ac1" in output and "component backend: failed" in output
    assert "tests failed" in request_text(second)
    # The fix is asked on top of the failed change set: the tree shown already holds it.
    assert documents_of(second)["file:backend/app/tasks.py"] == BROKEN_MODULE
    # Committed with its pull request: the branch holds the fixed code and the manifest.
    head = forge.branch_head(PROJECT, story_branch("US-1"))
    assert head == us1.commit and us1.pull_request is not None
    tree = {path: data.decode() for path, data in forge.read_tree(PROJECT, head).items()}
    assert tree["backend/app/tasks.py"] == TASKS_MODULE
    manifest = read_manifest(tree)
    assert manifest is not None and manifest.story("US-1") is not None
    assert [component.name for component in manifest.components] == ["backend"]
    # Its tests pass in the sandbox on the committed tree.
    run = sandbox_tester(workdir_parent=tmp_path)(tree, manifest, ["backend"])
    assert run.ok, run.report()


def test_a_story_that_never_passes_fails_with_its_last_failure_and_no_branch(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    anthropic_server.enqueue_json_answer(broken())
    anthropic_server.enqueue_json_answer(fix(STILL_BROKEN))
    forge = LocalForge(root=str(tmp_path / "forge"))

    value = build(anthropic_server, tmp_path, forge, max_rounds=2)

    us1, us2 = value.stories
    assert us1.status == "failed" and us1.rounds == 2 and us1.model_calls == 2
    assert "still failed after 2 round(s)" in (us1.reason or "")
    # The reason holds the last failure (the doubled list), not the first (the empty list).
    assert "test_us_1_ac1" in (us1.reason or "")
    assert "'title': 'Write the report'}, {'id': 1" in (us1.reason or "")
    assert us1.cost_usd > 0 and us1.input_tokens > 0
    assert forge.branch_head(PROJECT, story_branch("US-1")) is None
    assert forge.list_pull_requests(PROJECT) == []
    assert us2.status == "blocked" and "US-1" in (us2.reason or "")
    assert len(anthropic_server.requests) == 2

    # A re-run retries it (the failed answers were not kept in the cache) and builds both.
    anthropic_server.enqueue_json_answer(us1_answer())
    anthropic_server.enqueue_json_answer(us2_answer({"backend/app/tasks.py": TASKS_MODULE}))
    again = build(anthropic_server, tmp_path, forge, value, max_rounds=2)
    assert [(b.story_id, b.status) for b in again.stories] == [("US-1", "built"), ("US-2", "built")]
    assert len(anthropic_server.requests) == 4


def test_a_story_budget_stops_the_story_before_anything_is_committed(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    anthropic_server.enqueue_json_answer(us1_answer(), usage=EXPENSIVE)
    forge = LocalForge(root=str(tmp_path / "forge"))

    value = build(anthropic_server, tmp_path, forge, story_budget=0.10)

    us1, us2 = value.stories
    assert us1.status == "over_budget"
    assert "story US-1 budget: spent $0.3150 of $0.1000" in (us1.reason or "")
    assert us1.cost_usd == pytest.approx(0.315)
    assert forge.branch_head(PROJECT, story_branch("US-1")) is None
    assert us2.status == "blocked"
    assert value.spent_usd == pytest.approx(0.315)


def test_a_project_budget_stops_the_project_mid_way(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    anthropic_server.enqueue_json_answer(us1_answer(), usage=EXPENSIVE)
    forge = LocalForge(root=str(tmp_path / "forge"))

    value = build(anthropic_server, tmp_path, forge, project_budget=0.3160)

    us1, us2 = value.stories
    assert us1.status == "built", us1.reason
    assert us2.status == "over_budget"
    assert "project tasks budget: spent $0.3150 of $0.3160" in (us2.reason or "")
    assert "the next call would cost about $" in (us2.reason or "")
    assert us2.model_calls == 0 and len(anthropic_server.requests) == 1  # stopped before calling
    assert forge.branch_head(PROJECT, story_branch("US-2")) is None
    assert value.budget_usd_per_project == 0.3160 and value.spent_usd == pytest.approx(0.315)


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        ({"action": "create", "path": MANIFEST_PATH, "content": "{}"}, "written by the pipeline"),
        ({"action": "create", "path": ".ai-pipeline/state.json", "content": "{}"}, "written by the pipeline"),
        ({"action": "create", "path": "../outside.py", "content": "x = 1\n"}, "climbs out of the repository"),
        ({"action": "create", "path": "/etc/cron.d/x", "content": "x\n"}, "absolute"),
    ],
)
def test_a_repair_that_edits_the_manifest_or_escapes_the_tree_is_refused(
    anthropic_server: AnthropicServer, tmp_path: Path, change: dict, phrase: str
) -> None:
    anthropic_server.enqueue_json_answer(broken())
    bad_fix = fix()
    bad_fix["changes"].append(change)
    anthropic_server.enqueue_json_answer(bad_fix)  # the fix round's answer: refused
    anthropic_server.enqueue_json_answer(bad_fix)  # its one repair: refused again
    forge = LocalForge(root=str(tmp_path / "forge"))
    only_us1 = make_requirements().model_copy(update={"stories": make_requirements().stories[:1]})

    value = build(anthropic_server, tmp_path, forge, requirements=only_us1)

    [us1] = value.stories
    assert us1.status == "failed" and "still invalid after one repair" in (us1.reason or "")
    assert phrase in (us1.reason or "")
    assert len(anthropic_server.requests) == 3
    assert "rejected" in request_text(anthropic_server.requests[2])
    assert forge.branch_head(PROJECT, story_branch("US-1")) is None
    assert not (tmp_path / "outside.py").exists()


def test_fix_requests_are_trimmed_per_component_and_never_carry_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_abc")
    run = StoryTestRun.model_validate(
        {
            "components": [
                {
                    "component": "backend",
                    "passed": False,
                    "status": "failed",
                    "output": "x" * 9000 + "sk-ant-very-secret",
                },
                {"component": "frontend", "passed": True, "status": "passed", "output": "fine"},
            ]
        }
    )
    report = run.report()
    assert "sk-ant-very-secret" not in report and "[redacted]" in report
    assert "component backend: failed" in report and "frontend" not in report
    assert len(report) < 4100
    assert scrub_secrets("token ghp_abc here") == "token [redacted] here"


def test_a_story_tests_the_components_it_touches() -> None:
    tree = apply_changes({}, [])
    tree[MANIFEST_PATH] = json.dumps(
        {
            "generator": "g",
            "project": "p",
            "components": [
                {"name": "backend", "path": "backend", "kind": "worker", "runtime": "python", "test": ["t"]},
                {
                    "name": "web",
                    "path": "web",
                    "kind": "frontend",
                    "runtime": "static",
                    "test": ["t"],
                    "publish_dir": "web",
                },
            ],
        }
    )
    manifest = read_manifest(tree)
    assert manifest is not None
    assert story_components(manifest, ["backend/app.py", "README.md", "backend/x.py"]) == ["backend"]
    assert story_components(manifest, ["web/index.html", "backend/a.py"]) == ["web", "backend"]


def test_the_asset_reports_rounds_cost_and_spend_and_its_check_per_project(
    anthropic_server: AnthropicServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    settings = anthropic_server.pipeline_settings(tmp_path / "var")
    good, bad = "tasks", "tasks-broken"
    with dg.instance_for_test() as instance:
        harness = PipelineHarness.create(settings, instance)
        for project in (good, bad):
            harness.put_design(project, make_requirements(), make_architecture())
        job = harness.defs.resolve_job_def("project_pipeline")
        run_config = {"ops": {"story_builds": {"config": {"budget_usd_per_project": 5.0}}}}

        anthropic_server.enqueue_json_answer(broken())
        anthropic_server.enqueue_json_answer(fix())
        anthropic_server.enqueue_json_answer(us2_answer({"backend/app/tasks.py": TASKS_MODULE}))
        first = job.execute_in_process(
            partition_key=good,
            instance=instance,
            asset_selection=[dg.AssetKey("story_builds")],
            run_config=run_config,
        )
        assert first.success
        metadata = materialization_metadata(first, "story_builds")
        assert metadata["stories_built"] == 2 and metadata["fix_rounds"] == 1
        assert metadata["llm_model_calls"] == 3
        assert metadata["budget_spent"].endswith("of $5.0000 (0%)")
        assert "| rounds | calls | tokens | cost (USD) |" in metadata["stories"]
        assert "| US-1 | built |" in metadata["stories"] and "| 2 | 2 | 30 |" in metadata["stories"]

        invalid = us1_answer(covered_criteria=[], uncovered_criteria=[])
        anthropic_server.enqueue_json_answer(invalid)
        anthropic_server.enqueue_json_answer(invalid)
        second = job.execute_in_process(
            partition_key=bad,
            instance=instance,
            asset_selection=[dg.AssetKey("story_builds")],
            run_config=run_config,
        )
        assert second.success
        assert materialization_metadata(second, "story_builds")["stories_failed"] == 1

        check = dg.AssetCheckKey(dg.AssetKey("story_builds"), ALL_BUILT_CHECK)
        infos = instance.event_log_storage.get_asset_check_partition_info([check], partition_keys=[good, bad])
        status = {info.partition_key: info.latest_execution_status.value for info in infos}
        assert status == {good: "SUCCEEDED", bad: "FAILED"}
