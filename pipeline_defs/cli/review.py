"""`ai-pipeline review list|show|approve|request-changes|comment|merge`: the projects' pull requests."""

from __future__ import annotations

import json

import click

from pipeline_core.settings import Settings
from pipeline_defs.cli.app import CliError
from pipeline_defs.cli.tables import table
from resources.forge import Forge, make_forge
from resources.forge.base import MergeConflictError
from resources.forge.review import (
    comment,
    list_pull_requests,
    merge,
    pull_request_detail,
    repositories,
    submit_review,
)

REVIEW_WORDS = {"approved": "approved", "changes_requested": "changes requested", "commented": "commented"}


def forge_for(settings: Settings) -> Forge:
    return make_forge(
        settings.pipeline_forge,
        settings.data_dir,
        github_token_set=bool(settings.github_token),
        github_owner=settings.github_owner,
        github_api_url=settings.github_api_url,
        github_private=settings.github_private,
    )


def _known_projects(settings: Settings) -> list[str]:
    from pipeline_defs.cli.instance import known_projects, open_instance

    return known_projects(open_instance(settings))


@click.group()
def review() -> None:
    """Review the pull requests the pipeline opened, one per story."""


@review.command("list")
@click.option("--project", "-p", help="only this project's repository")
@click.option(
    "--state", type=click.Choice(["open", "merged", "closed", "all"]), default="all", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_obj
def list_command(settings: Settings, project: str | None, state: str, as_json: bool) -> int:
    """List pull requests: project, number, state, story, branch, title."""
    forge = forge_for(settings)
    repos = [project] if project else repositories(forge, _known_projects(settings))
    rows = list_pull_requests(forge, repos, state)  # type: ignore[arg-type]
    if as_json:
        click.echo(
            json.dumps([{"repo": repo, **pull.model_dump(mode="json")} for repo, pull in rows], indent=2)
        )
    elif not rows:
        click.echo("no pull requests")
    else:
        click.echo(
            table(
                ["project", "#", "state", "story", "branch", "title"],
                [
                    (repo, pull.number, pull.state, pull.story_id, pull.branch, pull.title)
                    for repo, pull in rows
                ],
            )
        )
    return 0


@review.command("show")
@click.argument("project")
@click.argument("number", type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.pass_obj
def show_command(settings: Settings, project: str, number: int, as_json: bool) -> int:
    """One pull request with its description, changed files and reviews."""
    detail = pull_request_detail(forge_for(settings), project, number)
    pull = detail.pull
    if as_json:
        document = {
            "repo": project,
            **pull.model_dump(mode="json"),
            "reviews": [item.model_dump(mode="json") for item in detail.reviews],
            "comments": [item.model_dump(mode="json") for item in detail.comments],
            "files": [{"status": status, "path": path} for status, path in detail.files],
        }
        click.echo(json.dumps(document, indent=2))
        return 0
    click.echo(f"{project} #{pull.number} {pull.state}: {pull.title}")
    click.echo(
        f"story {pull.story_id or '-'}  branch {pull.branch} -> {pull.base}  head {pull.head_sha or '-'}"
    )
    if pull.merge_sha:
        click.echo(f"merged as {pull.merge_sha}")
    if pull.body.strip():
        click.echo("\n" + pull.body.rstrip())
    click.echo(f"\nfiles ({len(detail.files)}):")
    for status, path in detail.files:
        click.echo(f"  {status} {path}")
    click.echo(f"reviews ({len(detail.reviews)}):")
    for item in detail.reviews:
        when = item.at.strftime("%Y-%m-%d %H:%M UTC") if item.at else ""
        click.echo(
            f"  {REVIEW_WORDS[item.state]} by {item.author} {when}" + (f": {item.body}" if item.body else "")
        )
    click.echo(f"comments ({len(detail.comments)}):")
    for note in detail.comments:
        when = note.at.strftime("%Y-%m-%d %H:%M UTC") if note.at else ""
        where = f" on {note.path}" if note.path else ""
        text = note.body.split("<!-- ai-pipeline:", 1)[0].strip()
        click.echo(f"  {note.author}{where} {when}: {text}")
    return 0


def _review(
    settings: Settings, project: str, number: int, approve: bool, comment: str, author: str | None
) -> int:
    try:
        done = submit_review(
            forge_for(settings), project, number, approve=approve, comment=comment, author=author
        )
    except ValueError as error:
        raise CliError(str(error)) from None
    click.echo(f"{project} #{number}: {REVIEW_WORDS[done.state]} by {done.author}")
    if not approve:
        click.echo("the next run of the project rebuilds this story with the comment as feedback")
    return 0


@review.command("approve")
@click.argument("project")
@click.argument("number", type=click.IntRange(min=1))
@click.option("--comment", "-m", default="", help="optional note")
@click.option("--author", help="reviewer name (default: your user name)")
@click.pass_obj
def approve_command(settings: Settings, project: str, number: int, comment: str, author: str | None) -> int:
    """Approve a pull request."""
    return _review(settings, project, number, True, comment, author)


@review.command("request-changes")
@click.argument("project")
@click.argument("number", type=click.IntRange(min=1))
@click.option("--comment", "-m", required=True, help="what to change (becomes the story's review feedback)")
@click.option("--author", help="reviewer name (default: your user name)")
@click.pass_obj
def request_changes_command(
    settings: Settings, project: str, number: int, comment: str, author: str | None
) -> int:
    """Ask for changes, saying which; the story is rebuilt with them on the next run."""
    return _review(settings, project, number, False, comment, author)


@review.command("comment")
@click.argument("project")
@click.argument("number", type=click.IntRange(min=1))
@click.option("--comment", "-m", "text", required=True, help="the comment (review feedback on the story)")
@click.option("--author", help="your name (default: your user name)")
@click.pass_obj
def comment_command(settings: Settings, project: str, number: int, text: str, author: str | None) -> int:
    """Comment on a pull request; like requested changes, the story is rebuilt with it on the next run."""
    try:
        done = comment(forge_for(settings), project, number, text, author)
    except ValueError as error:
        raise CliError(str(error)) from None
    click.echo(f"{project} #{number}: commented by {done.author}")
    return 0


@review.command("merge")
@click.argument("project")
@click.argument("number", type=click.IntRange(min=1))
@click.pass_obj
def merge_command(settings: Settings, project: str, number: int) -> int:
    """Merge a pull request into its base branch (as it is: a branch behind main is not updated)."""
    try:
        pull = merge(forge_for(settings), project, number)
    except MergeConflictError as error:
        raise CliError(
            f"{error}\nApprove it instead (`ai-pipeline review approve {project} {number}`): the "
            "`reviews` stage brings a pipeline branch up to date with main (the story regenerated on "
            "main) and merges it; the review sensor starts that run."
        ) from error
    click.echo(f"{project} #{pull.number}: merged {pull.branch} into {pull.base} as {pull.merge_sha}")
    return 0
