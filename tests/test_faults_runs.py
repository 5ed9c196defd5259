"""Dead runs: a run whose worker was killed is marked failed by the dead-run sensor and retried once.

The integration test starts a real run worker through the default run launcher (a code server
subprocess launches it), kills it with SIGKILL in the middle of its second step, and checks that
the sensor marks the run failed with a retryable reason, that Dagster's automatic re-execution
(the function the daemon calls) creates the retry from the failed step, and that the retry does
not redo the step that had finished.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._cli.job import _create_run
from dagster._core.definitions.dependency import NodeHandle
from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData
from dagster._core.execution.plan.handle import StepHandle
from dagster._core.execution.plan.objects import StepSuccessData
from dagster._core.execution.stats import StepEventStatus
from dagster._core.storage.tags import RUN_FAILURE_REASON_TAG, WILL_RETRY_TAG
from dagster._core.test_utils import create_run_for_test, create_test_daemon_workspace_context
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import PythonFileTarget
from dagster._daemon.auto_run_reexecution.auto_run_reexecution import (
    consume_new_runs_for_automatic_reexecution,
)

from assets.story_builds.asset import offline_generator
from assets.story_builds.build import StoryGenerator, build_stories
from pipeline_core.settings import Settings
from sensors import run_monitor
from sensors.run_monitor import ProcessFacts, process_facts, worker_gone_reason
from tests.support.story_builds import CountingForge, counting_generator, loop_project

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "infra" / "dagster"
LOCATION = ROOT / "tests" / "support" / "dead_run_location.py"


# --- the check itself -------------------------------------------------------------------------------


def test_a_worker_is_gone_when_its_pid_is_free_a_zombie_or_a_newer_process() -> None:
    recorded = 1_000_000.0
    assert worker_gone_reason(42, recorded, ProcessFacts(exists=True, started_at=recorded - 3)) is None
    assert "no longer exists" in (worker_gone_reason(42, recorded, ProcessFacts(exists=False)) or "")
    assert "has exited" in (worker_gone_reason(42, recorded, ProcessFacts(exists=True, zombie=True)) or "")
    reused = worker_gone_reason(42, recorded, ProcessFacts(exists=True, started_at=recorded + 600))
    assert reused is not None and "started after the run" in reused


def test_process_facts_reads_the_process_table() -> None:
    mine = process_facts(os.getpid())
    assert mine.exists and not mine.zombie and mine.started_at is not None
    assert mine.started_at <= time.time()
    child = os.fork()
    if child == 0:
        os._exit(0)
    deadline = time.monotonic() + 30  # a loaded machine may take a while to run the child
    while not process_facts(child).zombie and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_facts(child).zombie  # exited, not yet reaped
    os.waitpid(child, 0)
    assert not process_facts(child).exists


def test_both_profiles_retry_a_dead_run_once_and_not_an_asset_failure() -> None:
    for profile in ("embedded.yaml", "production.yaml"):
        retries = yaml.safe_load((PROFILES / profile).read_text())["run_retries"]
        assert retries == {"enabled": True, "max_retries": 1, "retry_on_asset_or_op_failure": False}, profile


def test_the_sensor_is_registered_and_on_by_default() -> None:
    from pipeline_defs.definitions import build_definitions

    defs = build_definitions(Settings(pipeline_run_monitor_interval_seconds=15))
    sensor = defs.resolve_sensor_def("dead_run_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 15
    assert Settings().pipeline_run_monitor_interval_seconds == 30


def test_other_run_launchers_are_left_to_dagster_run_monitoring() -> None:
    with dg.instance_for_test(
        overrides={"run_launcher": {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"}}
    ) as instance:
        result = run_monitor.evaluate(dg.build_sensor_context(instance=instance))
        assert "left to Dagster's run monitoring" in (result.skip_message or "")


def dead_pid() -> int:
    child = os.fork()
    if child == 0:
        os._exit(0)
    os.waitpid(child, 0)
    return child


@pytest.mark.parametrize(
    ("status", "ended"),
    [
        (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.FAILURE),
        (dg.DagsterRunStatus.CANCELING, dg.DagsterRunStatus.CANCELED),
    ],
)
def test_a_run_whose_recorded_worker_is_gone_is_ended_at_once(
    status: dg.DagsterRunStatus, ended: dg.DagsterRunStatus
) -> None:
    with dg.instance_for_test() as instance:
        live = create_run_for_test(instance, job_name="live", status=status)
        dead = create_run_for_test(instance, job_name="dead", status=status)
        create_run_for_test(instance, job_name="unknown", status=status)  # no pid recorded yet
        for run, pid in ((live, os.getpid()), (dead, dead_pid())):
            instance.report_engine_event(
                f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
            )
        run_monitor.evaluate(dg.build_sensor_context(instance=instance))
        statuses = {r.job_name: r.status for r in instance.get_runs()}
        assert statuses == {"live": status, "dead": ended, "unknown": status}


def test_a_run_that_ended_just_before_its_worker_exited_keeps_its_status() -> None:
    """The worker reports success and exits between the sensor's listing and its process check."""
    with dg.instance_for_test() as instance:
        run = create_run_for_test(instance, job_name="finishing", status=dg.DagsterRunStatus.STARTED)
        pid = dead_pid()
        instance.report_engine_event(
            f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
        )

        def finished_then_exited(checked: int) -> ProcessFacts:
            success = DagsterEvent(event_type_value=DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name)
            instance.report_dagster_event(success, run_id=run.run_id)
            return ProcessFacts(exists=False)

        result = run_monitor.evaluate(dg.build_sensor_context(instance=instance), facts=finished_then_exited)
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.SUCCESS  # type: ignore[union-attr]
        assert "ended 1 run" not in (result.skip_message or ""), result.skip_message


