"""The review sensor: a project whose story pull requests got new feedback or an approval gets a run
of its review-loop stages (`review_feedback` observed, `story_builds` onward).

The cursor holds per project the feedback version (`ProjectFeedback.data_version`) and the approvals
version it last acted on, so each tick reads the forge and compares. A request's run key is made
from both versions: the same feedback never starts a second run, even if the cursor were lost. Each
tick also reports the observation of `review_feedback` for a project whose feedback changed (so the
UI shows its builds unsynced at once) and says in its log what it saw.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import BaseModel, Field

from assets.review_feedback.asset import observation
from assets.review_feedback.collect import read_project_feedback
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
        try:
            feedback = read_project_feedback(forge, project)
        except ForgeError as error:
            lines.append(f"{project}: could not read its pull requests ({error}); tried again next tick")
            continue
        if not feedback.repository_exists:
            continue
        seen = Seen(feedback=feedback.data_version(), approvals=feedback.approvals_version())
        before = cursor.projects.get(project)
        cursor.projects[project] = seen
        if before == seen:
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
