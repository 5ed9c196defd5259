"""The `project_page` asset: one static HTML page per project in the artifact store, for people.

For every story: its text, priority and acceptance criteria, the quotes it came from, its pull
request and review state, its tests and the criteria they cover; the project's documents and the
rejected ones with reasons; model use per stage. `ai-pipeline page` serves it over http.
"""

from collections.abc import Iterator, Sequence

import dagster as dg

from assets.deployments.models import DeploymentsSet
from assets.documents.models import DocumentsSnapshot
from assets.project_page.models import DeploymentView, ProjectPage, StageLink, UsageView
from assets.project_page.render import render_page
from assets.project_page.view import build_page_view
from assets.requirements.models import RequirementsSet
from assets.story_builds.models import StoryBuildsSet
from assets.validations.models import ValidationReport
from pipeline_core.hashing import content_hash
from pipeline_core.links import Links, project_page_key
from pipeline_core.partitions import projects_partitions
from resources.forge import Forge, ForgeError
from resources.io_manager import read_previous_value
from resources.object_store import ObjectStore

# Bump with the page's content or template.
PROJECT_PAGE_CODE_VERSION = "project-page-1"
STAGES = ("documents", "requirements", "architecture", "story_builds", "validations", "deployments")
PAGE_CHECK = "page_lists_every_story"


def stage_usage(instance: dg.DagsterInstance, project: str, stages: Sequence[str]) -> list[UsageView]:
    """Model calls, tokens and cost from each stage's latest materialisation of `project`."""
    out = []
    for stage in stages:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(stage), asset_partitions=[project]), limit=1
        ).records
        if not records or records[0].asset_materialization is None:
            continue
        metadata = {key: value.value for key, value in records[0].asset_materialization.metadata.items()}
        if "llm_model_calls" not in metadata:
            continue
        out.append(
            UsageView(
                stage=stage,
                model_calls=int(metadata.get("llm_model_calls") or 0),
                input_tokens=int(metadata.get("llm_input_tokens") or 0),
                output_tokens=int(metadata.get("llm_output_tokens") or 0),
                cost_usd=float(metadata.get("llm_estimated_cost_usd") or 0.0),
            )
        )
    return out


def deployment_views(deployments: DeploymentsSet | None) -> list[DeploymentView]:
    """The last stored deployments of the project (this run's, when `deployments` ran before the
    page; the URLs of local hosting are stable, so they hold across runs)."""
    out = []
    for env in (deployments.preview, deployments.production) if deployments else ():
        for r in env.records if env else []:
            out.append(
                DeploymentView(
                    environment=r.environment,
                    component=r.component,
                    target=r.target,
                    url=r.url or "",
                    health=r.health,
                    status=r.status,
                    commit=r.commit,
                    reason=r.reason,
                )
            )
    return out


@dg.asset(
    partitions_def=projects_partitions,
    code_version=PROJECT_PAGE_CODE_VERSION,
    group_name="build",
    check_specs=[
        dg.AssetCheckSpec(
            PAGE_CHECK,
            asset="project_page",
            partitions_def=projects_partitions,
            description="The page shows every story of the project (warns, naming any missing).",
        )
    ],
)
def project_page(
    context: dg.AssetExecutionContext,
    documents: DocumentsSnapshot,
    requirements: RequirementsSet,
    story_builds: StoryBuildsSet,
    validations: ValidationReport,
    forge: Forge,
    artifacts: ObjectStore,
    links: Links,
) -> Iterator[dg.Output[ProjectPage] | dg.AssetCheckResult]:
    """The project as a whole on one HTML page (no script): every story with the quotes it came from,
    its pull request and review state and its tests; rejected documents; token and cost totals."""
    project = context.partition_key
    pulls = {}
    problems = []
    for build in story_builds.stories:
        if build.pull_request is None:
            continue
        try:
            number = build.pull_request
            pulls[number] = (
                forge.get_pull_request(story_builds.repository, number),
                forge.get_reviews(story_builds.repository, number),
            )
        except ForgeError as error:
            problems.append(f"{build.story_id}: {error}")
    usage = stage_usage(context.instance, project, STAGES[1:])
    view = build_page_view(
        documents,
        requirements,
        story_builds,
        validations,
        pulls,
        usage,
        [StageLink(stage=stage, url=links.asset(stage, project)) for stage in STAGES],
    )
    view.problems.extend(problems)
    deployed = read_previous_value(artifacts, "deployments", project, DeploymentsSet)
    view.deployments = deployment_views(deployed)
    html = render_page(view)
    key = project_page_key(project)
    artifacts.put_text(key, html, content_type="text/html; charset=utf-8")
    value = ProjectPage(
        project=project,
        key=key,
        url=links.page(project),
        stories=[story.id for story in view.stories],
        # The generation time is left out so an unchanged project keeps its data version.
        html_hash=content_hash(view.model_dump(mode="json", exclude={"generated_at"})),
    )
    missing = [story.id for story in requirements.stories if f'id="{story.id}"' not in html]
    context.log.info(f"{project}: page with {len(view.stories)} stories at {artifacts.url()}/{key}")
    yield dg.Output(
        value,
        data_version=dg.DataVersion(value.html_hash),
        metadata={
            "page": dg.MetadataValue.url(value.url),
            "stored_at_html": dg.MetadataValue.text(f"{artifacts.url()}/{key}"),
            "stories": dg.MetadataValue.int(len(view.stories)),
            "open_with": dg.MetadataValue.text(f"ai-pipeline page {project}"),
            "forge_problems": dg.MetadataValue.text("; ".join(problems) or "none"),
        },
    )
    yield dg.AssetCheckResult(
        check_name=PAGE_CHECK,
        passed=not missing and bool(view.stories),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"missing_stories": dg.MetadataValue.text(", ".join(missing) or "none")},
    )
