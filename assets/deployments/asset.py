"""The `deployments` asset: the validated build of a project running where a person can open it.

Two environments, one value (`DeploymentsSet`):

- **preview** (the default, in `project_pipeline`): the integration commit that `validations`
  passed, one record per component; each story's pull request gets the preview URL and its own
  validation result. It runs only when the blocking validation checks passed: in a run Dagster
  skips it after a failed blocking check, and materialised alone it fails with the reason.
- **production** (the `promote` job: this asset with config `environment: production`): `main` of
  the generated repository (where `reviews` merges approved pull requests), validated first with
  the same validation functions (the integration commit's report when it is the same commit).

Materialising one environment keeps the other's record. The asset is thin: `deploy.deploy_commit`
does the work, the hosting resource (`resources/hosting`) runs the components.
"""

import os
from collections.abc import Iterator
from typing import Literal

import dagster as dg
from pydantic import Field

from assets.architecture.models import Architecture
from assets.deployments.deploy import NothingToDeploy, configured_app_secrets, deploy_commit
from assets.deployments.models import DeploymentsSet, EnvironmentDeployment, ValidationSummary
from assets.deployments.pull_requests import PullRequestUpdates, update_pull_requests
from assets.deployments.report import HEALTH_CHECK, check_health, deployments_metadata
from assets.requirements.models import RequirementsSet
from assets.story_builds.models import StoryBuildsSet
from assets.validations.models import ValidationReport
from assets.validations.validate import decode_tree, tree_manifest, validate_build
from pipeline_core.hashing import content_hash
from pipeline_core.partitions import projects_partitions
from pipeline_core.settings import get_settings
from resources.forge import Forge
from resources.hosting import Hosting
from resources.hosting.ci_secrets import prepare_ci_deploys
from resources.io_manager import read_previous_value
from resources.object_store import ObjectStore

# Bump with what is deployed or how (the records, the pull-request section).
DEPLOYMENTS_CODE_VERSION = "deployments-1"

__all__ = ["DEPLOYMENTS_CODE_VERSION", "HEALTH_CHECK", "DeploymentsConfig", "deployments"]


class DeploymentsConfig(dg.Config):
    """Which environment this materialisation deploys (`promote` sets production)."""

    environment: Literal["preview", "production"] = Field(
        "preview", description="preview: the validated integration commit; production: main"
    )


def summary_of(report: ValidationReport, input_key: str = "") -> ValidationSummary:
    problems = list(report.problems)
    problems += [
        f"{run.component}: {run.status or 'failed'} {run.reason or ''}".strip()
        for run in report.components
        if not run.ok
    ]
    problems += [mismatch.describe() for mismatch in report.mismatches()[:10]]
    return ValidationSummary(
        commit=report.commit or "",
        tests_pass=report.tests_pass,
        contract_matches=report.contract_matches,
        problems=problems,
        input_key=input_key,
    )


def builds_in(story_builds: StoryBuildsSet, tree: dict[str, str]) -> StoryBuildsSet:
    """The story builds whose stories the tree holds (its manifest's story records): what a commit
    other than the integration commit (main, after some merges) is validated against, so the
    contract check expects only the operations of the stories it contains."""
    manifest, _ = tree_manifest(tree)
    held = {story.id for story in manifest.stories} if manifest else set()
    return story_builds.model_copy(
        update={"stories": [build for build in story_builds.stories if build.story_id in held]}
    )


def _refuse(environment: str, summary: ValidationSummary) -> dg.Failure:
    return dg.Failure(
        description=f"not deployed to {environment}: commit {summary.commit[:12] or '(none)'} did not pass "
        f"the blocking validation checks (tests {'pass' if summary.tests_pass else 'FAIL'}, contract "
        f"{'matches' if summary.contract_matches else 'MISMATCHES'})"
        + "".join(f"; {problem}" for problem in summary.problems[:3]),
        metadata={"problems": dg.MetadataValue.text("\n".join(summary.problems[:20]) or "none")},
    )


