"""`ai-pipeline drop`: a folder of documents into a project's inbox (local folder or S3)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from pipeline_core.partitions import check_project_name
from pipeline_core.settings import Settings
from resources.object_store import ObjectStore, object_store_from_url


def drop_folder(inbox: ObjectStore, folder: Path, project: str) -> list[str]:
    """Upload every file below `folder` (hidden paths left out) to `<project>/...` in the inbox.

    Returns the keys written; a file whose content the inbox already holds (same MD5 ETag) is skipped,
    so re-dropping a folder starts no run for what did not change.
    """
    written = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        key = f"{project}/{relative.as_posix()}"
        data = path.read_bytes()
        existing = inbox.head(key)
        if existing is not None and existing.etag == hashlib.md5(data, usedforsecurity=False).hexdigest():
            continue
        inbox.put_bytes(key, data)
        written.append(key)
    return written


def inbox_store(settings: Settings) -> ObjectStore:
    return object_store_from_url(settings.inbox_url, region_name=settings.aws_region)


@click.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--project", "-p", help="project name, a lowercase slug (default: the folder's name)")
@click.pass_obj
def drop(settings: Settings, folder: Path, project: str | None) -> int:
    """Upload FOLDER's documents into the project's inbox; unchanged files are skipped."""
    project = check_project_name(project or folder.resolve().name)
    inbox = inbox_store(settings)
    written = drop_folder(inbox, folder, project)
    for key in written:
        click.echo(f"dropped {key}")
    click.echo(f"{len(written)} new or changed file(s) in {inbox.url()}/{project}/")
    if written:
        click.echo(
            f"the bucket sensor starts a run within {settings.pipeline_sensor_interval_seconds} s while "
            f"`make run` is up; or run it now: ai-pipeline backfill {project} --in-process"
        )
    return 0
