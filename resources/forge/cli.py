"""Review the local forge's pull requests from a terminal.

    python -m resources.forge.cli list [--repo NAME] [--state open|merged|closed|all] [--json]
    python -m resources.forge.cli show REPO NUMBER [--json]
    python -m resources.forge.cli approve REPO NUMBER [--comment TEXT] [--author NAME]
    python -m resources.forge.cli request-changes REPO NUMBER --comment TEXT [--author NAME]
    python -m resources.forge.cli merge REPO NUMBER

`--root` (before the command) is the forge folder; the default is `<PIPELINE_DATA_DIR>/forge`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from resources.forge.base import ForgeError, PullRequest
from resources.forge.local import LocalForge


def _default_root() -> Path:
    from pipeline_core.settings import get_settings

    return get_settings().data_dir / "forge"


def _author(given: str | None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "reviewer"


def _line(repo: str, pull: PullRequest) -> str:
    story = pull.story_id or "-"
    return (
        f"{repo:<24} #{pull.number:<4} {pull.state:<7} {story:<12} {pull.branch} -> {pull.base}  {pull.title}"
    )


def _cmd_list(forge: LocalForge, args: argparse.Namespace) -> int:
    repos = [args.repo] if args.repo else forge.list_repositories()
    rows = [
        (repo, pull)
        for repo in repos
        for pull in forge.list_pull_requests(repo)
        if args.state == "all" or pull.state == args.state
    ]
    if args.json:
        print(json.dumps([{"repo": repo, **pull.model_dump(mode="json")} for repo, pull in rows], indent=2))
    elif not rows:
        print("no pull requests")
    else:
        for repo, pull in rows:
            print(_line(repo, pull))
    return 0


def _cmd_show(forge: LocalForge, args: argparse.Namespace) -> int:
    pull = forge.get_pull_request(args.repo, args.number)
    reviews = forge.get_reviews(args.repo, args.number)
    files = forge.changed_files(args.repo, args.number)
    if args.json:
        document = {
            "repo": args.repo,
            **pull.model_dump(mode="json"),
            "reviews": [review.model_dump(mode="json") for review in reviews],
            "files": [{"status": status, "path": path} for status, path in files],
        }
        print(json.dumps(document, indent=2))
        return 0
    print(_line(args.repo, pull))
    print(f"head {pull.head_sha}" + (f"  merged as {pull.merge_sha}" if pull.merge_sha else ""))
    print(f"record {forge.pull_request_path(args.repo, args.number)}")
    if pull.body.strip():
        print()
        print(pull.body.rstrip())
    print()
    print(f"files ({len(files)}):")
    for status, path in files:
        print(f"  {status} {path}")
    print(f"reviews ({len(reviews)}):")
    for review in reviews:
        when = review.at.isoformat() if review.at else ""
        print(f"  {review.state} by {review.author} {when}" + (f": {review.body}" if review.body else ""))
    return 0


def _cmd_review(forge: LocalForge, args: argparse.Namespace) -> int:
    state = "approved" if args.command == "approve" else "changes_requested"
    review = forge.add_review(
        args.repo, args.number, state, body=args.comment or "", author=_author(args.author)
    )
    print(f"{args.repo} #{args.number}: {review.state} by {review.author}")
    return 0


def _cmd_merge(forge: LocalForge, args: argparse.Namespace) -> int:
    pull = forge.merge_pull_request(args.repo, args.number)
    print(f"{args.repo} #{pull.number}: merged {pull.branch} into {pull.base} as {pull.merge_sha}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m resources.forge.cli", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument(
        "--root", type=Path, default=None, help="forge folder (default <PIPELINE_DATA_DIR>/forge)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list pull requests")
    listing.add_argument("--repo", help="only this repository")
    listing.add_argument("--state", choices=["open", "merged", "closed", "all"], default="all")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=_cmd_list)

    show = commands.add_parser("show", help="one pull request with its files and reviews")
    show.add_argument("repo")
    show.add_argument("number", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_cmd_show)

    approve = commands.add_parser("approve", help="approve a pull request")
    approve.add_argument("repo")
    approve.add_argument("number", type=int)
    approve.add_argument("--comment", default="")
    approve.add_argument("--author")
    approve.set_defaults(handler=_cmd_review)

    changes = commands.add_parser("request-changes", help="ask for changes, saying which")
    changes.add_argument("repo")
    changes.add_argument("number", type=int)
    changes.add_argument("--comment", required=True)
    changes.add_argument("--author")
    changes.set_defaults(handler=_cmd_review)

    merge = commands.add_parser("merge", help="merge a pull request into its base")
    merge.add_argument("repo")
    merge.add_argument("number", type=int)
    merge.set_defaults(handler=_cmd_merge)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    forge = LocalForge(root=str(args.root or _default_root()))
    try:
        return args.handler(forge, args)
    except (ForgeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
