"""The `reviews` asset: per story pull request its review state, who reviewed it and when; approved
pull requests merged into main in dependency order, and main's head after the merges recorded (what
the `promote` job deploys to production). One that no longer merges cleanly is brought up to date
with main first: its story regenerated on main by the generator `story_builds` uses, as a merge
commit on its branch. Conflicts regeneration cannot resolve are reported with their files.

It runs after the project's build is validated and deployed as the preview reviewers try, so only
approvals of a validated, deployed build are merged.
"""

from collections.abc import Iterator

import dagster as dg

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet
from assets.review_feedback.apply import plan_feedback
from assets.review_feedback.collect import read_project_feedback
from assets.reviews.merge import review_and_merge
from assets.reviews.models import ReviewsReport
from assets.reviews.update import StoryRegenerator
from assets.story_builds.generation import project_generator
from assets.story_builds.models import StoryBuildsSet
from pipeline_core.links import markdown_link, review_hint
from pipeline_core.partitions import projects_partitions
from resources.forge import Forge
from resources.llm.resource import LlmResource

# Bump with the review-state rules or the merge logic.
REVIEWS_CODE_VERSION = "reviews-2"
CONFLICTS_CHECK = "approved_pull_requests_merge"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def regenerator_for(
    story_builds: StoryBuildsSet,
    requirements: RequirementsSet,
    architecture: Architecture,
    forge: Forge,
    llm: LlmResource,
) -> StoryRegenerator:
    """What `story_builds` generated the stories with: the same generator within the same bounds
    (rounds, budgets), the requirements and review feedback planned the same way, and the build key
    each story's branch must hold."""
    plan = plan_feedback(
        requirements, read_project_feedback(forge, story_builds.repository), offline=llm.provider == "offline"
    )
    return StoryRegenerator(
        # Within the bounds story_builds built them with (its run config, else the settings).
        generator=project_generator(llm, architecture, plan.requirements, bounds=story_builds.codegen_bounds),
        feedback=plan.texts,
        build_keys={
            build.story_id: build.build_key
            for build in story_builds.stories
            if build.status in ("built", "unchanged")
        },
    )


def reviews_table(report: ReviewsReport) -> str:
    rows = [
        "| story | pull request | state | reviewed by | merged | note |",
        "|---|---|---|---|---|---|",
    ]
    for pull in report.pulls:
        who = ", ".join(
            f"{v.author} ({v.state.replace('_', ' ')}"
            + (f", {v.at.strftime('%Y-%m-%d %H:%M UTC')})" if v.at else ")")
            for v in pull.reviewers
        )
        merged = (pull.merge_commit or "")[:10] + (" (this run)" if pull.merged_in_this_run else "")
        link = markdown_link(f"#{pull.number}", pull.url)
        rows.append(
            f"| {pull.story_id} | {link} | {pull.state.replace('_', ' ')} | {_cell(who)} | {merged} "
            f"| {_cell(pull.note(report.main_branch))} |"
        )
    return "\n".join(rows)


@dg.asset(
    partitions_def=projects_partitions,
    code_version=REVIEWS_CODE_VERSION,
    group_name="review",
    deps=["deployments"],
    check_specs=[
        dg.AssetCheckSpec(
            CONFLICTS_CHECK,
            asset="reviews",
            partitions_def=projects_partitions,
            description="Every approved pull request merged or waits for its dependencies (warns, "
            "naming conflicts and their files).",
        )
    ],
)
def reviews(
    context: dg.AssetExecutionContext,
    story_builds: StoryBuildsSet,
    requirements: RequirementsSet,
    architecture: Architecture,
    forge: Forge,
    llm: LlmResource,
) -> Iterator[dg.Output[ReviewsReport] | dg.AssetCheckResult]:
    """Per story pull request: open, approved, changes requested or merged, with each reviewer's
    latest verdict and its time. Approved ones are merged into main dependencies first; one that no
    longer merges cleanly is brought up to date with main (its story regenerated on main, a merge
    commit on its branch) and merged; a conflict that cannot resolve is reported with its files and
    never forced; main's head afterwards is recorded."""
    report = review_and_merge(
        forge,
        story_builds.repository,
        requirements,
        regenerator=lambda: regenerator_for(story_builds, requirements, architecture, forge, llm),
    )
    updated = report.brought_up_to_date()
    counts = {
        state: sum(pull.state == state for pull in report.pulls)
        for state in ("open", "approved", "changes_requested", "merged", "closed")
    }
    context.log.info(
        f"{report.project}: "
        + ", ".join(f"{n} {state.replace('_', ' ')}" for state, n in counts.items())
        + f"; merged now: {', '.join(p.story_id for p in report.merged_now()) or 'none'}"
        + f"; brought up to date first: {', '.join(p.story_id for p in updated) or 'none'}"
        + f"; {report.main_branch} at {report.main_commit or 'nothing'}"
    )
    yield dg.Output(
        report,
        data_version=dg.DataVersion(report.data_version()),
        metadata={
            "pull_requests": dg.MetadataValue.md(reviews_table(report)),
            **{f"pulls_{state}": dg.MetadataValue.int(n) for state, n in counts.items()},
            "merged_in_this_run": dg.MetadataValue.text(
                ", ".join(f"{p.story_id} (#{p.number})" for p in report.merged_now()) or "none"
            ),
            "brought_up_to_date": dg.MetadataValue.md(
                "\n".join(f"- {p.story_id} (#{p.number}): {p.note(report.main_branch)}" for p in updated)
                or "none"
            ),
            "main_commit": dg.MetadataValue.text(report.main_commit or "none"),
            "review_with": dg.MetadataValue.text(review_hint(report.project)),
        },
    )
    conflicts = report.conflicts()
    yield dg.AssetCheckResult(
        check_name=CONFLICTS_CHECK,
        passed=not conflicts,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "conflicts": dg.MetadataValue.md(
                "\n".join(
                    f"- {p.story_id} (#{p.number}): {', '.join(p.conflict_files) or 'files not named'}"
                    for p in conflicts
                )
                or "none"
            )
        },
    )