@dg.asset(
    partitions_def=projects_partitions,
    code_version=DEPLOYMENTS_CODE_VERSION,
    group_name="deploy",
    check_specs=[
        dg.AssetCheckSpec(
            HEALTH_CHECK,
            asset="deployments",
            blocking=True,
            description="Every component of the deployed environment runs the requested commit and "
            "answers its health check (else: why, and which release still runs).",
            partitions_def=projects_partitions,
        )
    ],
)
def deployments(
    context: dg.AssetExecutionContext,
    config: DeploymentsConfig,
    validations: ValidationReport,
    story_builds: StoryBuildsSet,
    architecture: Architecture,
    requirements: RequirementsSet,
    forge: Forge,
    hosting: Hosting,
    artifacts: ObjectStore,
) -> Iterator[dg.Output[DeploymentsSet] | dg.AssetCheckResult]:
    """The project's validated build deployed: preview (the integration commit validations passed)
    or, through the `promote` job, production (`main`, validated first). One record per component
    with target, URL, health, commit and the previous version; already running and healthy means
    unchanged (no new release). Preview URLs and each story's result go onto its pull request."""
    project = context.partition_key
    settings = get_settings()
    previous = read_previous_value(artifacts, "deployments", project, DeploymentsSet)
    value = previous or DeploymentsSet(project=project, repository=story_builds.repository)
    value = value.model_copy(update={"repository": story_builds.repository})
    environment = config.environment
    if environment == "preview":
        summary = summary_of(validations, validations.input_key)
        if validations.commit is None or not summary.passed:
            raise _refuse("preview", summary)
        branch, commit = story_builds.integration_branch, validations.commit
        files = forge.read_tree(story_builds.repository, commit)
        tree, _ = decode_tree(files)
    else:
        branch = forge.default_branch(story_builds.repository)
        head = forge.branch_head(story_builds.repository, branch)
        if head is None:
            raise dg.Failure(description=f"not deployed to production: {branch} has no commit")
        commit = head
        files = forge.read_tree(story_builds.repository, commit)
        tree, _ = decode_tree(files)
        key = content_hash(
            {
                "commit": commit,
                "builds": story_builds.data_version(),
                "architecture": architecture.data_version(),
                "requirements": requirements.data_version(),
            }
        )
        earlier = previous.production.validation if previous and previous.production else None
        if commit == validations.commit:
            summary = summary_of(validations, key)
        elif earlier is not None and earlier.input_key == key:
            summary = earlier  # main did not move since it was last validated
        else:
            context.log.info(f"{project}: validating {branch} at {commit[:12]} before promoting it")
            report = validate_build(
                tree,
                commit,
                builds_in(story_builds, tree),
                architecture,
                requirements,
                cache_dir=settings.install_cache_dir,
            )
            summary = summary_of(report, key)
        if not summary.passed:
            raise _refuse("production", summary)
    # The generated CI's deploy credentials (Actions secrets), set once per repository and changed only
    # when they change; the first time CI is dispatched so this commit gets its image.
    ci = prepare_ci_deploys(
        forge,
        story_builds.repository,
        settings,
        previous_fingerprint=value.ci_secrets_fingerprint,
        branches=[branch],
    )
    if ci.note:
        context.log.warning(f"{project}: {ci.note}")
    value = value.model_copy(update={"ci_secrets_fingerprint": ci.fingerprint})
    manifest, problem = tree_manifest(tree)
    if manifest is None:
        raise dg.Failure(description=f"not deployed to {environment}: {problem}")
    try:
        deployed: EnvironmentDeployment = deploy_commit(
            project=project,
            environment=environment,
            branch=branch,
            commit=commit,
            manifest=manifest,
            files=files,
            hosting=hosting,
            openapi=architecture.openapi,
            validation=summary,
            cache_dir=settings.install_cache_dir,
            app_secrets=configured_app_secrets(os.environ),
        )
    except NothingToDeploy as error:
        raise dg.Failure(description=f"not deployed to {environment}: {error}") from None
    value = value.model_copy(update={environment: deployed})
    pulls: PullRequestUpdates | None = None
    if environment == "preview":
        pulls = update_pull_requests(forge, story_builds, validations, deployed)
    for record in deployed.records:
        context.log.info(
            f"{project} {environment} {record.component}: {record.status}, {record.health} at "
            f"{record.url or '(nothing running)'}" + (f": {record.reason}" if record.reason else "")
        )
    yield dg.Output(
        value,
        data_version=dg.DataVersion(value.data_version()),
        metadata=deployments_metadata(value, deployed, pulls),
    )
    yield check_health(deployed)
