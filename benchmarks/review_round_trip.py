"""Review round trip: from a review being written to the rebuilt story's preview being healthy.

The example project is built and its preview deployed first (not measured). Then, on the embedded
defaults (offline provider, local forge, local hosting), in this process:

- baseline: the review loop's stages (what the review sensor runs: `review_feedback` observed,
  `story_builds` onward) re-run with no new feedback, until the preview is healthy (nothing to
  rebuild or redeploy);
- round trip: a reviewer requests changes on one story's pull request with a Given/When/Then
  comment (written to the forge as `ai-pipeline review request-changes` does); the review sensor is
  ticked, its one run request executed, and the clock stops when the preview runs the new
  integration commit, healthy, and its frontend answers over HTTP.

Prints the round trip split into sensor tick, run and health, the rebuilt stories, the baseline and
the ratio. Through `dagster dev` the daemon adds up to one sensor interval
(`PIPELINE_SENSOR_INTERVAL_SECONDS`, 30 s) and a subprocess per step; tests/test_loop_end_to_end.py
prints that figure for the same loop.

    .venv/bin/python benchmarks/review_round_trip.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.deployments.models import DeploymentsSet  # noqa: E402
from assets.requirements.models import RequirementsSet  # noqa: E402
from assets.story_builds.models import StoryBuildsSet  # noqa: E402
from pipeline_core.settings import Settings  # noqa: E402
from pipeline_defs.jobs import REVIEW_LOOP_ASSETS  # noqa: E402
from resources.forge import LocalForge  # noqa: E402
from resources.hosting.local import stop_releases_under  # noqa: E402
from tests.support.pipeline import EXAMPLE_PROJECT, PipelineHarness  # noqa: E402

PROJECT = "acme-tasks"
# One criterion per repeat, each new, so every repeat is a real rebuild.
COMMENTS = [
    "Given a team lead, when they create a project named Website, then the project named Website is listed",
    "Given a team lead, when they create a project named Intranet, then the project named Intranet is listed",
    "Given a team lead, when they create a project named Shop, then the project named Shop is listed",
]


def _quiet() -> dict:
    return {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def _preview_healthy(harness: PipelineHarness, commit: str | None) -> bool:
    preview = harness.value("deployments", PROJECT, DeploymentsSet).preview
    if preview is None or preview.commit != commit or not preview.healthy:
        return False
    url = preview.url()
    with urllib.request.urlopen(url or "", timeout=30) as answer:
        return answer.status == 200


def _run(harness: PipelineHarness, selection: list[dg.AssetKey], tags: dict[str, str] | None = None) -> float:
    job = harness.defs.resolve_job_def("project_pipeline")
    started = time.perf_counter()
    result = job.execute_in_process(
        partition_key=PROJECT,
        asset_selection=selection,
        instance=harness.instance,
        tags=tags or {},
        run_config=_quiet(),
    )
    assert result.success
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, choices=range(1, len(COMMENTS) + 1))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test() as instance:
        data = Path(tmp) / "var"
        os.environ.update({"PIPELINE_DATA_DIR": str(data), "PIPELINE_LLM_PROVIDER": "offline"})
        settings = Settings(pipeline_data_dir=data, pipeline_llm_provider="offline", pipeline_forge="local")
        harness = PipelineHarness.create(settings, instance)
        try:
            harness.drop_folder(EXAMPLE_PROJECT, PROJECT)
            harness.tick()
            started = time.perf_counter()
            assert harness.run(PROJECT).success
            print(f"first build and deploy (not measured): {time.perf_counter() - started:.1f} s")
            forge = LocalForge(root=str(data / "forge"))
            requirements = harness.value("requirements", PROJECT, RequirementsSet)
            commented = next(s.id for s in requirements.stories if "create a project" in s.i_want.lower())
            number = {
                b.story_id: b.pull_request
                for b in harness.value("story_builds", PROJECT, StoryBuildsSet).stories
            }

            sensor = harness.defs.resolve_sensor_def("review_sensor")
            resources = dict(harness.defs.resources or {})
            cursor: str | None = None

            def tick() -> dg.SensorResult | dg.SkipReason:
                nonlocal cursor
                with dg.build_sensor_context(
                    instance=instance, cursor=cursor, resources=resources
                ) as context:
                    result = sensor(context)
                    cursor = (
                        result.cursor if isinstance(result, dg.SensorResult) else None
                    ) or context.cursor
                return result

            tick()  # first sight of the project: nothing reviewed yet
            loop_keys = [dg.AssetKey(name) for name in REVIEW_LOOP_ASSETS]
            baselines, trips = [], []
            for repeat in range(args.repeats):
                builds = harness.value("story_builds", PROJECT, StoryBuildsSet)
                started = time.perf_counter()
                _run(harness, loop_keys)
                assert _preview_healthy(harness, builds.integration_commit)
                baselines.append(time.perf_counter() - started)

                written = time.perf_counter()
                forge.add_review(
                    PROJECT, number[commented] or 0, "changes_requested", COMMENTS[repeat], "ana"
                )
                result = tick()
                ticked = time.perf_counter()
                assert isinstance(result, dg.SensorResult), result
                [request] = result.run_requests
                _run(harness, list(request.asset_selection or []), dict(request.tags))
                ran = time.perf_counter()
                after = harness.value("story_builds", PROJECT, StoryBuildsSet)
                assert after.integration_commit != builds.integration_commit
                deadline = time.monotonic() + 120
                while not _preview_healthy(harness, after.integration_commit):
                    assert time.monotonic() < deadline, "the rebuilt preview never became healthy"
                    time.sleep(0.2)
                healthy = time.perf_counter()
                rebuilt = sorted(b.story_id for b in after.stories if b.status == "built")
                trips.append(healthy - written)
                print(
                    f"repeat {repeat + 1}: baseline (no feedback) {baselines[-1]:.1f} s; round trip "
                    f"{healthy - written:.1f} s = sensor tick {ticked - written:.2f} s "
                    f"+ run {ran - ticked:.1f} s + health {healthy - ran:.2f} s; "
                    f"rebuilt {len(rebuilt)} of {len(after.stories)} stories ({', '.join(rebuilt)})"
                )
            best_trip, best_base = min(trips), min(baselines)
            print(
                f"review round trip: {best_trip:.1f} s (best of {len(trips)}); baseline rerun without "
                f"feedback: {best_base:.1f} s; ratio {best_trip / best_base:.2f}"
            )
        finally:
            stop_releases_under(data, depth=1)


if __name__ == "__main__":
    main()
