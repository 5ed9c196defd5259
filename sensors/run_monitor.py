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

The check assumes run workers run on the machine that evaluates the sensor, which is how the
default run launcher works (the code server starts them). Other launchers (ECS) answer Dagster's
own run monitoring and are left to it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
from dagster._core.events import DagsterEventType, JobFailureData, RunFailureReason
from dagster._core.launcher import DefaultRunLauncher
from pydantic import BaseModel, Field, ValidationError

from pipeline_core.settings import Settings, get_settings

SENSOR_NAME = "dead_run_sensor"
# A pid reused by a process that started this long after the run worker recorded it: not the worker.
PID_REUSE_SLACK_SECONDS = 5.0
_ENGINE_EVENTS_TO_READ = 20
_MAX_REMEMBERED = 1000


class MonitorCursor(BaseModel):
    """Worker pid and the time it was recorded, per STARTED run already looked up."""

    workers: dict[str, tuple[int, float]] = Field(default_factory=dict)

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
        else:
            dead.append((run, reason))
    return dead, MonitorCursor(workers=workers)


def report_dead(instance: dg.DagsterInstance, run: dg.DagsterRun, reason: str) -> None:
    """Mark the run failed as its worker would have, with a reason that lets run retries resume it."""
    instance.report_run_failed(
        run,
        message=(
            f"Run {run.run_id} was marked failed by the {SENSOR_NAME}: {reason}. Steps that finished "
            "before are kept; a retry (run_retries) or 'Re-execute from failure' resumes from the step "
            "that was cut off."
        ),
        job_failure_data=JobFailureData(error=None, failure_reason=RunFailureReason.RUN_WORKER_RESTART),
    )


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
    dead, cursor = check_runs(instance, MonitorCursor.load(context.cursor), facts)
    for run, reason in dead:
        project = run.tags.get("dagster/partition", "-")
        context.log.warning(f"run {run.run_id} ({run.job_name}, {project}, {run.status.value}): {reason}")
        if run.status == dg.DagsterRunStatus.CANCELING:
            # Its worker cannot acknowledge the termination any more: it is canceled now, not after
            # run monitoring's cancel timeout.
            instance.report_run_canceled(run, message=f"Run {run.run_id} canceled: {reason}.")
        else:
            report_dead(instance, run, reason)
    context.update_cursor(cursor.model_dump_json())
    elapsed = time.monotonic() - started_at
    alive = len(cursor.workers)
    if dead:
        names = ", ".join(run.run_id for run, _ in dead)
        return dg.SkipReason(f"ended {len(dead)} run(s) whose workers were gone: {names}")
    return dg.SkipReason(f"{alive} started run(s) with a live worker; checked in {elapsed:.2f} s")


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
