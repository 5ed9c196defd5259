"""The `story_builds` asset: the project's repository, written story by story with a pull request each."""

from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet
from assets.review_feedback.apply import annotate, plan_feedback, tell_what_offline_cannot_do
from assets.review_feedback.collect import read_project_feedback
from assets.story_builds.build import build_stories
from assets.story_builds.generation import codegen_bounds, project_generator

# The generators live in a plain module that `reviews` imports too; named here for existing callers.
from assets.story_builds.generation import model_generator as model_generator
from assets.story_builds.generation import offline_generator as offline_generator
from assets.story_builds.models import StoryBuildsSet
from pipeline_core.links import markdown_link, repository_links
from pipeline_core.partitions import projects_partitions
from pipeline_core.progress import Progress
from resources.forge import Forge
from resources.io_manager import read_previous_value
from resources.llm.resource import LlmResource
from resources.object_store import ObjectStore

# Bump with the build logic; the generator's own version is part of every story's build key.
STORY_BUILDS_CODE_VERSION = "story-builds-3"
ALL_BUILT_CHECK = "all_stories_built"


def _cell(text: str, limit: int = 160) -> str:
    """One line of `text` that fits a markdown table cell."""
    line = " ".join(text.split())
    line = line if len(line) <= limit else line[: limit - 1] + "…"
    return line.replace("|", "\\|")


