"""How deployments read for people: the metadata table, links and the health check."""

from __future__ import annotations

import dagster as dg

from assets.deployments.models import DeploymentsSet, EnvironmentDeployment
from assets.deployments.pull_requests import PullRequestUpdates
from assets.requirements.report import markdown_table

HEALTH_CHECK = "deployment_healthy"


def records_table(deployments: DeploymentsSet) -> str:
    rows = []
    for env in (deployments.preview, deployments.production):
        if env is None:
            continue
        for r in env.records:
            rows.append(
                (
                    env.environment,
                    r.component,
                    r.target,
                    r.url or "-",
                    r.health,
                    r.status,
                    r.commit[:12],
                    r.version or "-",
                    f"{r.previous_commit[:12]} ({r.previous_version})" if r.previous_commit else "-",
                    r.reason or "",
                )
            )
    return markdown_table(
        [
            "environment",
            "component",
            "target",
            "URL",
            "health",
            "status",
            "commit",
            "version",
            "previous",
            "reason",
        ],
        rows,
    )


def deployments_metadata(
    deployments: DeploymentsSet, env: EnvironmentDeployment, pulls: PullRequestUpdates | None
) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "environment": dg.MetadataValue.text(env.environment),
        "commit": dg.MetadataValue.text(env.commit),
        "branch": dg.MetadataValue.text(env.branch),
        "deployments": dg.MetadataValue.md(records_table(deployments)),
        "healthy": dg.MetadataValue.bool(env.healthy),
        "new_releases": dg.MetadataValue.int(sum(1 for r in env.records if r.status == "deployed")),
        "stories_deployed": dg.MetadataValue.int(len(env.stories)),
        "open_with": dg.MetadataValue.text("ai-pipeline urls " + deployments.project),
    }
    url = env.url()
    if url:
        metadata[f"{env.environment}_url"] = dg.MetadataValue.url(url)
    for record in env.records:
        if record.url:
            metadata[f"{env.environment}_{record.component}_url"] = dg.MetadataValue.url(record.url)
    if pulls is not None:
        metadata["pull_requests_updated"] = dg.MetadataValue.int(len(pulls.updated))
        metadata["pull_requests_unchanged"] = dg.MetadataValue.int(len(pulls.unchanged))
        if pulls.problems:
            metadata["pull_request_problems"] = dg.MetadataValue.text("\n".join(pulls.problems))
    return metadata


def check_health(env: EnvironmentDeployment) -> dg.AssetCheckResult:
    """Blocking: every component of the environment runs the requested commit and answers."""
    bad = [r for r in env.records if not r.ok]
    return dg.AssetCheckResult(
        check_name=HEALTH_CHECK,
        passed=bool(env.records) and not bad,
        metadata={
            "environment": dg.MetadataValue.text(env.environment),
            "unhealthy": dg.MetadataValue.text(
                "\n".join(f"{r.component} ({r.status}, {r.health}): {r.reason}" for r in bad) or "none"
            ),
        },
    )
