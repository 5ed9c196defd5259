"""Projects per minute through documents -> requirements -> architecture on a PostgreSQL-backed instance.

For each N (default 1, 4, 16): a fresh database on a private PostgreSQL cluster, a DAGSTER_HOME with
the production profile on one machine (infra.profiles.production_on_one_machine: the queued run
coordinator with one run per project, the `llm` pool, local run processes instead of Fargate tasks),
and N projects dropped into a fresh inbox (the example project, each copy with a sentence of its
own so no project reuses another's cached model answers). An asset backfill of the three stages
for the N partitions (what "Materialize" on the three assets does in the UI) goes to the real
`dagster-daemon`, whose backfill daemon submits one run per project to the queue. The bucket sensor
is stopped (it would start the whole job, later stages included). Measured: from the first run's
creation to the last run's end. Printed: projects per minute and the ratio to one project's rate.

    .venv/bin/python benchmarks/projects_scaling.py [--projects 1,4,16] [--max-concurrent-runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make the checkout's packages importable
    sys.path.insert(0, str(ROOT))

import dagster as dg  # noqa: E402
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill  # noqa: E402
from dagster._core.utils import make_new_backfill_id  # noqa: E402

from infra.profiles import production_on_one_machine, write_dagster_home  # noqa: E402
from tests.support.dagster_daemon import CODE_LOCATION, dagster_cli, running_daemon, wait_for  # noqa: E402
from tests.support.postgres import PostgresServer, running_postgres  # noqa: E402

EXAMPLE = ROOT / "examples" / "acme-tasks"
STAGES = [dg.AssetKey("documents"), dg.AssetKey("requirements"), dg.AssetKey("architecture")]


@dataclass(frozen=True)
class Measurement:
    projects: int
    seconds: float
    mean_run_seconds: float
    mean_queue_seconds: float
    peak_parallel_runs: int

    @property
    def per_minute(self) -> float:
        return self.projects / self.seconds * 60


def drop_projects(inbox: Path, count: int) -> list[str]:
    names = [f"project-{index:02d}" for index in range(count)]
    for index, name in enumerate(names):
        shutil.copytree(EXAMPLE, inbox / name)
        with (inbox / name / "requirements.md").open("a") as notes:
            notes.write(
                f"\nAs a member of team {index}, I want a weekly summary of project {index}, "
                "so that I know what changed.\n"
            )
    return names


def peak_parallel(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = current = 0
    for _, change in edges:
        current += change
        peak = max(peak, current)
    return peak


def measure(postgres: PostgresServer, count: int, work: Path, max_concurrent_runs: int | None) -> Measurement:
    home, data = work / "dagster_home", work / "data"
    profile = production_on_one_machine(work / "compute_logs")
    if max_concurrent_runs is not None:
        profile["concurrency"]["runs"]["max_concurrent_runs"] = max_concurrent_runs
    write_dagster_home(home, profile)
    projects = drop_projects(data / "inbox", count)
    env = {
        **postgres.dagster_env(postgres.create_database(f"bench{count}")),
        "PIPELINE_DATA_DIR": str(data),
        "PIPELINE_LLM_PROVIDER": "offline",
        "PIPELINE_SENSOR_INTERVAL_SECONDS": "2",
    }
    for name in ("PIPELINE_INBOX", "PIPELINE_ARTIFACTS", "ANTHROPIC_API_KEY"):
        env[name] = ""  # the local defaults under PIPELINE_DATA_DIR, and the offline provider
    # This process creates the backfill and reads the runs through the same profile and settings.
    os.environ.update(env)
    from pipeline_core.settings import Settings
    from pipeline_defs.definitions import build_definitions

    dagster_cli(home, env, "sensor", "stop", "bucket_sensor", *CODE_LOCATION)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        instance.add_dynamic_partitions("projects", projects)
        backfill = PartitionBackfill.from_asset_partitions(
            backfill_id=make_new_backfill_id(),
            asset_graph=build_definitions(Settings()).resolve_asset_graph(),
            partition_names=projects,
            asset_selection=STAGES,
            backfill_timestamp=time.time(),
            tags={},
            dynamic_partitions_store=instance,
            all_partitions=False,
            title=f"projects_scaling N={count}",
            description=None,
            run_config=None,
        )
        instance.add_backfill(backfill)
        log_file = work / "daemon.log"
        with running_daemon(home, env, log_file) as daemon:

            def finished() -> list[dg.RunRecord] | None:
                status = instance.get_backfill(backfill.backfill_id).status
                records = instance.get_run_records()
                done = status != BulkActionStatus.REQUESTED and all(
                    r.dagster_run.is_finished for r in records
                )
                return records if done and records else None

            records = wait_for(
                finished,
                what=f"{count} project runs",
                timeout=3600,
                process=daemon,
                log_file=log_file,
                interval=1,
            )
    finally:
        instance.dispose()
    failed = [r.dagster_run.run_id for r in records if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS]
    if failed:
        raise SystemExit(f"{len(failed)} run(s) failed for N={count}; see {work}/daemon.log")
    per_project = sorted(r.dagster_run.tags.get("dagster/partition", "") for r in records)
    if per_project != sorted(projects):
        raise SystemExit(f"expected one run per project for N={count}, got partitions {per_project}")
    created = [r.create_timestamp.timestamp() for r in records]
    intervals = [(r.start_time, r.end_time) for r in records]
    return Measurement(
        projects=count,
        seconds=max(end for _, end in intervals) - min(created),
        mean_run_seconds=sum(end - start for start, end in intervals) / len(intervals),
        mean_queue_seconds=sum(start - c for (start, _), c in zip(intervals, created, strict=True))
        / len(intervals),
        peak_parallel_runs=peak_parallel(intervals),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--projects", default="1,4,16", help="comma-separated project counts (default 1,4,16)"
    )
    parser.add_argument(
        "--max-concurrent-runs", type=int, default=None, help="override the profile's queue limit"
    )
    args = parser.parse_args(argv)
    counts = [int(value) for value in args.projects.split(",")]
    if 1 not in counts:
        counts.insert(0, 1)

    results: list[Measurement] = []
    with running_postgres() as postgres:
        for count in counts:
            work = Path(tempfile.mkdtemp(prefix=f"projects-scaling-{count}-"))
            started = time.monotonic()
            results.append(measure(postgres, count, work, args.max_concurrent_runs))
            print(
                f"N={count}: done in {time.monotonic() - started:.0f} s wall (daemon start included)",
                flush=True,
            )
            shutil.rmtree(work, ignore_errors=True)

    baseline = next(result for result in results if result.projects == 1).per_minute
    print()
    print("projects  seconds  projects/min  ratio to 1  mean run s  mean queue s  peak parallel runs")
    for result in results:
        print(
            f"{result.projects:>8}  {result.seconds:>7.1f}  {result.per_minute:>12.2f}  "
            f"{result.per_minute / baseline:>10.2f}  {result.mean_run_seconds:>10.1f}  "
            f"{result.mean_queue_seconds:>12.1f}  {result.peak_parallel_runs:>18}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
