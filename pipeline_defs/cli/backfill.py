"""`ai-pipeline backfill`: run the pipeline for one or more projects on the code location's instance.

By default the runs are submitted like a UI backfill (one run per project, queued; the daemon that
`make run` starts executes them); `--wait` follows them to the end. `--in-process` runs them here and
now, one after the other, without a daemon.
"""

from __future__ import annotations

import re
import time

import click
import dagster as dg

from pipeline_core.partitions import check_project_name
from pipeline_core.settings import Settings
from pipeline_defs.cli.app import CliError
from pipeline_defs.cli.drop import inbox_store
from pipeline_defs.cli.instance import CHECKOUT, known_projects, open_instance
from pipeline_defs.cli.tables import table

JOB = "project_pipeline"
_LAUNCHED = re.compile(r"Launched backfill job `([^`]+)`")


def resolve_projects(
    settings: Settings, instance: dg.DagsterInstance, projects: tuple[str, ...]
) -> list[str]:
    """The projects asked for, each known to the instance or found in the inbox (then registered, as
    the bucket sensor would); otherwise a clear error naming the known ones."""
    known = set(known_projects(instance))
    inbox = inbox_store(settings)
    missing, found = [], []
    for project in projects:
        check_project_name(project)
        if project in known:
            continue
        if inbox.list_page(prefix=f"{project}/", max_keys=1):
            found.append(project)
        else:
            missing.append(project)
    if missing:
        names = ", ".join(sorted(known)) or "none yet (drop documents first: ai-pipeline drop FOLDER)"
        raise CliError(
            f"unknown project(s) {', '.join(missing)}: not in {inbox.url()}; known projects: {names}"
        )
    if found:
        instance.add_dynamic_partitions("projects", found)
    return list(dict.fromkeys(projects))


def run_in_process(settings: Settings, instance: dg.DagsterInstance, projects: list[str]) -> int:
    from pipeline_defs.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def(JOB)
    rows, failures = [], 0
    for project in projects:
        click.echo(f"running {JOB} for {project} ...", err=True)
        result = job.execute_in_process(
            partition_key=project,
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
        failed_steps = [event.step_key for event in result.all_events if event.is_step_failure]
        failed_checks = [
            f"{check.asset_key.to_user_string()}.{check.check_name} ({check.severity.value})"
            for check in result.get_asset_check_evaluations()
            if not check.passed
        ]
        failures += not result.success
        rows.append(
            (
                project,
                result.run_id[:8],
                "success" if result.success else "FAILED",
                ", ".join(str(step) for step in failed_steps),
                ", ".join(failed_checks),
            )
        )
    click.echo(table(["project", "run", "result", "failed steps", "failed checks"], rows))
    return 1 if failures else 0


def submit(instance: dg.DagsterInstance, projects: list[str]) -> str:
    """A backfill of the job over `projects`, its runs submitted to the instance's queue; its id."""
    from dagster._cli.job import execute_backfill_command
    from dagster_shared.cli import WorkspaceOpts

    lines: list[str] = []
    execute_backfill_command(
        workspace_opts=WorkspaceOpts(
            module_name=("pipeline_defs.definitions",), working_directory=str(CHECKOUT)
        ),
        partitions=",".join(projects),
        noprompt=True,
        job_name=JOB,
        print_fn=lambda text: lines.append(str(text)),
        instance=instance,
    )
    match = next((m for m in map(_LAUNCHED.search, lines) if m), None)
    if match is None:
        raise CliError("the backfill was not launched: " + " ".join(line.strip() for line in lines))
    return match.group(1)


def backfill_runs(instance: dg.DagsterInstance, backfill_id: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id})))


def runs_table(runs: list[dg.DagsterRun]) -> str:
    rows = [(run.tags.get("dagster/partition", ""), run.run_id[:8], run.status.value) for run in runs]
    return table(["project", "run", "status"], sorted(rows))


def wait_for(instance: dg.DagsterInstance, backfill_id: str, timeout_s: float) -> int:
    deadline, shown = time.monotonic() + timeout_s, 0.0
    while True:
        runs = backfill_runs(instance, backfill_id)
        if runs and all(run.is_finished for run in runs):
            click.echo(runs_table(runs))
            return 0 if all(run.is_success for run in runs) else 1
        if time.monotonic() > deadline:
            queued = sum(1 for run in runs if run.status == dg.DagsterRunStatus.QUEUED)
            hint = " (is the daemon running? `make run` starts it)" if queued == len(runs) else ""
            click.echo(runs_table(runs))
            raise CliError(f"backfill {backfill_id} not finished after {timeout_s:.0f} s{hint}")
        if time.monotonic() - shown > 10:
            counts: dict[str, int] = {}
            for run in runs:
                counts[run.status.value] = counts.get(run.status.value, 0) + 1
            click.echo(", ".join(f"{n} {state.lower()}" for state, n in sorted(counts.items())), err=True)
            shown = time.monotonic()
        time.sleep(1)


@click.command()
@click.argument("projects", nargs=-1, required=True)
@click.option("--in-process", is_flag=True, help="run here and now, one project after the other (no daemon)")
@click.option("--wait", is_flag=True, help="follow the queued runs until they finish")
@click.option(
    "--timeout", type=click.FloatRange(min=1), default=1800.0, show_default=True, help="for --wait, in s"
)
@click.pass_obj
def backfill(
    settings: Settings, projects: tuple[str, ...], in_process: bool, wait: bool, timeout: float
) -> int:
    """Run the whole pipeline (job `project_pipeline`) for PROJECTS."""
    instance = open_instance(settings)
    names = resolve_projects(settings, instance, projects)
    if in_process:
        return run_in_process(settings, instance, names)
    backfill_id = submit(instance, names)
    click.echo(f"backfill {backfill_id}: {len(names)} run(s) queued for {', '.join(names)}")
    click.echo(f"follow it in the UI: {settings.pipeline_ui_url.rstrip('/')}/runs/b/{backfill_id}")
    if not wait:
        click.echo(runs_table(backfill_runs(instance, backfill_id)))
        return 0
    return wait_for(instance, backfill_id, timeout)
