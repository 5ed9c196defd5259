"""`ai-pipeline status`: the projects, their stages' latest materialisation, checks and links."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import click
import dagster as dg

from pipeline_core.links import asset_partition_url, project_page_url
from pipeline_core.settings import Settings
from pipeline_defs.cli.app import CliError
from pipeline_defs.cli.instance import known_projects, open_instance
from pipeline_defs.cli.tables import table
from pipeline_defs.jobs import PIPELINE_ASSETS


@dataclass
class StageStatus:
    stage: str
    materialised_at: datetime | None = None
    run_id: str = ""
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "name (ERROR)" / "name (WARN)"

    def checks(self) -> str:
        parts = [f"{len(self.passed)} passed"] if self.passed else []
        return ", ".join(parts + [f"FAILED {name}" for name in self.failed])


@dataclass
class ProjectStatus:
    project: str
    stages: list[StageStatus]
    last_run: dg.DagsterRun | None

    @property
    def materialised(self) -> int:
        return sum(1 for stage in self.stages if stage.materialised_at)


def _when(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp else None


def _format(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


def project_status(instance: dg.DagsterInstance, project: str) -> ProjectStatus:
    """Each stage's latest materialisation of `project` and the checks of the run that made it."""
    checks_by_run: dict[str, list[dg.AssetCheckEvaluation]] = {}
    stages = []
    for stage in PIPELINE_ASSETS:
        status = StageStatus(stage)
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(stage), asset_partitions=[project]), limit=1
        ).records
        if records:
            record = records[0]
            status.materialised_at = _when(record.timestamp)
            status.run_id = record.run_id
            if record.run_id not in checks_by_run:
                checks_by_run[record.run_id] = [
                    entry.dagster_event.event_specific_data
                    for entry in instance.all_logs(
                        record.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
                    )
                    if entry.dagster_event is not None
                ]
            for evaluation in checks_by_run[record.run_id]:
                if evaluation.asset_key != dg.AssetKey(stage):
                    continue
                if evaluation.passed:
                    status.passed.append(evaluation.check_name)
                else:
                    status.failed.append(f"{evaluation.check_name} ({evaluation.severity.value})")
        stages.append(status)
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/partition": project}), limit=1)
    return ProjectStatus(project=project, stages=stages, last_run=runs[0] if runs else None)


def _run_text(run: dg.DagsterRun | None) -> str:
    return f"{run.run_id[:8]} {run.status.value}" if run else "no run yet"


def overview(statuses: list[ProjectStatus]) -> str:
    rows = [
        (
            item.project,
            _run_text(item.last_run),
            f"{item.materialised}/{len(item.stages)}",
            "; ".join(f"{stage.stage}: {name}" for stage in item.stages for name in stage.failed),
        )
        for item in statuses
    ]
    return table(["project", "last run", "stages done", "failed checks"], rows)


def details(item: ProjectStatus, settings: Settings) -> str:
    rows = [
        (
            stage.stage,
            _format(stage.materialised_at),
            stage.run_id[:8],
            stage.checks(),
            asset_partition_url(settings.pipeline_ui_url, stage.stage, item.project),
        )
        for stage in item.stages
    ]
    lines = [
        f"{item.project}: last run {_run_text(item.last_run)}",
        table(["stage", "materialised", "run", "checks", "in the UI"], rows),
        f"project page: {project_page_url(settings.pipeline_page_url, item.project)}"
        f"  (serve it with: ai-pipeline page {item.project})",
    ]
    return "\n".join(lines)


@click.command()
@click.argument("projects", nargs=-1)
@click.pass_obj
def status(settings: Settings, projects: tuple[str, ...]) -> int:
    """Every project's last run and stages; with PROJECTS, each stage's materialisation, checks and links."""
    instance = open_instance(settings)
    known = known_projects(instance)
    unknown = [project for project in projects if project not in known]
    if unknown:
        names = ", ".join(known) or "none (drop documents first)"
        raise CliError(f"unknown project(s) {', '.join(unknown)}; known projects: {names}")
    if not known:
        click.echo(
            f"no projects yet in {settings.dagster_home_dir} (drop documents: ai-pipeline drop FOLDER)"
        )
        return 0
    statuses = [project_status(instance, project) for project in (projects or known)]
    if not projects:
        click.echo(overview(statuses))
        click.echo("\ndetails: ai-pipeline status PROJECT")
        return 0
    click.echo("\n\n".join(details(item, settings) for item in statuses))
    return 0
