"""The `review_feedback` observable source asset: per project, what reviewers said on its story pull
requests, observed from the forge (local records, or GitHub reviews and comments).

Its data version is a hash of the feedback only, so it changes when new feedback arrives and not
otherwise (approvals, merges and the pipeline's own comments leave it alone); `story_builds` depends
on it, so the UI shows a project's builds unsynced once someone asks for a change. The review sensor
observes it on each tick; every `project_pipeline` run observes it before building.
"""

import dagster as dg

from assets.review_feedback.collect import read_project_feedback
from assets.review_feedback.models import KIND_WORDS, ProjectFeedback
from pipeline_core.partitions import projects_partitions
from resources.forge import Forge

DATA_VERSION_TAG = "dagster/data_version"  # where Dagster reads an observation's data version


def _cell(text: str, limit: int = 160) -> str:
    line = " ".join(text.split())
    return (line if len(line) <= limit else line[: limit - 1] + "…").replace("|", "\\|")


def feedback_table(feedback: ProjectFeedback) -> str:
    rows = [
        "| story | pull requests | feedback | approved by | latest |",
        "|---|---|---|---|---|",
    ]
    for story in feedback.stories:
        latest = story.items[-1] if story.items else None
        said = f"{latest.author} ({KIND_WORDS[latest.kind]}): {_cell(latest.body)}" if latest else ""
        approvers = ", ".join(sorted({approval.author for approval in story.approvals}))
        pulls = ", ".join(f"#{n}" for n in story.pull_requests)
        rows.append(f"| {story.story_id} | {pulls} | {len(story.items)} | {approvers} | {said} |")
    return "\n".join(rows)


def observation(feedback: ProjectFeedback) -> dg.AssetObservation:
    """The observation of one project's feedback, with its data version and a table for people."""
    with_feedback = [story for story in feedback.stories if story.items]
    return dg.AssetObservation(
        asset_key=dg.AssetKey("review_feedback"),
        partition=feedback.project,
        tags={DATA_VERSION_TAG: feedback.data_version()},
        metadata={
            "stories_with_feedback": dg.MetadataValue.int(len(with_feedback)),
            "feedback_items": dg.MetadataValue.int(sum(len(story.items) for story in feedback.stories)),
            "approvals": dg.MetadataValue.int(sum(len(story.approvals) for story in feedback.stories)),
            "repository_exists": dg.MetadataValue.bool(feedback.repository_exists),
            "stories": dg.MetadataValue.md(feedback_table(feedback)),
            "review_with": dg.MetadataValue.text(
                f"ai-pipeline review list --project {feedback.project}; "
                f"ai-pipeline review request-changes {feedback.project} <number> --comment '...'"
            ),
        },
    )


@dg.observable_source_asset(
    partitions_def=projects_partitions,
    group_name="review",
    description=(
        "Observed from the forge: per story the reviews, comments and requested changes on its pull "
        "requests. The data version changes only when new feedback arrives."
    ),
)
def review_feedback(context: dg.OpExecutionContext, forge: Forge) -> dg.DataVersionsByPartition:
    """Per project (the run's partition, else every known project) the feedback on its stories."""
    projects = (
        [context.partition_key]
        if context.has_partition_key
        else context.instance.get_dynamic_partitions(projects_partitions.name or "projects")
    )
    for project in projects:
        feedback = read_project_feedback(forge, project)
        # Logged by hand rather than returned: a partitioned observation returned by value carries no
        # metadata, and the table is what a person looks at.
        context.log_event(observation(feedback))
        context.log.info(
            f"{project}: {len(feedback.texts())} stories with feedback (version {feedback.data_version()})"
        )
    return dg.DataVersionsByPartition({})
