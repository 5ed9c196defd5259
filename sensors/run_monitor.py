"""The dead-run sensor: a run whose worker process is gone is reported failed, so it can be retried.

Dagster's run monitoring asks the run launcher whether a run's worker is healthy, but the default
run launcher (local processes, what `dagster dev` uses) cannot answer: a run whose worker was
killed, or whose machine restarted, stays STARTED for ever, and with one run per project every
later run of that project waits behind it. This sensor, which the daemon evaluates, does the check
for that launcher: a run worker records its pid in the run's first engine event ("Started process
for run (pid: N)"); a STARTED run whose process no longer exists, is a zombie, or is a newer process
that reuses the pid (the machine restarted) is reported failed with reason RUN_WORKER_RESTART.
The instance's `run_retries` then re-execute it from the failed step. A CANCELING run whose
worker is gone is reported canceled at once (its worker can no longer acknowledge the request).

A worker killed in the middle of a step never reports the step's end either, so the UI would show
that step in progress for ever (Dagster's own run monitoring fails the run only). Each step a dead
worker left started is reported failed (STEP_FAILURE, with the same reason) before the run is, both
by this sensor and for a run something else ended (the code server noticing its dead child, a forced
termination) while the step was still in progress.

The check assumes run workers run on the machine that evaluates the sensor, which is how the
default run launcher works (the code server starts them). Other launchers (ECS) answer Dagster's
own run monitoring and are left to it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, JobFailureData, RunFailureReason
from dagster._core.execution.plan.objects import ErrorSource, StepFailureData
from dagster._core.launcher import DefaultRunLauncher
from dagster._core.storage.dagster_run import RunRecord
from dagster._utils.error import SerializableErrorInfo
from pydantic import BaseModel, Field, ValidationError

from pipeline_core.settings import Settings, get_settings

SENSOR_NAME = "dead_run_sensor"
# A pid reused by a process that started this long after the run worker recorded it: not the worker.
PID_REUSE_SLACK_SECONDS = 5.0
_ENGINE_EVENTS_TO_READ = 20
_MAX_REMEMBERED = 1000
_ENDED_RUNS_PER_TICK = 100  # runs ended since the last tick whose steps are checked
_STEP_END_EVENTS = (
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED,
    DagsterEventType.STEP_UP_FOR_RETRY,
)


class MonitorCursor(BaseModel):
    """Worker pid and the time it was recorded, per STARTED run already looked up; and the time up
    to which ended runs were checked for steps left in progress (Unix seconds, 0: never)."""

    workers: dict[str, tuple[int, float]] = Field(default_factory=dict)
    ended_checked: float = 0.0

    @classmethod
    def load(cls, cursor: str | None) -> MonitorCursor:
        if not cursor:
            return cls()
        try:
            return cls.model_validate_json(cursor)
        except ValidationError:
            return cls()


@dataclass(frozen=True)
class ProcessFacts:
    """What the process table says about one pid."""

    exists: bool
    zombie: bool = False
    started_at: float | None = None  # Unix seconds


def _boot_time() -> float:
    with open("/proc/stat") as handle:
        for line in handle:
            if line.startswith("btime "):
                return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def process_facts(pid: int) -> ProcessFacts:
    """Whether `pid` exists, is a zombie, and when it started (Linux /proc; existence elsewhere)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return ProcessFacts(exists=False)
    except PermissionError:
        pass  # exists, owned by another user
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()  # after "(comm)", which may hold spaces
    except OSError:
        return ProcessFacts(exists=True)
    # fields[0] is field 3 of proc(5) (state); field 22 (starttime, clock ticks since boot) is fields[19].
    started_at = _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return ProcessFacts(exists=True, zombie=fields[0] in ("Z", "X"), started_at=started_at)


def worker_gone_reason(pid: int, recorded_at: float, facts: ProcessFacts) -> str | None:
    """Why the run worker `pid` (recorded at `recorded_at`) is gone, or None if it still runs."""
    if not facts.exists:
        return f"its run worker process (pid {pid}) no longer exists"
    if facts.zombie:
        return f"its run worker process (pid {pid}) has exited"
    if facts.started_at is not None and facts.started_at > recorded_at + PID_REUSE_SLACK_SECONDS:
        return (
            f"its run worker's pid {pid} now belongs to a process started after the run (the machine "
            "or the process was restarted)"
        )
    return None


