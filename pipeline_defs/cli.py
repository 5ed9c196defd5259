"""Command line for people: drop a folder of documents into a project's inbox (local or S3).

python -m pipeline_defs.cli drop examples/acme-tasks --project acme-tasks
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from pipeline_core.partitions import InvalidProjectName, check_project_name
from pipeline_core.settings import get_settings
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


def drop(folder: Path, project: str) -> int:
    settings = get_settings()
    inbox = object_store_from_url(settings.inbox_url, region_name=settings.aws_region)
    written = drop_folder(inbox, folder, project)
    for key in written:
        print(f"dropped {key}")
    print(f"{len(written)} new or changed file(s) in {inbox.url()}/{project}/")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pipeline", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    drop_parser = commands.add_parser("drop", help="upload a folder of documents into a project's inbox")
    drop_parser.add_argument("folder", type=Path)
    drop_parser.add_argument("--project", help="project name (default: the folder's name)")
    args = parser.parse_args(argv)
    if args.command == "drop":
        project = args.project or args.folder.resolve().name
        try:
            check_project_name(project)
        except InvalidProjectName as error:
            parser.error(str(error))
        if not args.folder.is_dir():
            parser.error(f"{args.folder} is not a folder")
        return drop(args.folder, project)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
