"""The local forge against real bare git repositories in a temporary folder, and `ai-pipeline review`."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from resources.forge.base import (
    FileChange,
    ForgeError,
    GitIdentity,
    check_branch_name,
    check_repository_name,
    format_commit_message,
    parse_trailers,
    pull_request_body,
    story_id_from_body,
)
from resources.forge.local import LocalForge
from tests.support.cli import ai_pipeline, cli_env

REPO_ROOT = Path(__file__).resolve().parents[1]
DATE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def git(bare: Path, *args: str) -> str:
    env = {
        "PATH": os.environ["PATH"],
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "HOME": "/",
    }
    return subprocess.run(
        ["git", f"--git-dir={bare}", *args], capture_output=True, text=True, check=True, env=env
    ).stdout


@pytest.fixture
def forge(tmp_path: Path) -> LocalForge:
    return LocalForge(root=str(tmp_path / "forge"))


@pytest.fixture
def repo(forge: LocalForge) -> str:
    forge.ensure_repository("shop", "A small shop")
    return "shop"


def story(forge: LocalForge, repo: str, sid: str, base: str, files: dict[str, str], key: str) -> str:
    commit = forge.commit_files(
        repo,
        f"story/{sid}",
        base,
        [FileChange(path=p, content=c) for p, c in files.items()],
        f"{sid}: build",
        trailers={"Build-Key": key, "Story-Id": sid},
        date=DATE,
    )
    return commit.sha


# --- plain helpers -------------------------------------------------------------------------------


def test_trailers_round_trip_and_only_the_last_paragraph_counts() -> None:
    message = format_commit_message(
        "Build S-1\n\nBody: not a trailer line because more follows", {"Build-Key": "k1"}
    )
    assert message.endswith("\n\nBuild-Key: k1\n")
    assert parse_trailers(message) == {"Build-Key": "k1"}
    assert parse_trailers("Subject only") == {}
    assert parse_trailers("Subject\n\nprose here\nKey: v") == {}
    with pytest.raises(ValueError):
        format_commit_message("x", {"Bad Key": "v"})
    with pytest.raises(ValueError):
        format_commit_message("x", {"Key": "two\nlines"})
    with pytest.raises(ValueError):
        format_commit_message("   ", None)


def test_story_marker_round_trips_through_a_pull_request_body() -> None:
    body = pull_request_body("Implements the cart.", "S-007")
    assert body.startswith("Implements the cart.")
    assert story_id_from_body(body) == "S-007"
    assert story_id_from_body("no marker") is None


@pytest.mark.parametrize("name", ["", ".hidden", "-x", "a/b", "x.git", "a b", "é"])
def test_bad_repository_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        check_repository_name(name)


@pytest.mark.parametrize(
    "branch", ["", "/a", "a/", "a..b", "a b", "a~1", "a:b", "x.lock", "a/.b", "@", "a@{1}"]
)
def test_bad_branch_names_are_refused(branch: str) -> None:
    with pytest.raises(ValueError):
        check_branch_name(branch)


@pytest.mark.parametrize(
    "path", ["", "/etc/passwd", "../x", "a/../b", "a//b", ".git/config", "a/.GIT/x", "a\\b"]
)
def test_file_changes_outside_the_repository_are_refused(path: str) -> None:
    with pytest.raises(ValidationError):
        FileChange(path=path, content=b"x")


def test_a_file_change_is_either_content_or_delete() -> None:
    with pytest.raises(ValidationError):
        FileChange(path="a")
    with pytest.raises(ValidationError):
        FileChange(path="a", content=b"x", delete=True)
    assert FileChange(path=".github/workflows/ci.yml", content="on: push\n").content == b"on: push\n"


# --- repositories --------------------------------------------------------------------------------


def test_ensure_repository_creates_a_bare_repo_once(forge: LocalForge, tmp_path: Path) -> None:
    ref = forge.ensure_repository("shop", "A small shop")
    bare = tmp_path / "forge" / "shop.git"
    assert git(bare, "rev-parse", "--is-bare-repository").strip() == "true"
    assert ref.default_branch == "main"
    assert ref.url == bare.as_uri()
    head = forge.default_branch_head("shop")
    assert head is not None
    assert forge.read_tree("shop", "main") == {"README.md": b"# shop\n\nA small shop\n"}
    assert (bare / "description").read_text() == "A small shop\n"

    again = forge.ensure_repository("shop", "other description")
    assert again == ref
    assert forge.default_branch_head("shop") == head
    assert forge.list_repositories() == ["shop"]
    assert not [p for p in (tmp_path / "forge").iterdir() if p.name.startswith(".init-")]


def test_operations_on_a_missing_repository_fail_clearly(forge: LocalForge) -> None:
    with pytest.raises(ForgeError, match="does not exist"):
        forge.branch_head("nope", "main")
    with pytest.raises(ValueError):
        forge.ensure_repository("../escape")


# --- commits -------------------------------------------------------------------------------------


def test_story_branches_build_on_each_other(forge: LocalForge, repo: str, tmp_path: Path) -> None:
    main = forge.default_branch_head(repo)
    first = forge.commit_files(
        repo,
        "story/s-1",
        "main",
        [
            FileChange(path="app/cart.py", content="CART = []\n"),
            FileChange(path="scripts/run.sh", content="#!/bin/sh\necho hi\n", executable=True),
        ],
        "S-1: cart",
        author=GitIdentity(name="Builder Bot", email="bot@example.test"),
        trailers={"Build-Key": "k1", "Story-Id": "S-1"},
        date=DATE,
    )
    assert first.parents == [main]
    assert forge.branch_head(repo, "story/s-1") == first.sha
    assert forge.default_branch_head(repo) == main  # only the story branch moved

    second = forge.commit_files(
        repo,
        "story/s-2",
        "story/s-1",
        [FileChange(path="app/pay.py", content=b"PAY = 1\n"), FileChange(path="README.md", delete=True)],
        "S-2: pay",
        trailers={"Build-Key": "k2"},
        date=DATE,
    )
    assert second.parents == [first.sha]
    assert forge.read_tree(repo, "story/s-2") == {
        "app/cart.py": b"CART = []\n",
        "app/pay.py": b"PAY = 1\n",
        "scripts/run.sh": b"#!/bin/sh\necho hi\n",
    }
    assert forge.read_tree(repo, first.sha)["README.md"].startswith(b"# shop")

    bare = tmp_path / "forge" / "shop.git"
    listing = [line.split("\t") for line in git(bare, "ls-tree", "-r", first.sha).splitlines()]
    modes = {path: meta.split(" ")[0] for meta, path in listing}
    assert modes["scripts/run.sh"] == "100755" and modes["app/cart.py"] == "100644"
    log = git(bare, "log", "-1", "--format=%an|%ae|%cn|%aI|%cI", first.sha).strip()
    assert (
        log == "Builder Bot|bot@example.test|Builder Bot|2026-03-01T12:00:00+00:00|2026-03-01T12:00:00+00:00"
    )
    assert forge.get_commit(repo, first.sha).trailers == {"Build-Key": "k1", "Story-Id": "S-1"}


def test_same_inputs_give_the_same_commit(forge: LocalForge, repo: str) -> None:
    one = story(forge, repo, "s-1", "main", {"a.txt": "A"}, "k1")
    two = story(forge, repo, "s-1", "main", {"a.txt": "A"}, "k1")
    assert one == two
    assert story(forge, repo, "s-1", "main", {"a.txt": "B"}, "k1") != one


def test_git_ignores_the_users_configuration_and_environment(
    forge: LocalForge, repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = tmp_path / "gitconfig"
    hostile.write_text(
        "[user]\n\tname = Intruder\n[commit]\n\tgpgSign = true\n[core]\n\thooksPath = /nonexistent\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(hostile))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Intruder")
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2001-01-01T00:00:00Z")
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    sha = story(forge, repo, "s-1", "main", {"a.txt": "A"}, "k1")
    log = git(tmp_path / "forge" / "shop.git", "log", "-1", "--format=%an|%cI", sha).strip()
    assert log == "ai-pipeline|2026-03-01T12:00:00+00:00"


def test_a_rerun_redoes_the_branch_from_its_base(forge: LocalForge, repo: str) -> None:
    old = story(forge, repo, "s-1", "main", {"a.txt": "old"}, "k-old")
    new = story(forge, repo, "s-1", "main", {"a.txt": "new"}, "k-new")
    assert forge.branch_head(repo, "story/s-1") == new
    assert forge.get_commit(repo, new).parents == forge.get_commit(repo, old).parents
    assert forge.find_commit_with_trailer(repo, "story/s-1", "Build-Key", "k-new").sha == new
    assert forge.find_commit_with_trailer(repo, "story/s-1", "Build-Key", "k-old") is None
    assert forge.find_commit_with_trailer(repo, "story/none", "Build-Key", "k-new") is None


def _reject_pushes(bare: Path) -> None:
    """The repository refuses every branch update (git's reference-transaction hook, which runs for
    `update-ref` as for a push), as a server would with a hook or a full disk."""
    hook = bare / "hooks" / "reference-transaction"
    hook.write_text(
        '#!/bin/sh\n[ "$1" = prepared ] || exit 0\n'
        "if grep -q ' refs/heads/'; then echo 'push refused by test hook' >&2; exit 1; fi\n"
    )
    hook.chmod(0o755)


def test_a_failed_push_leaves_the_branch_unchanged(
    forge: LocalForge, repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work_tmp = tmp_path / "tmp"
    work_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(work_tmp))
    before = story(forge, repo, "s-1", "main", {"a.txt": "one"}, "k1")
    _reject_pushes(tmp_path / "forge" / "shop.git")

    with pytest.raises(ForgeError, match="push refused by test hook"):
        story(forge, repo, "s-1", "main", {"a.txt": "two"}, "k2")
    with pytest.raises(ForgeError):
        story(forge, repo, "s-2", "main", {"b.txt": "new"}, "k3")

    assert forge.branch_head(repo, "story/s-1") == before
    assert forge.branch_head(repo, "story/s-2") is None
    assert (
        forge.find_commit_with_trailer(repo, "story/s-1", "Build-Key", "k2") is None
    )  # the re-run redoes it
    assert forge.find_commit_with_trailer(repo, "story/s-1", "Build-Key", "k1").sha == before
    assert list(work_tmp.iterdir()) == []  # temporary working copies are gone


def test_a_branch_moved_by_someone_else_meanwhile_is_not_overwritten(
    forge: LocalForge, repo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "forge" / "shop.git"
    story(forge, repo, "s-1", "main", {"a.txt": "one"}, "k1")
    theirs = forge.default_branch_head(repo)
    original_push = LocalForge._push

    def racing_push(self: LocalForge, work: Path, sha: str, branch: str, expected_old: str | None) -> None:
        git(bare, "update-ref", f"refs/heads/{branch}", theirs)  # another writer wins the race
        original_push(self, work, sha, branch, expected_old)

    monkeypatch.setattr(LocalForge, "_push", racing_push)
    with pytest.raises(ForgeError, match="stale info|rejected"):
        story(forge, repo, "s-1", "main", {"a.txt": "two"}, "k2")
    assert forge.branch_head(repo, "story/s-1") == theirs


def test_a_missing_base_fails_before_anything_is_written(forge: LocalForge, repo: str) -> None:
    with pytest.raises(ForgeError, match="not found"):
        story(forge, repo, "s-1", "story/missing", {"a.txt": "A"}, "k1")
    with pytest.raises(ValueError):
        forge.commit_files(
            repo,
            "story/s-1",
            "main",
            [FileChange(path="a", content=b"1"), FileChange(path="a", delete=True)],
            "twice",
        )
    assert forge.branch_head(repo, "story/s-1") is None


# --- pull requests and reviews -------------------------------------------------------------------


def test_pull_requests_are_json_records_and_open_is_idempotent(
    forge: LocalForge, repo: str, tmp_path: Path
) -> None:
    head = story(forge, repo, "s-1", "main", {"a.txt": "A"}, "k1")
    pull = forge.open_pull_request(repo, "story/s-1", "main", "S-1: cart", "Adds a cart.", story_id="S-1")
    assert (pull.number, pull.state, pull.story_id, pull.head_sha) == (1, "open", "S-1", head)
    record = json.loads((tmp_path / "forge" / "shop.forge" / "pulls" / "1.json").read_text())
    assert record["pull"]["branch"] == "story/s-1" and record["reviews"] == []

    again = forge.open_pull_request(repo, "story/s-1", "main", "S-1: cart", "Adds a cart.", story_id="S-1")
    assert again.number == 1
    newer = story(forge, repo, "s-1", "main", {"a.txt": "B"}, "k2")
    assert forge.get_pull_request(repo, 1).head_sha == newer  # an open pull request follows its branch
    assert [p.number for p in forge.list_pull_requests(repo)] == [1]

    with pytest.raises(ForgeError, match="not found"):
        forge.open_pull_request(repo, "story/none", "main", "x")
    with pytest.raises(ForgeError, match="not found"):
        forge.get_pull_request(repo, 99)


def test_a_rebuilt_storys_pull_request_follows_its_base_title_and_body(forge: LocalForge, repo: str) -> None:
    story(forge, repo, "s-0", "main", {"base.txt": "0"}, "k0")
    story(forge, repo, "s-1", "main", {"a.txt": "A"}, "k1")
    first = forge.open_pull_request(repo, "story/s-1", "main", "S-1: cart", "Covered by tests: none", "S-1")

    # Rebuilt on its new dependency's branch, with a new title and body.
    story(forge, repo, "s-1", "story/s-0", {"a.txt": "A2"}, "k2")
    rebuilt = forge.open_pull_request(
        repo, "story/s-1", "story/s-0", "S-1: cart with totals", "Covered by tests: AC1, AC2", "S-1"
    )
    assert rebuilt.number == first.number and [p.number for p in forge.list_pull_requests(repo)] == [1]
    stored = forge.get_pull_request(repo, 1)
    assert (stored.base, stored.title) == ("story/s-0", "S-1: cart with totals")
    assert stored.body.startswith("Covered by tests: AC1, AC2") and stored.story_id == "S-1"
    assert stored.updated_at is not None and first.updated_at is not None
    assert stored.updated_at >= first.updated_at

    # Asked again with the same story, or without a body: nothing changes, the body is kept.
    same = forge.open_pull_request(repo, "story/s-1", "story/s-0", "S-1: cart with totals", story_id="S-1")
    assert same.body == stored.body and same.updated_at == stored.updated_at


def test_concurrent_openers_get_distinct_numbers(forge: LocalForge, repo: str) -> None:
    for i in range(6):
        story(forge, repo, f"s-{i}", "main", {f"f{i}.txt": str(i)}, f"k{i}")
    numbers: list[int] = []
    lock = threading.Lock()

    def open_one(i: int) -> None:
        pull = forge.open_pull_request(repo, f"story/s-{i}", "main", f"S-{i}", story_id=f"S-{i}")
        with lock:
            numbers.append(pull.number)

    threads = [threading.Thread(target=open_one, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == [1, 2, 3, 4, 5, 6]
    assert sorted(p.story_id for p in forge.list_pull_requests(repo)) == [f"S-{i}" for i in range(6)]


def test_comments_are_kept_beside_the_pull_request_and_the_pipelines_are_told_apart(
    forge: LocalForge, repo: str
) -> None:
    story(forge, repo, "s-1", "main", {"app/cart.py": "cart"}, "k1")
    forge.open_pull_request(repo, "story/s-1", "main", "S-1", story_id="S-1")
    with pytest.raises(ValueError, match="text"):
        forge.comment_on_pull_request(repo, 1, "  ")
    forge.comment_on_pull_request(repo, 1, "Given a cart, when I pay, then I get a receipt", "alice")
    first = forge.comment_once(repo, 1, "The offline provider cannot act on this.", "note-abc")
    again = forge.comment_once(repo, 1, "The offline provider cannot act on this.", "note-abc")
    comments = forge.list_comments(repo, 1)
    assert [(c.author, c.pipeline_key) for c in comments] == [("alice", None), ("ai-pipeline", "note-abc")]
    assert again.id == first.id and comments[1].body.startswith("The offline provider")
    # The record beside the pull request holds them (another process reads them back).
    record = json.loads(forge.pull_request_path(repo, 1).read_text())
    assert [c["author"] for c in record["comments"]] == ["alice", "ai-pipeline"]
    assert LocalForge(root=forge.root).list_comments(repo, 1) == comments
    with pytest.raises(ForgeError, match="#9"):
        forge.list_comments(repo, 9)


def test_reviews_and_merges_of_stacked_stories(forge: LocalForge, repo: str) -> None:
    s1 = story(forge, repo, "s-1", "main", {"app/cart.py": "cart"}, "k1")
    s2 = story(forge, repo, "s-2", "story/s-1", {"app/pay.py": "pay"}, "k2")
    forge.open_pull_request(repo, "story/s-1", "main", "S-1", story_id="S-1")
    forge.open_pull_request(repo, "story/s-2", "main", "S-2", story_id="S-2")

    with pytest.raises(ValueError, match="comment"):
        forge.add_review(repo, 1, "changes_requested", "", "alice")
    forge.add_review(repo, 1, "changes_requested", "Name the cart module basket.", "alice")
    forge.add_review(repo, 1, "approved", "Fine after all.", "bob")
    reviews = forge.get_reviews(repo, 1)
    assert [(r.state, r.author, r.body) for r in reviews] == [
        ("changes_requested", "alice", "Name the cart module basket."),
        ("approved", "bob", "Fine after all."),
    ]

    base_before = forge.default_branch_head(repo)
    merged = forge.merge_pull_request(repo, 1)
    assert merged.state == "merged" and merged.head_sha == s1
    assert forge.get_commit(repo, merged.merge_sha).parents == [base_before, s1]
    assert forge.default_branch_head(repo) == merged.merge_sha
    assert forge.merge_pull_request(repo, 1).merge_sha == merged.merge_sha  # merging twice changes nothing

    second = forge.merge_pull_request(repo, 2)
    assert second.head_sha == s2
    assert set(forge.read_tree(repo, "main")) == {"README.md", "app/cart.py", "app/pay.py"}
    with pytest.raises(ForgeError, match="merged"):
        forge.add_review(repo, 1, "approved", "late", "carol")


def test_a_conflicting_merge_changes_nothing(forge: LocalForge, repo: str) -> None:
    story(forge, repo, "s-1", "main", {"README.md": "ours\n"}, "k1")
    story(forge, repo, "s-2", "main", {"README.md": "theirs\n"}, "k2")
    forge.open_pull_request(repo, "story/s-1", "main", "S-1")
    forge.open_pull_request(repo, "story/s-2", "main", "S-2")
    forge.merge_pull_request(repo, 1)
    main = forge.default_branch_head(repo)
    with pytest.raises(ForgeError, match="does not merge cleanly"):
        forge.merge_pull_request(repo, 2)
    assert forge.default_branch_head(repo) == main
    assert forge.get_pull_request(repo, 2).state == "open"


def test_commit_merge_brings_a_conflicting_branch_up_to_date_and_it_then_merges(
    forge: LocalForge, repo: str
) -> None:
    story(forge, repo, "s-1", "main", {"README.md": "ours\n"}, "k1")
    head = story(forge, repo, "s-2", "main", {"README.md": "theirs\n", "b.py": "B\n"}, "k2")
    forge.open_pull_request(repo, "story/s-1", "main", "S-1")
    forge.open_pull_request(repo, "story/s-2", "main", "S-2")
    forge.merge_pull_request(repo, 1)
    main = forge.default_branch_head(repo) or ""
    with pytest.raises(ForgeError, match="does not merge cleanly"):
        forge.merge_pull_request(repo, 2)

    update = forge.commit_merge(
        repo,
        "story/s-2",
        head,
        "main",
        [FileChange(path="README.md", content="ours\ntheirs\n")],
        "Bring story/s-2 up to date with main",
        trailers={"Story-Id": "s-2", "Build-Key": "k2"},
        date=DATE,
    )
    bare = forge._bare(repo)
    assert git(bare, "rev-list", "--parents", "-n", "1", update.sha).split() == [update.sha, head, main]
    assert update.parents == [head, main] and forge.get_commit(repo, update.sha).parents == [head, main]
    assert forge.branch_head(repo, "story/s-2") == update.sha
    files = forge.read_tree(repo, update.sha)
    assert files == {"README.md": b"ours\ntheirs\n", "b.py": b"B\n"}  # the head's tree with the change
    assert update.trailers == {"Story-Id": "s-2", "Build-Key": "k2"}
    assert not git(bare, "for-each-ref", "refs/forge-import")  # no temporary ref left behind

    merged = forge.merge_pull_request(repo, 2)
    assert merged.state == "merged" and merged.head_sha == update.sha
    assert forge.read_tree(repo, "main")["README.md"] == b"ours\ntheirs\n"
    assert git(bare, "rev-parse", "main^2").strip() == update.sha


def test_commit_merge_never_moves_a_branch_that_moved_meanwhile(forge: LocalForge, repo: str) -> None:
    first = story(forge, repo, "s-1", "main", {"a.py": "1\n"}, "k1")
    moved = story(forge, repo, "s-1", first, {"a.py": "2\n"}, "k1b")  # someone pushed meanwhile
    with pytest.raises(ForgeError, match="moved"):
        forge.commit_merge(repo, "story/s-1", first, "main", [FileChange(path="a.py", content="3\n")], "up")
    assert forge.branch_head(repo, "story/s-1") == moved
    assert not git(forge._bare(repo), "for-each-ref", "refs/forge-import")


def test_secrets_record_the_name_only(forge: LocalForge, repo: str, tmp_path: Path) -> None:
    forge.set_actions_secret(repo, "DEPLOY_TOKEN", "value-that-must-not-be-stored")
    assert forge.list_actions_secrets(repo) == ["DEPLOY_TOKEN"]
    for path in (tmp_path / "forge").rglob("*"):
        if path.is_file():
            assert b"value-that-must-not-be-stored" not in path.read_bytes(), path
    with pytest.raises(ValueError):
        forge.set_actions_secret(repo, "GITHUB_TOKEN", "x")


# --- the CLI -------------------------------------------------------------------------------------


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ai-pipeline review ...` on the forge at `root` (the data folder's `forge/`)."""
    return ai_pipeline("review", *args, env=cli_env(root.parent))


