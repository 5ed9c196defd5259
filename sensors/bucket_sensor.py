"""The bucket sensor: a project whose documents changed in the inbox gets its partition and a run.

The sweep itself is `sensors.inbox_scan.scan_step`; this module turns its result into Dagster
requests and log lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import dagster as dg

from pipeline_core.partitions import projects_partitions
from pipeline_core.settings import Settings, get_settings
from resources.object_store import ObjectStore
from sensors.inbox_scan import InboxCursor, ProjectChange, ScanLimits, ScanStep, reconcile, scan_step

if TYPE_CHECKING:
    from dagster._core.definitions.target import ExecutableDefinition

SENSOR_NAME = "bucket_sensor"
MAX_LINES_PER_TICK = 50
HISTORY_CHUNK = 100  # projects per run-history query (one query each was 30x slower on SQLite)

FINGERPRINT_TAG = "pipeline/inbox_fingerprint"
GENERATION_TAG = "pipeline/inbox_generation"
FILES_TAG = "pipeline/inbox_files"
# Tags the daemon puts on every run it launches for a sensor's request.
SENSOR_NAME_TAG = "dagster/sensor_name"
PARTITION_TAG = "dagster/partition"


def run_request(change: ProjectChange) -> dg.RunRequest:
    return dg.RunRequest(
        partition_key=change.project,
        run_key=change.run_key,
        tags={
            FINGERPRINT_TAG: change.fingerprint,
            GENERATION_TAG: str(change.generation),
            FILES_TAG: str(change.files),
        },
    )


def requested_before(instance: dg.DagsterInstance, projects: list[str]) -> dict[str, tuple[str, int]]:
    """Fingerprint and generation of the newest run this sensor requested for each project, if any."""
    found: dict[str, tuple[str, int]] = {}
    for start in range(0, len(projects), HISTORY_CHUNK):
        chunk = projects[start : start + HISTORY_CHUNK]
        filters = dg.RunsFilter(tags={PARTITION_TAG: chunk, SENSOR_NAME_TAG: SENSOR_NAME})
        newest_first = instance.get_run_records(filters=filters)
        done: set[str] = set()
        for record in newest_first:
            tags = record.dagster_run.tags
            project = tags.get(PARTITION_TAG, "")
            if project in done:
                continue
            done.add(project)
            if FINGERPRINT_TAG in tags and tags.get(GENERATION_TAG, "").isdigit():
                found[project] = (tags[FINGERPRINT_TAG], int(tags[GENERATION_TAG]))
    return found


def summary(step: ScanStep, inbox: ObjectStore) -> str:
    state = step.state
    where = f"sweep {state.sweep} at key {state.pos:,}"
    if state.last_total:
        where += f" of ~{state.last_total:,}"
    return (
        f"{inbox.url()}: listed {step.listed:,} keys in {step.seconds:.2f} s ({where}); "
        f"{len(step.changed)} project(s) changed, {len(step.removed)} gone, "
        f"{step.skipped_total} key(s) skipped; {len(state.projects)} project(s) known"
    )


def refusal_note(step: ScanStep) -> str:
    """The refusals first seen in this tick, for its skip reason (each is reported once)."""
    if not step.skipped:
        return ""
    reasons: dict[str, str] = {}
    for skipped in step.skipped:
        reasons.setdefault(skipped.refusal or skipped.key, skipped.reason)
    shown = "; ".join(reasons[name] for name in list(reasons)[:MAX_LINES_PER_TICK])
    more = len(reasons) - MAX_LINES_PER_TICK
    return f"refused (reported once): {shown}" + (f" and {more} more" if more > 0 else "")


def waiting_note(step: ScanStep, limits: ScanLimits) -> str:
    """Which changed projects wait for the settle window, for the tick's log and skip reason."""
    if not step.waiting:
        return ""
    shown = ", ".join(entry.describe() for entry in step.waiting[:MAX_LINES_PER_TICK])
    more = len(step.waiting) - MAX_LINES_PER_TICK
    return (
        f"waiting for {len(step.waiting)} changed project(s) to settle (no change for "
        f"{limits.settle_seconds:g} s, PIPELINE_SENSOR_SETTLE_SECONDS): {shown}"
        + (f" and {more} more" if more > 0 else "")
    )


