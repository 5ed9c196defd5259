"""Run a generated repository's tests in a sandbox, and report acceptance-criterion coverage.

The sandbox is a subprocess in a fresh temporary copy of the tree:

- a minimal environment: PATH, HOME (an empty folder in the sandbox), TMPDIR, LANG, LC_ALL,
  PYTHONDONTWRITEBYTECODE, PYTHONUNBUFFERED; nothing else of the pipeline's environment, so no
  API keys, tokens or AWS_* variables;
- containment: nothing it starts outlives the call, on normal exit, at the time limit, or when the
  caller is interrupted, not even a process that left its session (setsid) or double-forked. Where
  a PID namespace is available the command runs under the namespace's init, which takes every
  process of it along when it ends; elsewhere under a child subreaper that keeps and kills its
  whole process tree (`confinement`; `SandboxResult.containment` and `isolation` say which);
- resource limits (CPU seconds, file size, no core dumps, optionally memory), set by a small Python
  bootstrap before it `exec`s the command (no `preexec_fn`, which is unsafe in threaded callers);
- where the platform allows (`unshare -rnm`: user, network and mount namespaces; works as root
  and for users with unprivileged user namespaces), no network but its own loopback, and the
  usual credential files of the pipeline's user (~/.aws, ~/.ssh, ~/.netrc, ...) hidden. Otherwise
  it runs without them and says so (`network_isolated=False`, `isolation` gives the reason).

Per-test results come from a JUnit XML file when the command writes one, else from the runner's
verbose output (`python -m unittest -v`, `pytest -v`) or TAP (`node --test`): see `test_output`.
A test that was started but had no result when the time limit struck is reported as `timeout`.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from assets.story_builds.models import check_tree_path
from assets.validations.confinement import (  # noqa: F401  (re-exported)
    BOOTSTRAP,
    CREDENTIAL_PATHS,
    DEFAULT_PATH,
    Containment,
    confine,
    namespace_support,
    pid_namespace_support,
    stop_process_tree,
)
from assets.validations.coverage import (  # noqa: F401  (re-exported: the stage's one import place)
    CoveringTest,
    CriterionCoverage,
    StoryValidation,
    coverage_report,
    story_report,
)
from assets.validations.test_output import (  # noqa: F401  (re-exported)
    TestOutcome,
    TestStatus,
    parse_junit_xml,
    parse_tap,
    parse_test_output,
)

TAIL = 4000
DETAIL = 2000
MAX_REPORT_BYTES = 20_000_000
# Never passed into a sandbox, even when a caller asks for it explicitly.
SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|SESSION|^AWS_|^GITHUB_|^ANTHROPIC_", re.I
)


class SandboxResult(BaseModel):
    """What a sandboxed run did: exit code, time, isolation, per-test outcomes, output tails."""

    command: list[str]
    cwd: str
    returncode: int | None
    timed_out: bool
    duration_s: float
    network_isolated: bool
    isolation: str
    containment: Containment = "process-group"
    hidden_paths: list[str] = Field(default_factory=list)
    tests: list[TestOutcome] = Field(default_factory=list)
    stdout_tail: str = ""
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.returncode == 0
            and not self.timed_out
            and all(test.status in ("passed", "skipped") for test in self.tests)
        )

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(("passed", "failed", "error", "skipped", "timeout", "not_run"), 0)
        for test in self.tests:
            out[test.status] += 1
        return out

    def outcome(self, name: str) -> TestOutcome | None:
        return next((test for test in self.tests if test.name == name or test.id == name), None)


def minimal_env(
    home: Path, tmp: Path, extra: Mapping[str, str] | None, path_prefix: Sequence[str] = ()
) -> dict[str, str]:
    """The whole environment of a sandboxed process: PATH, HOME, TMPDIR, locale, Python's quiet
    flags, and `extra` (refused when a name looks like a credential)."""
    env = {
        "PATH": os.pathsep.join([*path_prefix, os.environ.get("PATH") or DEFAULT_PATH]),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    for name, value in (extra or {}).items():
        if SECRET_NAME.search(name):
            raise ValueError(f"refusing to pass {name!r} into a sandbox: it looks like a credential")
        env[name] = value
    return env


def _materialise(tree: Mapping[str, str] | Path, target: Path) -> None:
    if isinstance(tree, Path):
        shutil.copytree(
            tree, target, symlinks=True, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.pyc")
        )
        return
    target.mkdir(parents=True)
    for path, text in tree.items():
        destination = target / check_tree_path(path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_tests_in_sandbox(
    tree: Mapping[str, str] | Path,
    command: list[str],
    timeout_s: float,
    workdir_parent: Path | None = None,
    *,
    cwd: str = ".",
    junit_xml: str | None = None,
    cpu_seconds: int | None = None,
    max_file_bytes: int = 64 * 1024 * 1024,
    memory_bytes: int | None = None,
    isolate: bool = True,
    hide_paths: Sequence[Path] = (),
    env: Mapping[str, str] | None = None,
    keep: bool = False,
    network: bool = False,
    path_prefix: Sequence[str] = (),
    links: Mapping[str, Path] | None = None,
    collect: Callable[[Path], None] | None = None,
) -> SandboxResult:
    """Run `command` in a fresh copy of `tree` (path -> text, or a folder), in folder `cwd` of it.

    `junit_xml` is where the command writes a JUnit report (relative to `cwd`), if it does.
    The run is killed with every process it started after `timeout_s` seconds of wall time; each
    of its processes also gets `cpu_seconds` of CPU (default: the time limit plus 5 s). Whatever it
    left running when it ends (servers, setsid children) is killed before this returns.

    `network=True` keeps the host's network (an install step reaching a package registry; the
    credential paths are still hidden and the environment still minimal). `path_prefix` comes
    first on PATH (a component's virtualenv `bin/`); `links` are symlinks made in the copy
    (tree path -> target, e.g. a cached `node_modules`); `collect(run_dir)` is called after the
    command ended, before the copy is removed (to keep what an install wrote).
    """
    if not command:
        raise ValueError("empty command")
    root = Path(tempfile.mkdtemp(prefix="sandbox-", dir=workdir_parent))
    try:
        work, home, tmp = root / "work", root / "home", root / "tmp"
        _materialise(tree, work)
        home.mkdir()
        tmp.mkdir()
        run_dir = work / check_tree_path(cwd) if cwd not in ("", ".") else work
        if not run_dir.is_dir():
            raise ValueError(f"no folder {cwd!r} in the tree")
        for relative, target in (links or {}).items():
            link = work / check_tree_path(relative)
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.is_dir() and not link.is_symlink():
                shutil.rmtree(link)  # a node_modules committed into the tree is replaced by the installed one
            elif link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(target, target_is_directory=target.is_dir())

        cpu = cpu_seconds if cpu_seconds is not None else math.ceil(timeout_s) + 5
        limits = [
            ["RLIMIT_CPU", cpu, cpu + 5],
            ["RLIMIT_FSIZE", max_file_bytes, max_file_bytes],
            ["RLIMIT_CORE", 0, 0],
        ]
        if memory_bytes is not None:
            limits.append(["RLIMIT_AS", memory_bytes, memory_bytes])
        status_file = root / "exit-status"
        confined = confine(
            command,
            limits,
            network=network,
            isolate=isolate,
            protect=[root],
            hide_paths=hide_paths,
            contain=True,
            status_file=status_file,
        )

        out_path, err_path = root / "stdout.txt", root / "stderr.txt"
        started = time.monotonic()
        timed_out = False
        returncode: int | None = None
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(
                confined.argv,
                cwd=run_dir,
                env=minimal_env(home, tmp, env, path_prefix),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                close_fds=True,
            )
            try:
                returncode = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                if process.returncode is None:  # the time limit, or the caller was interrupted
                    stop_process_tree(process, confined.containment)
                _kill_group(process.pid)  # left in the session if the bootstrap itself was killed
        if returncode is not None and status_file.is_file():
            # The bootstrap's own exit code cannot say "killed by signal N"; the file can.
            written = status_file.read_text(encoding="ascii", errors="replace").strip()
            returncode = int(written) if re.fullmatch(r"-?\d+", written) else returncode
        duration = time.monotonic() - started
        if collect is not None:
            collect(run_dir)

        stdout = out_path.read_text(encoding="utf-8", errors="replace")
        stderr = err_path.read_text(encoding="utf-8", errors="replace")
        tests: list[TestOutcome] = []
        report = (run_dir / junit_xml) if junit_xml else None
        if report is not None and report.is_file() and report.stat().st_size <= MAX_REPORT_BYTES:
            tests = parse_junit_xml(report.read_text(encoding="utf-8", errors="replace"))
        if not tests:
            tests = parse_test_output(stderr + "\n" + stdout, timed_out=timed_out)
        if not tests:
            tests = parse_tap(stdout)
        return SandboxResult(
            command=list(command),
            cwd=cwd,
            returncode=returncode,
            timed_out=timed_out,
            duration_s=round(duration, 3),
            network_isolated=confined.isolated and not network,
            isolation=confined.isolation,
            containment=confined.containment,
            hidden_paths=confined.hidden,
            tests=tests,
            stdout_tail=stdout[-TAIL:],
            stderr_tail=stderr[-TAIL:],
        )
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