def test_cli_lists_shows_reviews_and_merges(forge: LocalForge, repo: str, tmp_path: Path) -> None:
    root = tmp_path / "forge"
    story(forge, repo, "s-1", "main", {"app/cart.py": "cart"}, "k1")
    forge.open_pull_request(repo, "story/s-1", "main", "S-1: cart", "Adds a cart.", story_id="S-1")

    listed = cli(root, "list")
    assert listed.returncode == 0, listed.stderr
    assert ["shop", "1", "open", "S-1", "story/s-1"] in [
        line.split()[:5] for line in listed.stdout.splitlines()
    ]

    changes = cli(root, "request-changes", "shop", "1", "--comment", "Please add tests.", "--author", "alice")
    assert changes.returncode == 0, changes.stderr
    assert cli(root, "approve", "shop", "1", "--author", "bob").returncode == 0

    shown = json.loads(cli(root, "show", "shop", "1", "--json").stdout)
    assert [(r["state"], r["author"], r["body"]) for r in shown["reviews"]] == [
        ("changes_requested", "alice", "Please add tests."),
        ("approved", "bob", ""),
    ]
    assert {"status": "A", "path": "app/cart.py"} in shown["files"]
    assert "Please add tests." in cli(root, "show", "shop", "1").stdout

    merged = cli(root, "merge", "shop", "1")
    assert merged.returncode == 0, merged.stderr
    assert forge.get_pull_request("shop", 1).state == "merged"
    assert "app/cart.py" in forge.read_tree("shop", "main")
    as_json = json.loads(cli(root, "list", "--state", "merged", "--json").stdout)
    assert [(p["repo"], p["number"], p["state"]) for p in as_json] == [("shop", 1, "merged")]


def test_cli_reports_errors_with_an_exit_code(forge: LocalForge, repo: str, tmp_path: Path) -> None:
    root = tmp_path / "forge"
    missing = cli(root, "approve", "shop", "42")
    assert missing.returncode == 1 and "#42 not found" in missing.stderr
    no_comment = cli(root, "request-changes", "shop", "1")
    assert no_comment.returncode == 2 and "--comment" in no_comment.stderr


def test_make_forge_picks_the_implementation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from resources.forge import GitHubForge, make_forge

    local = make_forge("auto", tmp_path)
    assert isinstance(local, LocalForge) and Path(local.root) == tmp_path / "forge"
    assert isinstance(make_forge("auto", tmp_path, github_token_set=False, github_owner="me"), LocalForge)
    remote = make_forge("auto", tmp_path, github_token_set=True, github_owner="me")
    assert isinstance(remote, GitHubForge) and remote.owner == "me"
    assert "GITHUB_TOKEN" in repr(remote.model_dump()) and "token" not in repr(remote)
    with pytest.raises(ValueError, match="GITHUB_OWNER"):
        make_forge("github", tmp_path)
