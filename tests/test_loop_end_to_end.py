"""The whole loop on the embedded defaults, through the sensors and the daemon of a `dagster dev`
started by the test, with the commands a person types (`ai-pipeline ...` in a subprocess):

1. `ai-pipeline drop` the example project; the bucket sensor's run deploys the preview, which is
   healthy and answers over HTTP (`ai-pipeline urls` says so too).
2. `ai-pipeline review approve` two independent stories' pull requests and `review request-changes`
   another with a Given/When/Then comment; the review sensor starts exactly one run (and none again
   for the same feedback).
3. That run merges both approved pull requests into `main` (the second brought up to date with main
   first: each laid its own copy of the shared files), rebuilds only the commented story and the
   stories built on it (the new criterion covered by a passing test), and redeploys the preview from
   the new integration commit.
4. A release failing its health check (the live preview's backend, started by a command that exits)
   is rolled back: the old release still answers on the same URL.

The pull requests are chosen as a reviewer would: the comment goes to the story it is about
(creating a project), the approval to a story with no dependencies outside that chain.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assets.deployments.models import DeploymentsSet, EnvironmentDeployment
from assets.requirements.models import RequirementsSet
from assets.reviews.models import ReviewsReport
from assets.story_builds.models import StoryBuildsSet
from assets.validations.models import ValidationReport
from pipeline_core.repository.manifest import StartCommand, read_manifest
from pipeline_core.settings import Settings
from resources.forge import LocalForge
from resources.hosting import ReleaseRequest, make_local_hosting
from tests.support.cli import ai_pipeline, cli_env
from tests.support.dagster_dev import (
    EXAMPLE,
    RUN_TIMEOUT,
    SENSOR_ENV,
    DagsterDev,
    running_dagster_dev,
    wait_for_runs,
)
from tests.support.story_builds import dependents

PROJECT = "acme-tasks"
GWT = "Given a team lead, when they create a project named Website, then the project named Website is listed"


def http_status(url: str, timeout: float = 30) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


class Loop:
    """The server, the CLI's environment and typed reads of the project's stored asset values."""

    def __init__(self, server: DagsterDev) -> None:
        self.server = server
        self.env = cli_env(server.data_dir, DAGSTER_HOME=str(server.home), **server.env)
        self.settings = Settings(pipeline_data_dir=server.data_dir, pipeline_llm_provider="offline")
        self.forge = LocalForge(root=str(server.data_dir / "forge"))

    def cli(self, *args: str) -> str:
        done = ai_pipeline(*args, env=self.env)
        assert done.returncode == 0, (args, done.stdout, done.stderr[-3000:])
        return done.stdout

    def value(self, asset: str, model: type) -> object:
        import dagster as dg

        from resources.io_manager import asset_value_key
        from resources.object_store import object_store_from_url

        store = object_store_from_url((self.server.data_dir / "artifacts").as_uri())
        return model.model_validate_json(store.get_text(asset_value_key(dg.AssetKey(asset), PROJECT)))

    def runs_of(self, sensor: str) -> list[dict]:
        return self.server.runs({"dagster/sensor_name": sensor, "dagster/partition": PROJECT})

    def ticks_after(self, sensor: str, after: float) -> int:
        """How many ticks `sensor` has had since `after` (a Unix time)."""
        selector = self.server._location_selector()
        data = self.server.graphql(
            """query Ticks($selector: SensorSelector!) {
                 sensorOrError(sensorSelector: $selector) {
                   ... on Sensor { sensorState { ticks(limit: 20) { timestamp status } } }
                 }
               }""",
            {"selector": {**selector, "sensorName": sensor}},
        )["sensorOrError"]
        return sum(tick["timestamp"] > after for tick in data["sensorState"]["ticks"])


def preview_answers(preview: EnvironmentDeployment) -> None:
    """Every component of the preview is healthy, and answers at its URL over HTTP."""
    assert preview.healthy, preview.records
    for record in preview.records:
        assert record.url and record.url.startswith("http://127.0.0.1:"), record
        status = http_status(record.url)
        # The frontend serves its page; a backend's root may be a 404, but it must answer.
        assert status == 200 if record.kind == "frontend" else status < 500, (record, status)


@pytest.mark.integration
@pytest.mark.timeout(4 * RUN_TIMEOUT)
def test_drop_review_rebuild_redeploy_and_roll_back_through_the_daemon(tmp_path: Path) -> None:
    with running_dagster_dev(tmp_path, SENSOR_ENV) as server:
        loop = Loop(server)

        # 1. Drop: the bucket sensor's run builds, validates and deploys the preview.
        assert "dropped acme-tasks/requirements.md" in loop.cli("drop", str(EXAMPLE), "--project", PROJECT)
        [first_run] = wait_for_runs(
            server, lambda: loop.runs_of("bucket_sensor"), what="the bucket sensor's run", timeout=RUN_TIMEOUT
        )
        assert first_run["status"] == "SUCCESS", first_run
        requirements = loop.value("requirements", RequirementsSet)
        first = loop.value("story_builds", StoryBuildsSet)
        deployed = loop.value("deployments", DeploymentsSet)
        assert deployed.preview is not None and deployed.preview.commit == first.integration_commit
        preview_answers(deployed.preview)
        urls = loop.cli("urls", PROJECT)
        for record in deployed.preview.records:
            assert record.url in urls
        assert urls.count("healthy") >= len(deployed.preview.records), urls

        # 2. Review through the CLI. The review sensor is off while both reviews are written, as a
        #    person would finish a review round before the pipeline acts on it (each review alone
        #    would otherwise start its own run, which is right but not what is measured here).
        pulls = {
            pull["story_id"]: pull["number"]
            for pull in json.loads(loop.cli("review", "list", "--project", PROJECT, "--json"))
        }
        commented = next(s.id for s in requirements.stories if "create a project" in s.i_want.lower())
        rebuilt = dependents(requirements, commented)
        independent = [s.id for s in requirements.stories if not s.depends_on and s.id not in rebuilt]
        approved, also = independent[:2]
        server.stop_sensor("review_sensor")
        loop.cli("review", "approve", PROJECT, str(pulls[approved]), "--author", "bea")
        loop.cli("review", "approve", PROJECT, str(pulls[also]), "--author", "bea")
        loop.cli(
            "review", "request-changes", PROJECT, str(pulls[commented]), "--author", "ana", "--comment", GWT
        )
        written = time.time()
        server.start_sensor("review_sensor")

        # 3. One run, by the review sensor; none again for the same feedback.
        [review_run] = wait_for_runs(
            server, lambda: loop.runs_of("review_sensor"), what="the review sensor's run", timeout=RUN_TIMEOUT
        )
        assert review_run["status"] == "SUCCESS", review_run
        ended = time.time()
        server.wait_for(
            lambda: loop.ticks_after("review_sensor", ended) >= 3, what="3 more ticks", timeout=300
        )
        assert len(loop.runs_of("review_sensor")) == 1
        assert len(loop.runs_of("bucket_sensor")) == 1  # the inbox did not change
        print(f"review written -> rebuilt preview healthy: {ended - written:.0f} s (run ended)")

        reviews = loop.value("reviews", ReviewsReport)
        by_story = {pull.story_id: pull for pull in reviews.pulls}
        assert by_story[approved].state == "merged" and by_story[approved].merged_in_this_run, by_story[
            approved
        ]
        assert by_story[also].state == "merged" and by_story[also].merged_in_this_run, by_story[also]
        # The second one merged had laid the same shared files: its branch was brought up to date first.
        assert [p.story_id for p in reviews.brought_up_to_date()] == [also]
        assert ".ai-pipeline/manifest.json" in by_story[also].files_regenerated
        main_tree = {path: data.decode() for path, data in loop.forge.read_tree(PROJECT, "main").items()}
        on_main = read_manifest(main_tree)
        assert on_main is not None and {approved, also} <= {story.id for story in on_main.stories}
        assert reviews.main_commit == loop.forge.branch_head(PROJECT, "main")
        assert by_story[commented].state == "changes_requested"

        second = loop.value("story_builds", StoryBuildsSet)
        built = {b.story_id for b in second.stories if b.status == "built"}
        assert built == rebuilt, (built, rebuilt)
        before = {b.story_id: b for b in first.stories}
        for build in second.stories:
            if build.story_id not in rebuilt:
                assert build.status == "unchanged" and build.commit == before[build.story_id].commit
            assert build.pull_request == before[build.story_id].pull_request  # no new pull request
        story = {b.story_id: b for b in second.stories}[commented]
        [criterion] = story.review_criteria
        assert "Website" in criterion.when and "Website" in criterion.then, criterion
        validations = loop.value("validations", ValidationReport)
        assert validations.commit == second.integration_commit != first.integration_commit
        coverage = {(c.story_id, c.criterion_id): c.status for c in validations.coverage}
        assert coverage[(commented, criterion.id)] == "passed", coverage

        redeployed = loop.value("deployments", DeploymentsSet)
        assert redeployed.preview is not None and redeployed.preview.commit == second.integration_commit
        for record in redeployed.preview.records:
            assert record.status == "deployed" and record.previous_commit == first.integration_commit, record
        preview_answers(redeployed.preview)

        # 4. A release that fails its health check: the preview's backend, its start command exiting.
        tree = {
            path: data.decode()
            for path, data in loop.forge.read_tree(PROJECT, second.integration_commit or "").items()
        }
        manifest = read_manifest(tree)
        assert manifest is not None
        [backend] = [c for c in manifest.components if c.kind == "backend"]
        checkout = tmp_path / "broken"
        for path, text in tree.items():
            (checkout / path).parent.mkdir(parents=True, exist_ok=True)
            (checkout / path).write_text(text)
        broken = backend.model_copy(
            update={
                "start": StartCommand(
                    argv=["python", "-c", "import sys; print('cannot start: broken'); sys.exit(3)", "{port}"]
                )
            }
        )
        [live] = [r for r in redeployed.preview.records if r.component == backend.name]
        attempt = make_local_hosting(loop.settings).deploy(
            ReleaseRequest(
                project=PROJECT,
                environment="preview",
                component=broken,
                commit=f"broken{(second.integration_commit or '')[:8]}",
                source_dir=checkout / backend.path,
            )
        )
        assert attempt.status == "rolled_back" and attempt.health == "unhealthy", attempt
        assert "cannot start: broken" in attempt.reason, attempt.reason
        # The record names what still runs: the live release, on the same URL.
        assert attempt.url == live.url and attempt.previous_commit == live.commit, (attempt, live)
        assert http_status(live.url or "") < 500  # the old release still answers on its URL
        [after] = [
            r for r in make_local_hosting(loop.settings).records(PROJECT) if r.component == backend.name
        ]
        assert after.commit == second.integration_commit and after.health == "healthy", after