def run_worker(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid of the run's top process and when it was recorded: its first engine event with a pid."""
    connection = instance.get_records_for_run(
        run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=_ENGINE_EVENTS_TO_READ
    )
    for record in connection.records:
        entry = record.event_log_entry
        event = entry.dagster_event
        data = event.engine_event_data if event is not None else None
        value = data.metadata.get("pid") if data is not None else None
        text = str(getattr(value, "value", "") or "")
        if text.isdigit():
            return int(text), entry.timestamp
    return None


def check_runs(
    instance: dg.DagsterInstance,
    cursor: MonitorCursor,
    facts: Callable[[int], ProcessFacts] = process_facts,
) -> tuple[list[tuple[dg.DagsterRun, str]], MonitorCursor]:
    """The STARTED and CANCELING runs whose worker is gone (with the reason), and the next cursor."""
    started = instance.get_runs(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING])
    )
    workers: dict[str, tuple[int, float]] = {}
    dead: list[tuple[dg.DagsterRun, str]] = []
    for run in started:
        worker = cursor.workers.get(run.run_id) or run_worker(instance, run.run_id)
        if worker is None:
            continue  # its worker has not recorded itself yet
        pid, recorded_at = worker
        reason = worker_gone_reason(pid, recorded_at, facts(pid))
        if reason is None:
            if len(workers) < _MAX_REMEMBERED:
                workers[run.run_id] = (pid, recorded_at)
            continue
        # A worker reports its run's end and then exits: one that ended between the listing above
        # and the process check is not dead. Read again now that the process is known to be gone
        # (it can write nothing more), so a run that succeeded is never turned into a failure.
        current = instance.get_run_by_id(run.run_id)
        if current is not None and current.status == run.status:
            dead.append((current, reason))
    return dead, MonitorCursor(workers=workers)


def unfinished_steps(instance: dg.DagsterInstance, run_id: str) -> list[DagsterEvent]:
    """The STEP_START event of each step of the run that started (its latest attempt) and never ended."""
    records = instance.get_records_for_run(
        run_id, of_type={DagsterEventType.STEP_START, *_STEP_END_EVENTS}, limit=10_000
    ).records
    open_steps: dict[str, DagsterEvent] = {}
    for record in records:  # oldest first
        event = record.event_log_entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            open_steps[event.step_key] = event
        else:
            open_steps.pop(event.step_key, None)
    return list(open_steps.values())


def fail_unfinished_steps(instance: dg.DagsterInstance, run: dg.DagsterRun, reason: str) -> list[str]:
    """Report each step the dead worker left in progress as failed (so the UI shows it failed, not
    running for ever); returns their step keys."""
    failed = []
    for start in unfinished_steps(instance, run.run_id):
        message = f'Step "{start.step_key}" did not finish: {reason}.'
        instance.report_dagster_event(
            DagsterEvent(
                event_type_value=DagsterEventType.STEP_FAILURE.value,
                job_name=run.job_name,
                step_handle=start.step_handle,
                node_handle=start.node_handle,
                step_kind_value=start.step_kind_value,
                logging_tags=start.logging_tags,
                message=message,
                event_specific_data=StepFailureData(
                    error=SerializableErrorInfo(message=message, stack=[], cls_name=None),
                    user_failure_data=None,
                    error_source=ErrorSource.UNEXPECTED_ERROR,
                ),
            ),
            run_id=run.run_id,
            log_level=logging.ERROR,
        )
        failed.append(start.step_key or "")
    return failed