def evaluate(
    context: dg.SensorEvaluationContext,
    inbox: ObjectStore,
    limits: ScanLimits,
    wall_clock: Callable[[], float] = time.time,
) -> dg.SensorResult:
    """One tick: continue the sweep, request partitions and runs for changed projects that settled."""
    try:
        state = InboxCursor.load(context.cursor)
    except ValueError as error:
        context.log.warning(f"{error}; starting a new sweep from the beginning of the bucket")
        state = InboxCursor()
    step = scan_step(inbox, state, limits, wall_clock=wall_clock)
    existing: set[str] = set()
    if step.changed:
        existing = set(context.instance.get_dynamic_partitions(projects_partitions.name))
        # A project the cursor does not know but that has a partition may have had runs already
        # (its cursor entry was dropped or the cursor reset): continue from its last request.
        known = [change.project for change in step.changed if change.new and change.project in existing]
        if known:
            reconcile(step, requested_before(context.instance, known))

    for skipped in step.skipped[:MAX_LINES_PER_TICK]:
        context.log.warning(f"skipped inbox object {skipped.key!r}: {skipped.reason}")
    if len(step.skipped) > MAX_LINES_PER_TICK:
        context.log.warning(f"... and {len(step.skipped) - MAX_LINES_PER_TICK} more inbox objects skipped")
    for name in step.ungrouped:
        context.log.error(
            f"the listing of {inbox.url()} returned project {name!r} in more than one run of keys; "
            "this object store does not group keys by folder, so changes may be requested twice"
        )
    if step.already_requested:
        names = ", ".join(step.already_requested[:MAX_LINES_PER_TICK])
        more = len(step.already_requested) - MAX_LINES_PER_TICK
        context.log.info(
            f"{len(step.already_requested)} project(s) new to the cursor are unchanged since the run last "
            f"requested for them, no new run: {names}" + (f" and {more} more" if more > 0 else "")
        )
    for name in step.removed:
        context.log.info(f"project {name!r} has no objects left in the inbox; forgotten by the sensor")

    partitions_request = []
    if step.changed:
        new_partitions = sorted({change.project for change in step.changed} - existing)
        if new_partitions:
            partitions_request = [projects_partitions.build_add_request(new_partitions)]
            context.log.info(f"adding project partition(s): {', '.join(new_partitions)}")
        for change in step.changed[:MAX_LINES_PER_TICK]:
            context.log.info(
                f"project {change.project!r}: {change.files} file(s), fingerprint {change.fingerprint} "
                f"({'new' if change.new else 'changed'}); requesting run {change.run_key}"
            )
        if len(step.changed) > MAX_LINES_PER_TICK:
            context.log.info(f"... and {len(step.changed) - MAX_LINES_PER_TICK} more projects changed")
    message = summary(step, inbox)
    context.log.info(message)
    waiting = waiting_note(step, limits)
    if waiting:
        context.log.info(waiting)
        message = f"{message}; {waiting}"
    refused = refusal_note(step)
    if refused:
        message = f"{message}; {refused}"
    return dg.SensorResult(
        run_requests=[run_request(change) for change in step.changed],
        dynamic_partitions_requests=partitions_request,
        cursor=step.state.dump(),
        skip_reason=None if step.changed else message,
    )


def build_bucket_sensor(
    job: ExecutableDefinition,
    settings: Settings | None = None,
    limits: ScanLimits | None = None,
    wall_clock: Callable[[], float] = time.time,
) -> dg.SensorDefinition:
    """The bucket sensor targeting `job` (a job over `projects_partitions`), on by default."""
    settings = settings or get_settings()
    tick_limits = limits or ScanLimits.from_settings(settings)

    @dg.sensor(
        name=SENSOR_NAME,
        job=job,
        minimum_interval_seconds=settings.pipeline_sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Watches the inbox (<inbox>/<project>/<file>): adds a partition for each new project and "
            "requests a run when a project's files change (new, changed or removed objects) and then "
            f"stay unchanged for {tick_limits.settle_seconds:g} s."
        ),
    )
    def bucket_sensor(context: dg.SensorEvaluationContext, inbox: ObjectStore) -> dg.SensorResult:
        return evaluate(context, inbox, tick_limits, wall_clock)

    return bucket_sensor
