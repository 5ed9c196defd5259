"""Command line for people: drop a folder of documents into a project's inbox (local or S3).

python -m pipeline_defs.cli drop examples/acme-tasks --project acme-tasks
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline_defs.partitions import InvalidProjectName, check_project_name
from pipeline_defs.settings import get_settings
from resources.object_store import object_store_from_url


def drop(folder: Path, project: str) -> int:
    """Upload every file below `folder` to `<inbox>/<project>/...`; unchanged files are skipped."""
    settings = get_settings()
    inbox = object_store_from_url(settings.inbox_url, region_name=settings.aws_region)
    files = sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )
    if not files:
        print(f"no files under {folder}", file=sys.stderr)
        return 1
    for path in files:
        key = f"{project}/{path.relative_to(folder).as_posix()}"
        data = path.read_bytes()
        inbox.put_bytes(key, data)
        print(f"dropped {key} ({len(data)} bytes)")
    print(f"{len(files)} file(s) in {inbox.url()}/{project}/")
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