def ended_runs_with_dead_workers(
    instance: dg.DagsterInstance, since: float, facts: Callable[[int], ProcessFacts] = process_facts
) -> list[tuple[dg.DagsterRun, str]]:
    """Runs that ended (failed or canceled) since `since` while their worker is gone, with the reason:
    any step such a worker left started can never end by itself."""
    records: list[RunRecord] = list(
        instance.get_run_records(
            filters=dg.RunsFilter(
                statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
                updated_after=datetime.fromtimestamp(since, UTC) if since else None,
            ),
            limit=_ENDED_RUNS_PER_TICK,
        )
    )
    found = []
    for record in records:
        worker = run_worker(instance, record.dagster_run.run_id)
        if worker is None:
            continue
        reason = worker_gone_reason(worker[0], worker[1], facts(worker[0]))
        if reason is not None:
            found.append((record.dagster_run, reason))
    return found


def report_dead(instance: dg.DagsterInstance, run: dg.DagsterRun, reason: str) -> list[str]:
    """Mark the run failed as its worker would have, with a reason that lets run retries resume it;
    the steps it left in progress first (returned)."""
    steps = fail_unfinished_steps(instance, run, reason)
    instance.report_run_failed(
        run,
        message=(
            f"Run {run.run_id} was marked failed by the {SENSOR_NAME}: {reason}. Steps that finished "
            "before are kept; a retry (run_retries) or 'Re-execute from failure' resumes from the step "
            "that was cut off."
        ),
        job_failure_data=JobFailureData(error=None, failure_reason=RunFailureReason.RUN_WORKER_RESTART),
    )
    return steps


def evaluate(
    context: dg.SensorEvaluationContext, facts: Callable[[int], ProcessFacts] = process_facts
) -> dg.SkipReason:
    instance = context.instance
    if not isinstance(instance.run_launcher, DefaultRunLauncher):
        return dg.SkipReason(
            f"the run launcher is {type(instance.run_launcher).__name__}: its runs are left to "
            "Dagster's run monitoring"
        )
    started_at = time.monotonic()
    previous = MonitorCursor.load(context.cursor)
    checked_until = time.time()
    dead, cursor = check_runs(instance, previous, facts)
    closed = 0
    for run, reason in dead:
        project = run.tags.get("dagster/partition", "-")
        context.log.warning(f"run {run.run_id} ({run.job_name}, {project}, {run.status.value}): {reason}")
        if run.status == dg.DagsterRunStatus.CANCELING:
            # Its worker cannot acknowledge the termination any more: it is canceled now, not after
            # run monitoring's cancel timeout.
            closed += len(fail_unfinished_steps(instance, run, reason))
            instance.report_run_canceled(run, message=f"Run {run.run_id} canceled: {reason}.")
        else:
            closed += len(report_dead(instance, run, reason))
    # Runs ended by something else while a step was in progress (the code server failing a run whose
    # worker died, a forced termination): their steps too. A second's overlap: nothing is missed.
    for run, reason in ended_runs_with_dead_workers(instance, max(previous.ended_checked - 1, 0), facts):
        steps = fail_unfinished_steps(instance, run, reason)
        if steps:
            closed += len(steps)
            context.log.warning(
                f"run {run.run_id} ended with step(s) in progress: {', '.join(steps)}: {reason}"
            )
    cursor.ended_checked = checked_until
    context.update_cursor(cursor.model_dump_json())
    elapsed = time.monotonic() - started_at
    alive = len(cursor.workers)
    if dead:
        names = ", ".join(run.run_id for run, _ in dead)
        return dg.SkipReason(
            f"ended {len(dead)} run(s) whose workers were gone: {names}"
            + (f"; {closed} step(s) left in progress reported failed" if closed else "")
        )
    note = f"; {closed} step(s) left in progress by ended runs reported failed" if closed else ""
    return dg.SkipReason(f"{alive} started run(s) with a live worker; checked in {elapsed:.2f} s{note}")


def build_run_monitor_sensor(settings: Settings | None = None) -> dg.SensorDefinition:
    """The dead-run sensor, on by default, at PIPELINE_RUN_MONITOR_INTERVAL_SECONDS."""
    settings = settings or get_settings()

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=settings.pipeline_run_monitor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Marks failed any STARTED run whose run worker process is gone (killed, or the machine "
            "restarted), for the default run launcher, so that run retries resume it and the "
            "project's next runs are not stuck behind it; a CANCELING one is canceled at once."
        ),
    )
    def dead_run_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        return evaluate(context)

    return dead_run_sensor