def step_event(instance: dg.DagsterInstance, run: dg.DagsterRun, step: str, kind: DagsterEventType) -> None:
    """What a run worker reports when a step starts or ends."""
    data = StepSuccessData(duration_ms=1.0) if kind == DagsterEventType.STEP_SUCCESS else None
    event = DagsterEvent(
        event_type_value=kind.value,
        job_name=run.job_name,
        step_handle=StepHandle(NodeHandle(step, None)),
        step_kind_value="COMPUTE",
        event_specific_data=data,
    )
    instance.report_dagster_event(event, run_id=run.run_id)


def step_statuses(instance: dg.DagsterInstance, run_id: str) -> dict[str, StepEventStatus | None]:
    return {stats.step_key: stats.status for stats in instance.get_run_step_stats(run_id)}


@pytest.mark.parametrize("ended_by", ["sensor", "elsewhere"])
def test_a_step_the_dead_worker_left_in_progress_is_reported_failed(ended_by: str) -> None:
    with dg.instance_for_test() as instance:
        run = create_run_for_test(instance, job_name="killed", status=dg.DagsterRunStatus.STARTED)
        pid = dead_pid()
        instance.report_engine_event(
            f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
        )
        step_event(instance, run, "first", DagsterEventType.STEP_START)
        step_event(instance, run, "first", DagsterEventType.STEP_SUCCESS)
        step_event(instance, run, "second", DagsterEventType.STEP_START)  # the worker dies in here
        if ended_by == "elsewhere":  # the code server, or a forced termination, failed the run first
            instance.report_run_failed(run, message="run worker exited unexpectedly")
        assert step_statuses(instance, run.run_id)["second"] == StepEventStatus.IN_PROGRESS

        result = run_monitor.evaluate(dg.build_sensor_context(instance=instance))
        assert "1 step(s) left in progress" in (result.skip_message or ""), result.skip_message
        assert step_statuses(instance, run.run_id) == {
            "first": StepEventStatus.SUCCESS,
            "second": StepEventStatus.FAILURE,
        }
        [failure] = instance.get_records_for_run(run.run_id, of_type=DagsterEventType.STEP_FAILURE).records
        assert "no longer exists" in (failure.event_log_entry.dagster_event.message or "")  # type: ignore[union-attr]
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE  # type: ignore[union-attr]

        # Reported once: a later tick finds nothing left in progress.
        again = run_monitor.evaluate(dg.build_sensor_context(instance=instance, cursor=None))
        assert "step(s) left in progress" not in (again.skip_message or "")
        assert (
            len(instance.get_records_for_run(run.run_id, of_type=DagsterEventType.STEP_FAILURE).records) == 1
        )


def test_a_step_of_an_ended_run_whose_worker_still_lives_is_left_alone() -> None:
    with dg.instance_for_test() as instance:
        run = create_run_for_test(instance, job_name="forced", status=dg.DagsterRunStatus.STARTED)
        pid = os.getpid()  # alive: it may still report the step's end
        instance.report_engine_event(
            f"Started process for run (pid: {pid}).", run, EngineEventData.in_process(pid)
        )
        step_event(instance, run, "only", DagsterEventType.STEP_START)
        instance.report_run_canceled(run, message="forced termination")
        run_monitor.evaluate(dg.build_sensor_context(instance=instance))
        assert step_statuses(instance, run.run_id) == {"only": StepEventStatus.IN_PROGRESS}


# --- a real run worker, killed --------------------------------------------------------------------


@pytest.fixture
def embedded_instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """An instance on the embedded profile (SQLite, default run launcher, run queue, run retries)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROFILES / "embedded.yaml", home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        yield instance


def wait(probe, what: str, timeout: float = 60):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def launch(context: WorkspaceProcessContext, instance: dg.DagsterInstance) -> dg.DagsterRun:
    """Create and launch a run of the location's job the way the run queue does."""
    workspace = context.create_request_context()
    location = workspace.get_code_location("dead_runs")
    repository = next(iter(location.get_repositories().values()))
    remote_job = repository.get_full_job("hanging_job")
    run = _create_run(
        instance=instance,
        code_location=location,
        remote_repo=repository,
        remote_job=remote_job,
        run_config={},
        tags={"dagster/partition": "acme"},
        op_selection=None,
        run_id=None,
    )
    instance.launch_run(run.run_id, workspace)
    return run


