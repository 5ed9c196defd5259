"""The `deployments` asset and the `promote` job on the offline example, end to end in-process.

The example project goes through every stage; its preview must answer over HTTP on the URLs the
asset records, each story's pull request must carry the preview URL and that story's result, a
re-run must deploy nothing, a failed validation must deploy nothing, and `promote` must deploy
`main` only when `main` validates. Every release a test starts is stopped at teardown.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from assets.deployments.models import DeploymentsSet
from assets.deployments.pull_requests import END, START
from assets.story_builds.models import StoryBuildsSet
from assets.validations.models import ValidationReport
from pipeline_core.links import project_page_key
from pipeline_core.settings import Settings
from resources.forge import FileChange, Forge
from resources.hosting import LocalHosting
from resources.hosting.processes import http_get
from tests.support.pipeline import EXAMPLE_PROJECT, PipelineHarness, materialization_metadata

PROJECT = "acme-tasks"


def port_of(url: str | None) -> int:
    assert url is not None and url.startswith("http://127.0.0.1:"), url
    return int(url.rstrip("/").rsplit(":", 1)[1])


def releases(settings: Settings) -> list[str]:
    root = settings.data_dir / "releases"
    found = [p for p in root.glob("*/*/*/*") if not p.is_symlink() and (p / "release.json").is_file()]
    return sorted(str(path.relative_to(root)) for path in found)


def promote(harness: PipelineHarness) -> dg.ExecuteInProcessResult:
    job = harness.defs.resolve_job_def("promote")
    return job.execute_in_process(partition_key=PROJECT, instance=harness.instance, raise_on_error=False)


@pytest.fixture(scope="module")
def pipeline() -> Iterator[tuple[PipelineHarness, dg.ExecuteInProcessResult]]:
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test() as instance:
        settings = Settings(pipeline_data_dir=Path(tmp) / "var", pipeline_llm_provider="offline")
        harness = PipelineHarness.create(settings, instance)
        harness.drop_folder(EXAMPLE_PROJECT, PROJECT)
        harness.tick()
        run = harness.run(PROJECT)
        try:
            yield harness, run
        finally:
            LocalHosting(root=str(settings.releases_dir), install_cache_dir="").stop()


def test_the_preview_is_deployed_healthy_and_answers_over_http(
    pipeline: tuple[PipelineHarness, dg.ExecuteInProcessResult],
) -> None:
    harness, run = pipeline
    assert run.success
    value = harness.value("deployments", PROJECT, DeploymentsSet)
    validations = harness.value("validations", PROJECT, ValidationReport)
    assert value.preview is not None and value.production is None
    assert value.preview.commit == validations.commit and value.preview.validation.passed
    records = {record.component: record for record in value.preview.records}
    assert set(records) == {"backend", "frontend"}
    for record in records.values():
        assert record.ok and record.status == "deployed" and record.target == "local", record
        assert record.commit == validations.commit and record.previous_commit is None
    backend, frontend = records["backend"], records["frontend"]
    assert http_get(port_of(backend.url), "/api/health") == (200, b'{"status": "ok"}')
    status, listed = http_get(port_of(backend.url), "/api/tasks")
    assert status == 200 and json.loads(listed) == []
    status, page = http_get(port_of(frontend.url), "/")
    assert status == 200 and b"acme-tasks" in page
    status, config = http_get(port_of(frontend.url), "/config.js")
    assert backend.url.rstrip("/").encode() in config  # type: ignore[union-attr]
    assert set(value.preview.stories) == {
        build.story_id for build in harness.value("story_builds", PROJECT, StoryBuildsSet).stories
    }

    metadata = materialization_metadata(run, "deployments")
    assert metadata["preview_url"] == frontend.url and metadata["new_releases"] == 2
    assert backend.url in metadata["deployments"] and "healthy" in metadata["deployments"]
    [check] = [c for c in run.get_asset_check_evaluations() if c.asset_key == dg.AssetKey("deployments")]
    assert check.check_name == "deployment_healthy" and check.passed


def test_each_story_pull_request_carries_the_preview_url_and_its_validation_result(
    pipeline: tuple[PipelineHarness, dg.ExecuteInProcessResult],
) -> None:
    harness, _ = pipeline
    forge: Forge = harness.defs.resources["forge"]  # type: ignore[assignment]
    builds = harness.value("story_builds", PROJECT, StoryBuildsSet)
    value = harness.value("deployments", PROJECT, DeploymentsSet)
    statuses = {s.story_id: s for s in harness.value("validations", PROJECT, ValidationReport).stories}
    assert value.preview is not None
    frontend_url = value.preview.url()
    checked = 0
    for build in builds.stories:
        assert build.pull_request is not None
        pull = forge.get_pull_request(builds.repository, build.pull_request)
        assert pull.body.count(START) == 1 and pull.body.count(END) == 1, pull.body
        section = pull.body[pull.body.index(START) : pull.body.index(END)]
        assert f"<{frontend_url}>" in section and value.preview.commit[:12] in section
        assert f"validation of this story: **{statuses[build.story_id].status}**" in section
        assert pull.body.count("<!-- ai-pipeline:story-id=") == 1 and pull.story_id == build.story_id
        checked += 1
    assert checked == len(builds.stories) > 1


def test_a_rerun_deploys_nothing_new_and_writes_no_pull_request(
    pipeline: tuple[PipelineHarness, dg.ExecuteInProcessResult],
) -> None:
    harness, _ = pipeline
    forge: Forge = harness.defs.resources["forge"]  # type: ignore[assignment]
    builds = harness.value("story_builds", PROJECT, StoryBuildsSet)
    before = releases(harness.settings)
    pulls_before = [forge.get_pull_request(builds.repository, b.pull_request) for b in builds.stories]  # type: ignore[arg-type]

    run = harness.run(PROJECT)

    assert run.success
    value = harness.value("deployments", PROJECT, DeploymentsSet)
    assert value.preview is not None
    assert [r.status for r in value.preview.records] == ["unchanged", "unchanged"]
    assert all(r.health == "healthy" for r in value.preview.records)
    assert releases(harness.settings) == before
    metadata = materialization_metadata(run, "deployments")
    assert metadata["new_releases"] == 0 and metadata["pull_requests_updated"] == 0
    after = [forge.get_pull_request(builds.repository, b.pull_request) for b in builds.stories]  # type: ignore[arg-type]
    assert [(p.body, p.updated_at) for p in after] == [(p.body, p.updated_at) for p in pulls_before]

    # The project page shows the deployment column with the URLs a person opens.
    page = harness.artifacts.get_text(project_page_key(PROJECT))
    for record in value.preview.records:
        assert f'<a href="{record.url}">' in page


def test_promote_deploys_main_only_when_it_validates_and_keeps_the_preview(
    pipeline: tuple[PipelineHarness, dg.ExecuteInProcessResult],
) -> None:
    harness, _ = pipeline
    forge: Forge = harness.defs.resources["forge"]  # type: ignore[assignment]
    builds = harness.value("story_builds", PROJECT, StoryBuildsSet)
    first = builds.stories[0]
    assert first.pull_request is not None and not first.depends_on
    forge.add_review(builds.repository, first.pull_request, "approved", author="reviewer")
    merged = forge.merge_pull_request(builds.repository, first.pull_request)
    main = forge.default_branch_head(builds.repository)
    assert main == merged.merge_sha

    run = promote(harness)

    assert run.success
    value = harness.value("deployments", PROJECT, DeploymentsSet)
    assert value.production is not None and value.preview is not None
    assert value.production.commit == main and value.production.branch == forge.default_branch(
        builds.repository
    )
    assert value.production.stories == [first.story_id] or first.story_id in value.production.stories
    assert value.production.validation.passed and value.production.healthy
    production = {r.component: r for r in value.production.records}
    preview = {r.component: r for r in value.preview.records}
    assert production["backend"].url != preview["backend"].url
    assert http_get(port_of(production["backend"].url), "/api/health")[0] == 200
    assert http_get(port_of(preview["backend"].url), "/api/health")[0] == 200  # preview kept running
    status, config = http_get(port_of(production["frontend"].url), "/config.js")
    assert production["backend"].url.rstrip("/").encode() in config  # type: ignore[union-attr]

    # main breaks: a failing test lands on it. Promote refuses, production stays on the old commit.
    forge.commit_files(
        builds.repository,
        forge.default_branch(builds.repository),
        main,  # type: ignore[arg-type]
        [
            FileChange(
                path="backend/tests/test_broken.py",
                content="import unittest\n\n\nclass Broken(unittest.TestCase):\n"
                "    def test_fails(self):\n        self.assertEqual(1, 2)\n",
            )
        ],
        "a change that breaks the tests",
    )
    refused = promote(harness)

    assert not refused.success
    [failure] = [event for event in refused.all_events if event.is_step_failure]
    assert "did not pass the blocking validation checks" in failure.step_failure_data.error.message  # type: ignore[union-attr]
    kept = harness.value("deployments", PROJECT, DeploymentsSet)
    assert kept.production is not None and kept.production.commit == main
    assert http_get(port_of(production["backend"].url), "/api/health")[0] == 200


def test_a_failed_validation_deploys_nothing(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        settings = Settings(pipeline_data_dir=tmp_path / "var", pipeline_llm_provider="offline")
        harness = PipelineHarness.create(settings, instance)
        harness.drop_folder(EXAMPLE_PROJECT, PROJECT)
        harness.tick()
        job = harness.defs.resolve_job_def("project_pipeline")
        # A time limit no test run can meet: the generated tests are cut off, the blocking check fails.
        run = job.execute_in_process(
            partition_key=PROJECT,
            instance=instance,
            raise_on_error=False,
            run_config={"ops": {"validations": {"config": {"timeout_s": 0.001, "seconds_per_test": 0}}}},
        )
        validations = harness.value("validations", PROJECT, ValidationReport)
        assert not validations.tests_pass
        assert not [
            e for e in run.get_asset_materialization_events() if e.asset_key == dg.AssetKey("deployments")
        ]
        assert not (settings.data_dir / "releases").exists()
        forge: Forge = harness.defs.resources["forge"]  # type: ignore[assignment]
        builds = harness.value("story_builds", PROJECT, StoryBuildsSet)
        for build in builds.stories:
            assert START not in forge.get_pull_request(builds.repository, build.pull_request).body  # type: ignore[arg-type]

        # Materialised on its own, the stage refuses with the reason instead of deploying.
        alone = harness.defs.resolve_job_def("promote").execute_in_process(
            partition_key=PROJECT,
            instance=instance,
            raise_on_error=False,
            run_config={"ops": {"deployments": {"config": {"environment": "preview"}}}},
        )
        assert not alone.success
        [failure] = [event for event in alone.all_events if event.is_step_failure]
        assert "did not pass the blocking validation checks" in failure.step_failure_data.error.message  # type: ignore[union-attr]
        assert not (settings.data_dir / "releases").exists()


def test_an_unhealthy_release_is_rolled_back_and_fails_the_blocking_check(tmp_path: Path) -> None:
    """`deploy_commit` with real local hosting: a commit whose backend cannot start leaves the previous
    backend and frontend current and answering, and `deployment_healthy` fails naming why."""
    from assets.deployments.deploy import deploy_commit
    from assets.deployments.models import ValidationSummary
    from assets.deployments.report import check_health
    from pipeline_core.repository.manifest import read_manifest
    from tests.test_codegen_offline import acme_inputs, build_all

    build = build_all(*acme_inputs())
    hosting = LocalHosting(
        root=str(tmp_path / "releases"), install_cache_dir=str(tmp_path / "cache"), health_timeout_s=20
    )

    def deploy(commit: str, tree: dict[str, str]):
        manifest = read_manifest(tree)
        assert manifest is not None
        return deploy_commit(
            project=PROJECT,
            environment="preview",
            branch="ai-pipeline/integration",
            commit=commit,
            manifest=manifest,
            files={path: text.encode() for path, text in tree.items()},
            hosting=hosting,
            openapi=build.architecture.openapi,
            validation=ValidationSummary(commit=commit, tests_pass=True, contract_matches=True),
            cache_dir=tmp_path / "cache",
        )

    try:
        good = deploy("a" * 40, build.tree)
        assert good.healthy and check_health(good).passed
        broken_tree = {
            **build.tree,
            "backend/app/__main__.py": "raise SystemExit('no database configured')\n",
        }

        broken = deploy("b" * 40, broken_tree)

        records = {record.component: record for record in broken.records}
        assert (
            records["backend"].status == "rolled_back"
            and "no database configured" in records["backend"].reason
        )
        assert (
            records["frontend"].status == "rolled_back"
            and "its backend backend" in records["frontend"].reason
        )
        for component in ("backend", "frontend"):
            assert records[component].url == {r.component: r for r in good.records}[component].url
            assert records[component].version == "a" * 40
        assert http_get(port_of(records["backend"].url), "/api/health")[0] == 200
        assert http_get(port_of(records["frontend"].url), "/")[0] == 200
        check = check_health(broken)
        assert not check.passed
        assert "no database configured" in str(check.metadata["unhealthy"].value)
    finally:
        hosting.stop()


def test_configured_app_secrets_reach_backends_only_and_a_changed_one_redeploys(tmp_path: Path) -> None:
    from pydantic import SecretStr

    from assets.deployments.deploy import configured_app_secrets, deploy_commit
    from assets.deployments.models import ValidationSummary
    from pipeline_core.repository.manifest import read_manifest
    from tests.test_codegen_offline import acme_inputs, build_all

    secrets = configured_app_secrets(
        {"PIPELINE_APP_SECRET_SIGNING_KEY": "app-key-1", "ANTHROPIC_API_KEY": "pipeline", "PATH": "/bin"}
    )
    assert {name: value.get_secret_value() for name, value in secrets.items()} == {"SIGNING_KEY": "app-key-1"}
    build = build_all(*acme_inputs())
    manifest = read_manifest(build.tree)
    assert manifest is not None
    hosting = LocalHosting(
        root=str(tmp_path / "releases"), install_cache_dir=str(tmp_path / "cache"), health_timeout_s=20
    )

    def deploy(app_secrets: dict[str, SecretStr]):
        return deploy_commit(
            project=PROJECT,
            environment="preview",
            branch="ai-pipeline/integration",
            commit="c" * 40,
            manifest=manifest,
            files={path: text.encode() for path, text in build.tree.items()},
            hosting=hosting,
            openapi=build.architecture.openapi,
            validation=ValidationSummary(commit="c" * 40, tests_pass=True, contract_matches=True),
            cache_dir=tmp_path / "cache",
            app_secrets=app_secrets,
        )

    def environ_of(component: str) -> dict[str, str]:
        state = json.loads(
            (tmp_path / "releases" / PROJECT / "preview" / component / "state.json").read_text()
        )
        raw = Path(f"/proc/{state['current']['process']['pid']}/environ").read_bytes().decode()
        return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)

    try:
        first = deploy(secrets)
        assert first.healthy
        assert environ_of("backend")["SIGNING_KEY"] == "app-key-1"
        assert "SIGNING_KEY" not in environ_of("frontend")
        assert "app-key-1" not in first.model_dump_json()

        same = deploy(secrets)
        assert [r.status for r in same.records] == ["unchanged", "unchanged"]

        changed = deploy({"SIGNING_KEY": SecretStr("app-key-2")})
        assert [r.status for r in changed.records] == ["deployed", "unchanged"]
        assert environ_of("backend")["SIGNING_KEY"] == "app-key-2"
    finally:
        hosting.stop()
