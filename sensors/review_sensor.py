"""The review sensor: a project whose story pull requests got new feedback or an approval gets a run
of its review-loop stages (`review_feedback` observed, `story_builds` onward).

The cursor holds per project the feedback version (`ProjectFeedback.data_version`) and the approvals
version it last acted on, and the pull requests' activity (their `updated_at`): a tick lists each
project's pull requests (one request on GitHub) and reads reviews and comments only where that
activity moved, then compares the versions. A request's run key is made
from both versions: the same feedback never starts a second run, even if the cursor were lost. Each
tick also reports the observation of `review_feedback` for a project whose feedback changed (so the
UI shows its builds unsynced at once) and says in its log what it saw.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import BaseModel, Field

from assets.review_feedback.asset import observation
from assets.review_feedback.collect import pull_requests_activity, read_project_feedback
from pipeline_core.partitions import projects_partitions
from pipeline_core.settings import Settings, get_settings
from resources.forge.base import Forge, ForgeError

if TYPE_CHECKING:
    from dagster._core.definitions.target import ExecutableDefinition

SENSOR_NAME = "review_sensor"
FEEDBACK_TAG = "pipeline/review_feedback"
APPROVALS_TAG = "pipeline/review_approvals"


class Seen(BaseModel):
    feedback: str
    approvals: str
    activity: str = ""

    def same_versions(self, other: Seen | None) -> bool:
        return other is not None and (other.feedback, other.approvals) == (self.feedback, self.approvals)


class ReviewCursor(BaseModel):
    """Per project the versions the sensor last requested a run for (or found on first sight)."""

    projects: dict[str, Seen] = Field(default_factory=dict)

    @classmethod
    def parse(cls, text: str | None) -> ReviewCursor:
        if not text:
            return cls()
        try:
            return cls.model_validate(json.loads(text))
        except ValueError:
            return cls()  # an unreadable cursor: start again (run keys still stop repeats)


def run_key(project: str, seen: Seen) -> str:
    return f"review:{project}:{seen.feedback}:{seen.approvals}"


def evaluate(
    context: dg.SensorEvaluationContext, forge: Forge, stages: Sequence[str]
) -> dg.SensorResult | dg.SkipReason:
    """One tick: compare each known project's feedback and approvals with the cursor."""
    cursor = ReviewCursor.parse(context.cursor)
    projects = context.instance.get_dynamic_partitions(projects_partitions.name or "projects")
    requests: list[dg.RunRequest] = []
    events: list[dg.AssetObservation] = []
    lines: list[str] = []
    for project in sorted(projects):
        before = cursor.projects.get(project)
        try:
            if not forge.repository_exists(project):
                continue
            pulls = forge.list_pull_requests(project)
            activity = pull_requests_activity(pulls)
            if before is not None and before.activity == activity:
                continue  # nobody reviewed, commented or merged anything since the last tick
            feedback = read_project_feedback(forge, project, pulls)
        except ForgeError as error:
            lines.append(f"{project}: could not read its pull requests ({error}); tried again next tick")
            continue
        # Times have whole seconds: activity in the current second may still grow unseen, so it is
        # only trusted (and the detail reads skipped) once it is older than that.
        times = [
            p.updated_at if p.updated_at.tzinfo else p.updated_at.replace(tzinfo=UTC)
            for p in pulls
            if p.updated_at
        ]
        newest = max(times, default=None)
        settled = newest is None or newest < datetime.now(UTC) - timedelta(seconds=2)
        seen = Seen(
            feedback=feedback.data_version(),
            approvals=feedback.approvals_version(),
            activity=activity if settled else "",
        )
        cursor.projects[project] = seen
        if seen.same_versions(before):
            continue
        has_any = any(story.items or story.approvals for story in feedback.stories)
        if before is None and not has_any:
            continue  # first sight of a project nobody reviewed yet: nothing to act on
        what = []
        if before is None or before.feedback != seen.feedback:
            events.append(observation(feedback))
            stories = [story.story_id for story in feedback.stories if story.items]
            what.append(f"feedback on {', '.join(stories) or 'no story (taken back)'}")
        if before is None or before.approvals != seen.approvals:
            approved = [story.story_id for story in feedback.stories if story.approvals]
            what.append(f"approvals of {', '.join(approved) or 'none (taken back)'}")
        lines.append(f"{project}: new {' and '.join(what)}: requested a run of {', '.join(stages)}")
        requests.append(
            dg.RunRequest(
                partition_key=project,
                run_key=run_key(project, seen),
                asset_selection=[dg.AssetKey(stage) for stage in stages],
                tags={FEEDBACK_TAG: seen.feedback, APPROVALS_TAG: seen.approvals},
            )
        )
    for line in lines:
        context.log.info(line)
    new_cursor = cursor.model_dump_json()
    if not requests:
        context.update_cursor(new_cursor)
        return dg.SkipReason(
            "; ".join(lines)
            or f"no new feedback or approvals on the pull requests of {len(projects)} project(s)"
        )
    return dg.SensorResult(run_requests=requests, asset_events=events, cursor=new_cursor)


def build_review_sensor(
    job: ExecutableDefinition, stages: Sequence[str], settings: Settings | None = None
) -> dg.SensorDefinition:
    """The review sensor, requesting runs of `stages` (a subset of `job`, over `projects_partitions`)."""
    settings = settings or get_settings()

    @dg.sensor(
        name=SENSOR_NAME,
        job=job,
        minimum_interval_seconds=settings.pipeline_sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Polls every project's story pull requests (reviews and comments) and requests a run of "
            f"{', '.join(stages)} for a project when new feedback or an approval arrives."
        ),
    )
    def review_sensor(context: dg.SensorEvaluationContext, forge: Forge) -> dg.SensorResult | dg.SkipReason:
        return evaluate(context, forge, stages)

    return review_sensor