@pytest.mark.timeout(120)
def test_a_killed_run_worker_is_marked_failed_and_retried_from_the_failed_step(
    embedded_instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = embedded_instance
    assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
    markers = tmp_path / "markers.txt"
    markers.touch()
    monkeypatch.setenv("FAULTS_MARKER_FILE", str(markers))
    target = PythonFileTarget(
        python_file=str(LOCATION), attribute=None, working_directory=str(ROOT), location_name="dead_runs"
    )
    started = time.monotonic()
    with create_test_daemon_workspace_context(target, instance) as context:
        run = launch(context, instance)
        wait(lambda: f"second {run.run_id}" in markers.read_text(), "the run to reach its second step")
        pid, _ = wait(lambda: run_monitor.run_worker(instance, run.run_id), "the run worker's pid")
        assert pid != os.getpid()

        # Nothing to do while the worker lives.
        alive = run_monitor.evaluate(dg.build_sensor_context(instance=instance))
        assert "1 started run(s) with a live worker" in (alive.skip_message or "")
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED  # type: ignore[union-attr]

        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        wait(lambda: process_facts(pid).zombie or not process_facts(pid).exists, "the worker to die")
        result = run_monitor.evaluate(dg.build_sensor_context(instance=instance))
        failed = instance.get_run_by_id(run.run_id)
        assert failed is not None and failed.status == dg.DagsterRunStatus.FAILURE
        if "ended 1 run(s) whose workers were gone" in (result.skip_message or ""):
            assert failed.tags[RUN_FAILURE_REASON_TAG] == "RUN_WORKER_RESTART"
        else:
            # On a loaded machine the code server may notice its dead child first and fail the run
            # itself; the sensor then finds nothing left to end. Either way the run must not stay STARTED.
            assert "0 started run(s)" in (result.skip_message or ""), result.skip_message
        assert failed.tags[WILL_RETRY_TAG] == "true"
        # The step the worker died in shows failed, not in progress for ever.
        assert step_statuses(instance, run.run_id) == {
            "first": StepEventStatus.SUCCESS,
            "second": StepEventStatus.FAILURE,
        }
        detected_in = time.monotonic() - killed_at

        # What the daemon's automatic re-execution does with the failure.
        [record] = instance.get_run_records(dg.RunsFilter(run_ids=[run.run_id]))
        list(consume_new_runs_for_automatic_reexecution(context, [record], logging.getLogger("test")))
        [retry] = [r for r in instance.get_runs() if r.parent_run_id == run.run_id]
        assert retry.tags["dagster/retry_number"] == "1" and retry.tags["dagster/partition"] == "acme"
        assert retry.step_keys_to_execute == ["second"], "from failure: the finished step is not redone"
        assert retry.status == dg.DagsterRunStatus.QUEUED  # waits in the run queue like any run
        instance.launch_run(retry.run_id, context.create_request_context())  # what the queue does
        wait(
            lambda: instance.get_run_by_id(retry.run_id).is_finished,  # type: ignore[union-attr]
            "the retry to finish",
        )
        assert instance.get_run_by_id(retry.run_id).status == dg.DagsterRunStatus.SUCCESS  # type: ignore[union-attr]

    lines = markers.read_text().splitlines()
    assert lines == [f"first {run.run_id}", f"second {run.run_id}", f"second {retry.run_id}"]
    assert detected_in < 5
    assert time.monotonic() - started < 110


# --- a retry keeps the stories the cut-off run had built ------------------------------------------


class Killed(BaseException):
    """Stands for SIGKILL of the run worker: nothing after it runs, not even except-Exception blocks."""


def test_a_retry_after_a_kill_in_story_builds_does_not_rebuild_the_finished_stories(tmp_path: Path) -> None:
    requirements, architecture = loop_project(stories=6)
    forge = CountingForge(root=str(tmp_path / "forge"))
    offline = offline_generator(architecture, requirements)
    first_calls: list[str] = []
    cut_after = 3

    def dies_midway(story_id: str, tree, feedback):  # type: ignore[no-untyped-def]
        if len(first_calls) >= cut_after:
            raise Killed()
        first_calls.append(story_id)
        return offline.generate(story_id, tree, feedback)

    dying = StoryGenerator(
        id=offline.id, generate=dies_midway, finalize=offline.finalize, story_key=offline.story_key
    )
    with pytest.raises(Killed):
        build_stories("bench-loop", requirements, architecture, forge, dying, None, max_workers=1)
    assert len(first_calls) == cut_after  # their branches and pull requests were written, no value stored

    calls: list[str] = []
    forge.writes.clear()
    retried = build_stories(
        "bench-loop", requirements, architecture, forge, counting_generator(offline, calls), None
    )
    assert sorted(calls) == sorted({s.id for s in requirements.stories} - set(first_calls))
    kept = {b.story_id: b for b in retried.stories if b.story_id in first_calls}
    assert all(b.status == "built" and "cut off" in (b.reason or "") for b in kept.values())
    assert not [w for w in forge.writes if w[1] in {b.branch for b in kept.values()}], "no writes for them"
    pulls = forge.list_pull_requests("bench-loop")
    assert len(pulls) == len(requirements.stories), "no duplicate pull requests"
    assert {b.pull_request for b in retried.stories} == {p.number for p in pulls}