def _stories_table(value: StoryBuildsSet) -> str:
    rows = [
        "| story | status | branch | commit | pull request | files | rounds | calls | tokens | cost (USD) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for build in value.stories:
        pull = markdown_link(f"#{build.pull_request}", build.pull_request_url) if build.pull_request else ""
        note = f" ({_cell(build.reason)})" if build.reason else ""
        commit = (build.commit or "")[:10]
        tokens = build.input_tokens + build.output_tokens
        rows.append(
            f"| {build.story_id} | {build.status}{note} | `{build.branch}` | `{commit}` | {pull} "
            f"| {len(build.files_changed)} | {build.rounds} | {build.model_calls} | {tokens} "
            f"| {build.cost_usd:.4f} |"
        )
    return "\n".join(rows)


class StoryBuildsConfig(dg.Config):
    """The closed loop's bounds for Claude-written stories; unset fields take their settings."""

    fix_rounds: int | None = Field(
        None, ge=1, description="most change sets tested per story (PIPELINE_CODEGEN_FIX_ROUNDS)"
    )
    budget_usd_per_story: float | None = Field(
        None, gt=0, description="estimated USD one story may cost (PIPELINE_BUDGET_USD_PER_STORY)"
    )
    budget_usd_per_project: float | None = Field(
        None, gt=0, description="estimated USD one run may cost (PIPELINE_BUDGET_USD_PER_PROJECT)"
    )


@dg.asset(
    partitions_def=projects_partitions,
    code_version=STORY_BUILDS_CODE_VERSION,
    pool="llm",
    group_name="build",
    deps=["review_feedback"],
    check_specs=[
        dg.AssetCheckSpec(
            ALL_BUILT_CHECK,
            asset="story_builds",
            partitions_def=projects_partitions,
            description="Every story was built (warns, naming the failed, blocked and over-budget ones).",
        )
    ],
)
def story_builds(
    context: dg.AssetExecutionContext,
    config: StoryBuildsConfig,
    requirements: RequirementsSet,
    architecture: Architecture,
    forge: Forge,
    llm: LlmResource,
    artifacts: ObjectStore,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    """Per story: a branch built on its dependencies' code, one commit, one pull request, and the key of
    the inputs it was built from. Only stories whose key changed are rebuilt; a Claude-written story is
    committed only once its components' tests pass in the sandbox (bounded in rounds and budget); a
    failed or over-budget story is recorded with its reason while the others are built, and a re-run
    retries it. Review feedback on a story is part of its build key: a model gets it quoted; offline,
    a Given/When/Then becomes a criterion of the story and other text a comment on its pull request."""
    project = context.partition_key
    previous = read_previous_value(artifacts, "story_builds", project, StoryBuildsSet)
    offline = llm.provider == "offline"
    plan = plan_feedback(requirements, read_project_feedback(forge, project), offline=offline)
    requirements = plan.requirements
    generator = project_generator(
        llm,
        architecture,
        requirements,
        bounds=codegen_bounds(config.fix_rounds, config.budget_usd_per_story, config.budget_usd_per_project),
    )
    progress = Progress(context.log.info, f"{project}: stories built", every_n=10)
    value = build_stories(
        project,
        requirements,
        architecture,
        forge,
        generator,
        previous,
        progress=progress,
        feedback=plan.texts,
    )
    value = annotate(value, plan)
    notes = tell_what_offline_cannot_do(forge, value.repository, value, plan)

    counts = {
        status: sum(b.status == status for b in value.stories)
        for status in ("built", "unchanged", "failed", "blocked", "over_budget")
    }
    attempted = [b for b in value.stories if b.status != "unchanged"]  # what this run spent
    context.log.info(f"{project}: " + ", ".join(f"{n} {status}" for status, n in counts.items()))
    budget = value.budget_usd_per_project
    yield dg.Output(
        value,
        data_version=dg.DataVersion(value.data_version()),
        metadata={
            **repository_links(value.repository_url, value.repository_url, project),
            "stories": dg.MetadataValue.md(_stories_table(value)),
            **{f"stories_{status}": dg.MetadataValue.int(n) for status, n in counts.items()},
            "stories_done": dg.MetadataValue.text(f"{progress.done} of {progress.total}"),
            "integration_commit": dg.MetadataValue.text(value.integration_commit or "none"),
            "stories_with_feedback": dg.MetadataValue.int(len(plan.hashes)),
            "review_criteria": dg.MetadataValue.md(
                "\n".join(
                    f"- {story_id} {c.id}: Given {c.given}, when {c.when}, then {c.then}"
                    for story_id, criteria in plan.criteria.items()
                    for c in criteria
                )
                or "none"
            ),
            "feedback_not_acted_on": dg.MetadataValue.md(
                "\n".join(
                    f"- {b.story_id}: {_cell(line, 600)}"
                    for b in value.stories
                    for line in b.feedback_not_acted_on
                )
                or "none"
            ),
            "feedback_comments": dg.MetadataValue.int(notes),
            "generator": dg.MetadataValue.text(generator.id),
            "fix_rounds": dg.MetadataValue.int(sum(max(b.rounds - 1, 0) for b in attempted)),
            "llm_model_calls": dg.MetadataValue.int(sum(b.model_calls for b in attempted)),
            "llm_input_tokens": dg.MetadataValue.int(sum(b.input_tokens for b in attempted)),
            "llm_output_tokens": dg.MetadataValue.int(sum(b.output_tokens for b in attempted)),
            "llm_estimated_cost_usd": dg.MetadataValue.float(float(round(value.spent_usd, 6))),
            "budget_usd_per_project": dg.MetadataValue.text(
                f"{budget:.4f}" if budget is not None else "none"
            ),
            "budget_spent": dg.MetadataValue.text(
                f"${value.spent_usd:.4f} of ${budget:.4f} ({value.spent_usd / budget:.0%})"
                if budget
                else f"${value.spent_usd:.4f} (no project budget)"
            ),
        },
    )
    unbuilt = [b for b in value.stories if b.status in ("failed", "blocked", "over_budget")]
    yield dg.AssetCheckResult(
        check_name=ALL_BUILT_CHECK,
        passed=not unbuilt,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "not_built": dg.MetadataValue.md(
                "\n".join(f"- {b.story_id} ({b.status}): {_cell(b.reason or '', 600)}" for b in unbuilt)
                or "none"
            )
        },
    )
