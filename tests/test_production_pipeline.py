"""Two projects through the pipeline at once on a PostgreSQL-backed instance, run by the real daemon.

The instance is the production profile on one machine (infra.profiles.production_on_one_machine):
PostgreSQL storage, the queued run coordinator with one run per project, the `llm` pool, run
monitoring; only the run launcher (local processes instead of Fargate tasks) and the compute-log
store differ. Runs come from both production entry points: a backfill (`dagster job backfill`) and
the bucket sensor, which the daemon evaluates. Each project therefore gets two runs queued at once,
which the queue must serialise while the other project's runs go ahead.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.events import DagsterEventType

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet
from infra.profiles import production_on_one_machine, write_dagster_home
from resources.io_manager import asset_value_key
from resources.object_store import LocalObjectStore
from tests.support.dagster_daemon import backfill, running_daemon, wait_for
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401

pytestmark = pytest.mark.integration

PROJECTS = ("alpha", "beta")
LLM_POOL_LIMIT = 1

DOCUMENTS = {
    "alpha": {
        "requirements.md": """# Alpha: field notes

Alpha is a web app in which rangers record wildlife sightings.

As a ranger, I want to record a sighting with a species, a place and a time, so that the park keeps a log.

Acceptance criteria:
- Given a signed-in ranger, when they submit a species, a place and a time, then the log shows it.

As a park manager, I want to see sightings on a map, so that I can plan patrols.
""",
        "meeting.md": """# Kick-off

As a ranger, I want to attach a photo to a sighting, so that experts can confirm the species.
""",
    },
    "beta": {
        "requirements.md": """# Beta: library loans

Beta is a web app in which a small library lends books.

As a librarian, I want to register a loan with a member and a book, so that we know who has which book.

Acceptance criteria:
- Given a librarian, when they register a loan, then the book shows as lent until it is returned.

As a member, I want to see my loans and their due dates, so that I return books on time.
""",
        "email.md": """# Mail from the head librarian

As a librarian, I want to send a reminder when a loan is overdue, so that books come back.
""",
    },
}


def _llm_pool_steps() -> set[str]:
    """Steps (one per asset) in the `llm` pool, as the code location declares them."""
    from pipeline_defs.definitions import defs

    graph = defs.resolve_asset_graph()
    steps = {key.to_user_string() for key in graph.get_all_asset_keys() if "llm" in graph.get(key).pools}
    assert {"requirements", "architecture"} <= steps, "the model-calling stages must be in the llm pool"
    return steps


def _intervals_overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _step_intervals(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """step key -> (start, end) from the run's event log."""
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            ends[event.step_key] = entry.timestamp
    return {step: (starts[step], ends[step]) for step in starts if step in ends}


@pytest.mark.timeout(1200)  # the whole job, four runs, on two shared cores
def test_two_projects_complete_with_one_run_per_project_and_the_llm_pool_respected(
    postgres_server: PostgresServer,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "dagster_home"
    write_dagster_home(home, production_on_one_machine(tmp_path / "compute_logs"))
    data = tmp_path / "data"
    for project, files in DOCUMENTS.items():
        for name, text in files.items():
            path = data / "inbox" / project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    env = {
        **postgres_server.dagster_env(postgres_server.create_database("pipeline")),
        "PIPELINE_DATA_DIR": str(data),
        "PIPELINE_LLM_PROVIDER": "offline",
        "PIPELINE_SENSOR_INTERVAL_SECONDS": "2",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    log_file = tmp_path / "daemon.log"

    instance = dg.DagsterInstance.from_config(str(home))
    try:
        # What `dagster instance concurrency set llm 1` does: the tightest limit shows violations.
        instance.event_log_storage.set_concurrency_slots("llm", LLM_POOL_LIMIT)
        instance.add_dynamic_partitions("projects", list(PROJECTS))
        backfill(home, env, list(PROJECTS))
        assert len(instance.get_runs()) == len(PROJECTS)

        with running_daemon(home, env, log_file) as daemon:

            def all_finished() -> list[dg.RunRecord] | None:
                records = instance.get_run_records()
                from_sensor = [
                    r for r in records if r.dagster_run.tags.get("dagster/sensor_name") == "bucket_sensor"
                ]
                done = all(r.dagster_run.is_finished for r in records)
                return records if len(from_sensor) == len(PROJECTS) and done else None

            records = wait_for(
                all_finished,
                what="the backfill's and the sensor's runs of both projects to finish",
                timeout=900,
                process=daemon,
                log_file=log_file,
            )

        failed = [
            r.dagster_run.run_id for r in records if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS
        ]
        assert not failed, f"runs did not succeed: {failed}"
        assert len(records) == 2 * len(PROJECTS)

        # Never two runs of one project at the same time; the two projects did run side by side.
        runs_of: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for record in records:
            assert record.start_time is not None and record.end_time is not None
            runs_of[record.dagster_run.tags["dagster/partition"]].append((record.start_time, record.end_time))
        assert sorted(runs_of) == sorted(PROJECTS)
        for project, intervals in runs_of.items():
            assert len(intervals) == 2
            assert not _intervals_overlap(*intervals), f"two runs of {project} overlapped: {intervals}"
        assert any(
            _intervals_overlap(a, b) for a, b in itertools.product(runs_of["alpha"], runs_of["beta"])
        ), f"the projects never ran in parallel: {dict(runs_of)}"

        # The llm pool's limit held across all runs: its steps never overlapped (limit 1).
        in_pool = _llm_pool_steps()
        pool_steps: list[tuple[float, float, str]] = []
        for record in records:
            steps = _step_intervals(instance, record.dagster_run.run_id)
            assert {"requirements", "architecture"} <= set(steps), (
                f"{record.dagster_run.run_id}: {sorted(steps)}"
            )
            pool_steps += [
                (*interval, f"{record.dagster_run.run_id[:8]}:{step}")
                for step, interval in steps.items()
                if step in in_pool
            ]
        pool_steps.sort()
        for earlier, later in itertools.pairwise(pool_steps):
            assert later[0] >= earlier[1], f"{earlier[2]} and {later[2]} held the llm pool at once"
    finally:
        instance.dispose()

    artifacts = LocalObjectStore(root=str(data / "artifacts"))
    for project in PROJECTS:
        stories = RequirementsSet.model_validate_json(
            artifacts.get_text(asset_value_key(dg.AssetKey("requirements"), project))
        )
        assert len(stories.stories) >= 3, project
        architecture = Architecture.model_validate_json(
            artifacts.get_text(asset_value_key(dg.AssetKey("architecture"), project))
        )
        assert architecture.components, project
