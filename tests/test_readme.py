"""The READMEs are run: every `# runnable` shell block of README.md, in order, in a fresh data folder;
and the run and test commands of the README the offline generator writes into each repository.

README.md: a fenced block with info string `sh` whose first line is `# runnable` is run with
`bash -eu` from the checkout, as a person would paste it (each line must succeed); `# runnable: server`
marks a command that serves until stopped: it is started, must print its URL and answer it, then it
is stopped. The pipeline runs in-process (`ai-pipeline backfill --in-process`), so no daemon is
needed; the queued path of `backfill` is tested in tests/test_cli.py.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from assets.architecture.design import build_architecture, design_offline
from assets.requirements.extraction import extract_offline
from assets.requirements.merge import merge_stories
from assets.story_builds.models import apply_changes
from assets.story_builds.offline import generate_story_changes, plan_build_order
from assets.validations.sandbox import DEFAULT_PATH, run_tests_in_sandbox
from tests.support.acme import acme_parsed
from tests.support.cli import REPO, cli_env, shim_bin

FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.M | re.S)
MARKER = re.compile(r"^#\s*runnable(?::\s*(?P<mode>\w+))?\s*$")


@dataclass
class Block:
    line: int
    mode: str  # "run" or "server"
    script: str


def runnable_blocks(markdown: str) -> list[Block]:
    """The `sh` blocks whose first line is the runnable marker, in order, with their line numbers."""
    out = []
    for match in FENCE.finditer(markdown):
        if match["info"].strip() != "sh":
            continue
        first, _, rest = match["body"].partition("\n")
        marker = MARKER.match(first.strip())
        if marker:
            line = markdown.count("\n", 0, match.start()) + 1
            out.append(Block(line=line, mode=marker["mode"] or "run", script=rest))
    return out


def test_the_marker_is_recognised_and_other_blocks_are_left_alone() -> None:
    text = "```sh\n# runnable\necho a\n```\n\n```sh\necho b\n```\n\n```\n# runnable\necho c\n```\n" + (
        "```sh\n# runnable: server\nserve\n```\n"
    )
    assert [(b.mode, b.script) for b in runnable_blocks(text)] == [("run", "echo a\n"), ("server", "serve\n")]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve_and_fetch(block: Block, env: dict[str, str], timeout_s: float = 120) -> str:
    """Start a serving block, wait for the URL it prints, fetch it, stop it; the page's text."""
    process = subprocess.Popen(
        ["bash", "-eu", "-c", block.script],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout_s
        assert process.stdout is not None
        urls: list[str] = []
        while time.monotonic() < deadline and process.poll() is None:
            line = process.stdout.readline()
            urls += re.findall(r"http://127\.0\.0\.1:\d+/\S+", line)
            if urls:
                break
        assert urls, (
            f"README line {block.line}: no URL printed ({process.stderr.read() if process.poll() else ''})"
        )
        with urllib.request.urlopen(urls[-1], timeout=30) as answer:
            assert answer.status == 200
            return answer.read().decode("utf-8")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # never mask the assertion above with a slow exit
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def test_every_runnable_command_of_the_readme_works_in_a_fresh_data_folder(tmp_path: Path) -> None:
    blocks = runnable_blocks((REPO / "README.md").read_text())
    commands = "\n".join(block.script for block in blocks)
    for needed in ("ai-pipeline drop", "ai-pipeline backfill", "ai-pipeline status", "ai-pipeline review"):
        assert needed in commands, f"the README runs no {needed!r}"
    # `ai-pipeline` of this checkout first on the PATH (as `source .venv/bin/activate` would put it).
    path = [
        str(shim_bin(tmp_path / "bin")),
        str(Path(sys.executable).parent),
        os.environ.get("PATH", DEFAULT_PATH),
    ]
    env = cli_env(
        tmp_path / "var",
        PATH=":".join(path),
        PIPELINE_PAGE_URL=f"http://127.0.0.1:{_free_port()}",
    )
    for block in blocks:
        if block.mode == "server":
            page = _serve_and_fetch(block, env)
            assert "acme-tasks" in page and 'class="story"' in page
            continue
        out = subprocess.run(
            ["bash", "-eu", "-c", block.script],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert out.returncode == 0, (
            f"README line {block.line}:\n{block.script}\n{out.stdout}\n{out.stderr[-3000:]}"
        )
        assert "Traceback" not in out.stderr, f"README line {block.line}: {out.stderr[-3000:]}"
    assert (tmp_path / "var" / "dagster_home" / "dagster.yaml").exists()  # the documented default home


# ---------------------------------------------------------------------------------------------
# The generated repository's README


def _generated_tree() -> dict[str, str]:
    """The example project built offline by the real stage logic, every story on the last one."""
    documents = acme_parsed()
    requirements = merge_stories(
        [(ref, doc, extract_offline(doc)) for ref, doc in documents], None, project="acme-tasks"
    )
    architecture = build_architecture(requirements, design_offline(requirements))
    tree: dict[str, str] = {}
    for layer in plan_build_order(requirements):
        for story_id in layer:
            tree = apply_changes(
                tree, generate_story_changes(architecture, requirements, story_id, tree).files
            )
    return tree


def _section_blocks(markdown: str, heading: str) -> tuple[str, list[str]]:
    """(the section's text, its `sh` blocks) under `## heading`."""
    match = re.search(rf"^## {re.escape(heading)}\s*$(?P<body>.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"the generated README has no '## {heading}' section"
    body = match["body"]
    return body, [block["body"] for block in FENCE.finditer(body) if block["info"].strip() == "sh"]


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return _generated_tree()


def _sandbox_env() -> dict[str, str]:
    # `python` as the README says it, from this interpreter's environment.
    return {"PATH": f"{Path(sys.executable).parent}:{DEFAULT_PATH}"}


# Reported to the generator's owner: consecutive `cd backend && ...` / `cd frontend && ...` lines fail
# when pasted (the second `cd` starts from backend/). Only a failure with exactly that cause is expected.


def test_the_generated_readme_test_commands_pass_as_written(
    generated: dict[str, str], tmp_path: Path
) -> None:
    _, blocks = _section_blocks(generated["README.md"], "Test")
    assert blocks, "no test commands"
    for script in blocks:
        result = run_tests_in_sandbox(
            generated,
            ["bash", "-eu", "-c", script],
            timeout_s=300,
            workdir_parent=tmp_path,
            env=_sandbox_env(),
        )
        assert result.returncode == 0, (script, result.stderr_tail, result.stdout_tail)
        assert result.counts()["passed"] > 0, result.stdout_tail


def test_the_generated_readme_run_command_serves_what_it_says(
    generated: dict[str, str], tmp_path: Path
) -> None:
    text, blocks = _section_blocks(generated["README.md"], "Run")
    script, *containers = blocks
    # The container commands need a Docker engine, which these machines do not have.
    assert all(line.startswith("docker ") for block in containers for line in block.strip().splitlines())
    urls = re.findall(r"<(http://127\.0\.0\.1:\d+/[^>]*)>", text)
    assert urls, "the Run section names no address"
    # The command exactly as written, in the background; then every address the section names must answer.
    probe = "; ".join(f"urllib.request.urlopen({url!r}, timeout=5)" for url in urls)
    check = (
        f"{script.strip()} &\n"
        "for attempt in $(seq 150); do\n"
        f'  python -c "import urllib.request; {probe}" 2>/dev/null && exit 0\n'
        "  sleep 0.2\n"
        "done\n"
        "exit 1\n"
    )
    result = run_tests_in_sandbox(
        generated, ["bash", "-eu", "-c", check], timeout_s=120, workdir_parent=tmp_path, env=_sandbox_env()
    )
    assert result.returncode == 0, (script, urls, result.stderr_tail, result.stdout_tail)


def test_every_setting_is_in_the_readme_settings_table() -> None:
    from pipeline_core.settings import Settings

    section = (REPO / "README.md").read_text().split("\n## Settings", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", section, re.M))
    documented |= set(re.findall(r"\| `[A-Z0-9_]+` / `([A-Z][A-Z0-9_]+)`", section))
    missing = [
        (field.alias or name).upper()
        for name, field in Settings.model_fields.items()
        if (field.alias or name).upper() not in documented
    ]
    assert not missing, f"settings missing from the README's table: {missing}"
