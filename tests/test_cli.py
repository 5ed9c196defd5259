"""`ai-pipeline`: the console script, its one-line errors, a closed pipe, drop, status, backfill, review."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import dagster as dg
import pytest

from pipeline_defs.cli import drop_folder, main
from resources.forge.base import FileChange
from resources.forge.local import LocalForge
from resources.object_store import LocalObjectStore
from tests.support.cli import ENTRY, REPO, ai_pipeline, cli_env

EXAMPLE = REPO / "examples" / "acme-tasks"


class Cli:
    """`ai-pipeline` called in this process (the same `main` the script calls) on a fresh data folder."""

    def __init__(self, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.data_dir, self.capsys = data_dir, capsys

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.capsys.readouterr()
        code = main(list(args))
        out = self.capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out.out, out.err)


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # the CLI sets it; restored after the test
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(tmp_path / "var"))
    return Cli(tmp_path / "var", capsys)


def test_drop_uploads_new_and_changed_files_and_leaves_out_hidden_paths(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "notes").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "spec.md").write_text("# Spec\n")
    (folder / "notes" / "call.vtt").write_text("WEBVTT\n")
    (folder / ".git" / "config").write_text("[core]\n")
    (folder / ".DS_Store").write_bytes(b"\0")
    inbox = LocalObjectStore(root=str(tmp_path / "inbox"))

    assert drop_folder(inbox, folder, "acme") == ["acme/notes/call.vtt", "acme/spec.md"]
    assert [info.key for info in inbox.list_page()] == ["acme/notes/call.vtt", "acme/spec.md"]
    assert drop_folder(inbox, folder, "acme") == []  # same content: nothing written, so no new run
    (folder / "spec.md").write_text("# Spec, revised\n")
    assert drop_folder(inbox, folder, "acme") == ["acme/spec.md"]
    assert inbox.get_text("acme/spec.md") == "# Spec, revised\n"


def test_the_console_script_is_declared_and_the_installed_one_runs() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["ai-pipeline"] == "ai_pipeline_cli:main"
    # One top-level module is installed (it finds the checkout); the bare package names are not.
    assert project["tool"]["setuptools"] == {"packages": [], "py-modules": ["ai_pipeline_cli"]}
    installed = Path(sys.executable).parent / "ai-pipeline"
    if not installed.exists():
        pytest.skip("the project is not installed in this interpreter's environment (pip install -e .)")
    # From a folder outside the checkout, with nothing on PYTHONPATH: the script finds its checkout.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    out = subprocess.run([str(installed), "--help"], cwd="/", env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for command in ("drop", "status", "backfill", "review", "page"):
        assert command in out.stdout


def test_drop_then_status_in_a_fresh_data_folder(tmp_path: Path, cli: Cli) -> None:
    dropped = cli("drop", str(EXAMPLE))
    assert dropped.returncode == 0, dropped.stderr
    assert "5 new or changed file(s)" in dropped.stdout
    assert sorted(path.name for path in (tmp_path / "var" / "inbox" / "acme-tasks").iterdir()) == sorted(
        path.name for path in EXAMPLE.iterdir()
    )
    again = cli("drop", str(EXAMPLE), "--project", "acme-tasks")
    assert "0 new or changed file(s)" in again.stdout

    # No DAGSTER_HOME set: the documented default under the data folder, with the embedded profile.
    status = cli("status")
    assert status.returncode == 0, status.stderr
    assert "no projects yet" in status.stdout
    assert (tmp_path / "var" / "dagster_home" / "dagster.yaml").read_text() == (
        REPO / "infra" / "dagster" / "embedded.yaml"
    ).read_text()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("drop", "no-such-folder"), 2, "does not exist"),
        (("drop", str(EXAMPLE), "--project", "Bad Name"), 1, "invalid project name 'Bad Name'"),
        (("backfill", "other-project"), 1, "unknown project(s) other-project"),
        (("status", "other-project"), 1, "unknown project(s) other-project"),
        (("review", "show", "acme-tasks", "0"), 2, "0 is not in the range"),
        (("review", "request-changes", "acme-tasks", "1"), 2, "--comment"),
        (("nonsense",), 2, "No such command 'nonsense'"),
    ],
)
def test_bad_input_exits_non_zero_with_one_clear_line(
    cli: Cli, args: tuple[str, ...], code: int, message: str
) -> None:
    out = cli(*args)
    assert out.returncode == code, out.stdout + out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("error: ") and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def _forge_with_pull_requests(data_dir: Path, count: int) -> LocalForge:
    forge = LocalForge(root=str(data_dir / "forge"))
    forge.ensure_repository("shop", "A small shop")
    for number in range(1, count + 1):
        forge.commit_files(
            "shop",
            f"story/s-{number}",
            "main",
            [FileChange(path=f"app/part_{number}.py", content=f"part = {number}\n")],
            f"S-{number}: build",
        )
        forge.open_pull_request(
            "shop", f"story/s-{number}", "main", f"S-{number}: part", story_id=f"S-{number}"
        )
    return forge


def test_review_lists_shows_requests_changes_approves_and_merges(cli: Cli) -> None:
    forge = _forge_with_pull_requests(cli.data_dir, 2)

    listed = cli("review", "list")
    assert listed.returncode == 0, listed.stderr
    header, rule, *rows = listed.stdout.splitlines()
    assert header.split() == ["project", "#", "state", "story", "branch", "title"]
    assert [row.split()[:5] for row in rows] == [
        ["shop", "1", "open", "S-1", "story/s-1"],
        ["shop", "2", "open", "S-2", "story/s-2"],
    ]

    changes = cli("review", "request-changes", "shop", "1", "-m", "Please add tests.", "--author", "alice")
    assert changes.returncode == 0, changes.stderr
    assert cli("review", "approve", "shop", "1", "--author", "bob").returncode == 0
    shown = json.loads(cli("review", "show", "shop", "1", "--json").stdout)
    assert [(r["state"], r["author"], r["body"]) for r in shown["reviews"]] == [
        ("changes_requested", "alice", "Please add tests."),
        ("approved", "bob", ""),
    ]
    assert {"status": "A", "path": "app/part_1.py"} in shown["files"]
    text = cli("review", "show", "shop", "1").stdout
    assert "changes requested by alice" in text and "Please add tests." in text and "A app/part_1.py" in text

    merged = cli("review", "merge", "shop", "1")
    assert merged.returncode == 0, merged.stderr
    assert forge.get_pull_request("shop", 1).state == "merged"
    assert "app/part_1.py" in forge.read_tree("shop", "main")
    as_json = json.loads(cli("review", "list", "--state", "merged", "--json").stdout)
    assert [(p["repo"], p["number"], p["state"]) for p in as_json] == [("shop", 1, "merged")]

    missing = cli("review", "approve", "shop", "42")
    assert missing.returncode == 1 and "#42 not found" in missing.stderr


def test_review_merge_of_a_conflicting_pull_request_says_what_to_do(cli: Cli) -> None:
    forge = LocalForge(root=str(cli.data_dir / "forge"))
    forge.ensure_repository("shop", "A small shop")
    for number in (1, 2):  # both branches write the same file differently
        forge.commit_files(
            "shop",
            f"story/s-{number}",
            "main",
            [FileChange(path="app/registry.py", content=f"parts = [{number}]\n")],
            f"S-{number}: build",
        )
        forge.open_pull_request("shop", f"story/s-{number}", "main", f"S-{number}", story_id=f"S-{number}")
    assert cli("review", "merge", "shop", "1").returncode == 0
    refused = cli("review", "merge", "shop", "2")
    assert refused.returncode == 1, refused.stdout
    assert "app/registry.py" in refused.stderr and "review approve shop 2" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert forge.get_pull_request("shop", 2).state == "open"


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`ai-pipeline review list | head -1`: the reader goes away; no traceback, no error."""
    data = tmp_path / "var"
    _forge_with_pull_requests(data, 2)
    # The read end is closed before the command writes anything, so its first write meets a closed pipe.
    read, write = os.pipe()
    os.close(read)
    try:
        out = subprocess.run(
            [sys.executable, str(ENTRY), "review", "list"],
            cwd=REPO,
            env=cli_env(data),
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    finally:
        os.close(write)
    assert out.returncode == 1  # what click (and `yes | head -1`'s SIGPIPE) report: output was cut
    assert out.stderr == "", out.stderr


def test_backfill_queues_one_run_per_project_on_the_instance(tmp_path: Path) -> None:
    """Without a daemon the runs wait in the queue: submitted, tagged with their project, and
    `--wait` says why it gives up."""
    data = tmp_path / "var"
    env = cli_env(data)
    for project in ("acme-tasks", "other-project"):
        drop_folder(LocalObjectStore(root=str(data / "inbox")), EXAMPLE, project)

    out = ai_pipeline("backfill", "acme-tasks", "other-project", "--wait", "--timeout", "2", env=env)
    assert out.returncode == 1, out.stderr
    assert "2 run(s) queued for acme-tasks, other-project" in out.stdout
    assert "is the daemon running?" in out.stderr.splitlines()[-1]

    os.environ["DAGSTER_HOME"] = str(data / "dagster_home")
    try:
        with dg.DagsterInstance.get() as instance:
            assert sorted(instance.get_dynamic_partitions("projects")) == ["acme-tasks", "other-project"]
            runs = instance.get_runs()
            assert sorted(run.tags["dagster/partition"] for run in runs) == ["acme-tasks", "other-project"]
            assert {run.job_name for run in runs} == {"project_pipeline"}
            assert {run.status for run in runs} == {dg.DagsterRunStatus.QUEUED}
            [backfill] = instance.get_backfills()
            assert {run.tags["dagster/backfill"] for run in runs} == {backfill.backfill_id}
    finally:
        del os.environ["DAGSTER_HOME"]
