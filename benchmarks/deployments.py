"""Deployments: a first deploy of the example project's preview against deploys of the unchanged project.

The project is first run through `validations` (not measured). Then the `deployments` step alone is
materialised (the `promote` job's selection, with `environment: preview`): the first time it checks
out the commit and starts, health-checks and switches a release per component; every later time
nothing changed, so it must make no new release. Prints wall time of the run, the step's own time,
new releases and release folders, and the ratio to the first deploy.

    .venv/bin/python benchmarks/deployments.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.deployments.models import DeploymentsSet  # noqa: E402
from resources.hosting import LocalHosting  # noqa: E402
from tests.support.pipeline import PipelineHarness, example_harness  # noqa: E402

PROJECT = "acme-tasks"
UPSTREAM = ["documents", "requirements", "architecture", "story_builds", "validations"]


def _release_folders(root: Path) -> int:
    return sum(1 for p in root.glob("*/*/*/*") if not p.is_symlink() and (p / "release.json").is_file())


def _deploy(harness: PipelineHarness) -> tuple[float, float, DeploymentsSet]:
    job = harness.defs.resolve_job_def("promote")
    started = time.perf_counter()
    result = job.execute_in_process(
        partition_key=PROJECT,
        instance=harness.instance,
        run_config={"ops": {"deployments": {"config": {"environment": "preview"}}}},
    )
    seconds = time.perf_counter() - started
    [step] = [event for event in result.all_events if event.is_step_success]
    step_seconds = step.event_specific_data.duration_ms / 1000  # type: ignore[union-attr]
    return seconds, step_seconds, harness.value("deployments", PROJECT, DeploymentsSet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, example_harness(Path(tmp) / "var", PROJECT) as harness:
        upstream = dg.define_asset_job("upstream", selection=UPSTREAM).resolve(
            asset_graph=harness.defs.resolve_asset_graph()
        )
        assert upstream.execute_in_process(partition_key=PROJECT, instance=harness.instance).success
        root = harness.settings.releases_dir
        rows = []
        try:
            for attempt in range(args.repeats + 1):
                before = _release_folders(root) if root.exists() else 0
                seconds, step_seconds, value = _deploy(harness)
                assert value.preview is not None and value.preview.healthy
                new = sum(1 for record in value.preview.records if record.status == "deployed")
                name = "first deploy (baseline)" if attempt == 0 else f"unchanged project #{attempt}"
                rows.append((name, seconds, step_seconds, new, _release_folders(root) - before))
        finally:
            LocalHosting(root=str(root), install_cache_dir="").stop()
    first_run, first_step = rows[0][1], rows[0][2]
    print(
        f"{'deploy':<26}{'run s':>8}{'step s':>9}{'new releases':>14}{'new folders':>13}"
        f"{'run ratio':>11}{'step ratio':>12}"
    )
    for name, seconds, step_seconds, new, folders in rows:
        print(
            f"{name:<26}{seconds:>8.2f}{step_seconds:>9.2f}{new:>14}{folders:>13}"
            f"{seconds / first_run:>11.2f}{step_seconds / first_step:>12.2f}"
        )


if __name__ == "__main__":
    main()
