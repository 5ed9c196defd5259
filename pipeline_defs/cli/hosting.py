"""`ai-pipeline serve | stop | urls | promote`: deployments for people.

Local hosting keeps each component's current release running on a stable port of 127.0.0.1
(`resources/hosting/local.py`). `serve` starts every current release that is not running (after a
reboot, or `stop`), `stop` stops them (they stay current), `urls` lists every deployment with its
health read now: local ones from the release folders, Netlify and ECS ones from the last
`deployments` value in the artifacts. `promote` runs the `promote` job here and now (production:
`main` of the generated repository, once it validates).
"""

from __future__ import annotations

import click
import dagster as dg

from pipeline_core.partitions import check_project_name
from pipeline_core.settings import Settings
from pipeline_defs.cli.app import CliError
from pipeline_defs.cli.tables import table
from resources.hosting import DeploymentRecord, make_local_hosting
from resources.io_manager import asset_value_key
from resources.object_store import object_store_from_url

HEADERS = ("project", "environment", "component", "target", "URL", "health", "commit", "note")


def _rows(records: list[DeploymentRecord]) -> list[tuple[object, ...]]:
    return [
        (
            r.project,
            r.environment,
            r.component,
            r.target,
            r.url,
            r.health,
            r.commit[:12],
            r.reason if r.status == "unchanged" else f"{r.status}: {r.reason}" if r.reason else r.status,
        )
        for r in records
    ]


def cloud_records(settings: Settings, project: str | None) -> list[DeploymentRecord]:
    """Netlify and ECS records of the stored `deployments` values (their health as last checked)."""
    from assets.deployments.models import DeploymentsSet

    artifacts = object_store_from_url(settings.artifacts_url, region_name=settings.aws_region)
    out = []
    for info in artifacts.iter_objects(prefix="assets/deployments/"):
        if project and info.key != asset_value_key(dg.AssetKey("deployments"), project):
            continue
        value = DeploymentsSet.model_validate_json(artifacts.get_text(info.key))
        for env in (value.preview, value.production):
            out += [r for r in (env.records if env else []) if r.target != "local"]
    return out


@click.command()
@click.argument("project", required=False)
@click.pass_obj
def serve(settings: Settings, project: str | None) -> None:
    """Start every current local release that is not running (all projects, or PROJECT); print URLs."""
    records = make_local_hosting(settings).serve(project)
    if not records:
        click.echo(
            "nothing deployed locally yet: run the pipeline (ai-pipeline backfill PROJECT --in-process)"
        )
        return
    click.echo(table(HEADERS, _rows(records)))
    failed = [r for r in records if r.health != "healthy"]
    if failed:
        raise click.ClickException(
            f"{len(failed)} release(s) did not start: " + "; ".join(r.reason for r in failed)
        )


@click.command()
@click.argument("project", required=False)
@click.pass_obj
def stop(settings: Settings, project: str | None) -> None:
    """Stop every local release (all projects, or PROJECT); they stay current for `serve`."""
    records = make_local_hosting(settings).stop(project)
    click.echo(f"stopped {len(records)} release(s)" + (f" of {project}" if project else ""))


@click.command()
@click.argument("project", required=False)
@click.pass_obj
def urls(settings: Settings, project: str | None) -> None:
    """Every deployment (all projects, or PROJECT): environment, component, URL and health now."""
    records = make_local_hosting(settings).records(project) + cloud_records(settings, project)
    if not records:
        click.echo("nothing deployed yet")
        return
    click.echo(table(HEADERS, _rows(records)))


@click.command()
@click.argument("project")
@click.pass_obj
def promote(settings: Settings, project: str) -> None:
    """Deploy `main` of PROJECT's generated repository as production (job `promote`, run here and
    now), when that commit passes validation; print the production URLs."""
    from pipeline_defs.cli.instance import open_instance
    from pipeline_defs.definitions import build_definitions

    check_project_name(project)
    instance = open_instance(settings)
    job = build_definitions(settings).resolve_job_def("promote")
    click.echo(f"running promote for {project} ...", err=True)
    result = job.execute_in_process(
        partition_key=project,
        instance=instance,
        raise_on_error=False,
        run_config={
            "ops": {"deployments": {"config": {"environment": "production"}}},
            "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
        },
    )
    records = [r for r in make_local_hosting(settings).records(project) if r.environment == "production"]
    records += [r for r in cloud_records(settings, project) if r.environment == "production"]
    if records:
        click.echo(table(HEADERS, _rows(records)))
    if not result.success:
        failures = [
            " ".join(event.step_failure_data.error.message.split()).split("Failure: ", 1)[-1][:600]
            for event in result.all_events
            if event.is_step_failure and event.step_failure_data.error is not None
        ]
        failed = [
            f"{check.check_name}: {check.metadata.get('unhealthy').value}"  # type: ignore[union-attr]
            for check in result.get_asset_check_evaluations()
            if not check.passed and "unhealthy" in check.metadata
        ]
        raise CliError(
            f"promote of {project} failed: " + ("; ".join(failed or failures) or "see the run in the UI")
        )
