"""Run a generated repository's tests in a sandbox, and report acceptance-criterion coverage.

The sandbox is a subprocess in a fresh temporary copy of the tree:

- a minimal environment: PATH, HOME (an empty folder in the sandbox), TMPDIR, LANG, LC_ALL,
  PYTHONDONTWRITEBYTECODE, PYTHONUNBUFFERED; nothing else of the pipeline's environment, so no
  API keys, tokens or AWS_* variables;
- its own session (process group), killed as a whole at the time limit or when the command ends;
- resource limits (CPU seconds, file size, no core dumps, optionally memory), set by a small Python
  bootstrap that then `exec`s the command (no `preexec_fn`, which is unsafe in threaded callers);
- where the platform allows (`unshare -rnm`: user, network and mount namespaces; works as root
  and for users with unprivileged user namespaces), no network but its own loopback, and the
  usual credential files of the pipeline's user (~/.aws, ~/.ssh, ~/.netrc, ...) hidden. Otherwise
  it runs without them and says so (`network_isolated=False`, `isolation` gives the reason).

Per-test results come from a JUnit XML file when the command writes one, else from the runner's
verbose output (`python -m unittest -v`, `pytest -v`) or TAP (`node --test`): see `test_output`.
A test that was started but had no result when the time limit struck is reported as `timeout`.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

from assets.story_builds.models import check_tree_path
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
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
# Never passed into a sandbox, even when a caller asks for it explicitly.
SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|SESSION|^AWS_|^GITHUB_|^ANTHROPIC_", re.I
)
# Credential folders and files of the pipeline's user, hidden inside the mount namespace.
CREDENTIAL_PATHS = (
    ".aws",
    ".ssh",
    ".gnupg",
    ".docker",
    ".kube",
    ".config/gh",
    ".config/gcloud",
    ".azure",
    ".netrc",
    ".git-credentials",
    ".pypirc",
    ".npmrc",
)

# Runs first inside the sandbox (after unshare): limits, loopback up, credential paths hidden, exec.
BOOTSTRAP = r"""
import json, os, resource, sys
config = json.loads(sys.argv[1])
for name, soft, hard in config["limits"]:
    resource.setrlimit(getattr(resource, name), (soft, hard))
if config["loopback"]:
    import fcntl, socket, struct
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, 0x8913, request))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH22x", b"lo", flags | 1))  # SIOCSIFFLAGS, IFF_UP
if config["hide"]:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    for path in config["hide"]:
        if os.path.isdir(path):
            done = libc.mount(b"none", path.encode(), b"tmpfs", 0, b"size=64k,mode=700")
        else:
            done = libc.mount(b"/dev/null", path.encode(), None, 4096, None)  # MS_BIND
        if done != 0:
            sys.exit(f"sandbox: could not hide {path} (errno {ctypes.get_errno()})")
if config["probe"]:
    names = sorted(name for _, name in socket.if_nameindex()) if config["loopback"] else []
    sys.exit(0 if names == ["lo"] else 3)
os.execvp(sys.argv[2], sys.argv[2:])
"""


class SandboxResult(BaseModel):
    """What a sandboxed run did: exit code, time, isolation, per-test outcomes, output tails."""

    command: list[str]
    cwd: str
    returncode: int | None
    timed_out: bool
    duration_s: float
    network_isolated: bool
    isolation: str
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


# ---------------------------------------------------------------------------------------------
# Isolation


@cache
def namespace_support() -> tuple[bool, str]:
    """(available, description): whether `unshare -rnm` gives a sandbox without network here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return False, "no network isolation: the unshare command is not installed"
    config = {"limits": [], "loopback": True, "hide": [], "probe": True}
    try:
        result = subprocess.run(
            [unshare, "-rnm", sys.executable, "-I", "-c", BOOTSTRAP, json.dumps(config), "true"],
            capture_output=True,
            text=True,
            timeout=20,
            env={"PATH": os.environ.get("PATH", DEFAULT_PATH), "LANG": "C.UTF-8"},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"no network isolation: unshare failed ({type(error).__name__})"
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1][:200]
        return False, f"no network isolation: unshare -rnm is not permitted here ({reason})"
    return True, "user, network and mount namespaces (unshare -rnm): loopback only"


def _hidden_candidates(protect: Sequence[Path]) -> list[str]:
    home = Path(os.path.expanduser("~"))
    out = []
    for relative in CREDENTIAL_PATHS:
        path = home / relative
        if not path.exists() or path.is_symlink():
            continue
        resolved = path.resolve()
        if any(resolved == keep or resolved in keep.parents for keep in protect):
            continue
        out.append(str(path))
    return out


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


def confined_argv(
    command: Sequence[str],
    limits: Sequence[Sequence[object]],
    *,
    network: bool,
    isolate: bool = True,
    protect: Sequence[Path] = (),
    hide_paths: Sequence[Path] = (),
) -> tuple[list[str], bool, str, list[str]]:
    """(argv, isolated, isolation, hidden paths): `command` wrapped in the bootstrap that sets the
    resource `limits` ([name, soft, hard]) and, where namespaces are available, hides the
    credential paths (none inside `protect`) and, unless `network`, cuts the network but loopback.
    Shared by the sandbox runs here and the long-running releases of local hosting."""
    isolated, isolation = namespace_support() if isolate else (False, "isolation not requested")
    if isolated and network:
        isolation = "user and mount namespaces (unshare -rm): the host's network, credentials hidden"
    hidden: list[str] = []
    if isolated:
        keep = [
            *(path.resolve() for path in protect),
            Path(sys.prefix).resolve(),
            Path(sys.base_prefix).resolve(),
        ]
        hidden = [*_hidden_candidates(keep), *(str(path) for path in hide_paths if path.exists())]
    config = {
        "limits": [list(limit) for limit in limits],
        "loopback": isolated and not network,
        "hide": hidden,
        "probe": False,
    }
    argv = [sys.executable, "-I", "-c", BOOTSTRAP, json.dumps(config), *command]
    if isolated:
        argv = [shutil.which("unshare") or "unshare", "-rm" if network else "-rnm", *argv]
    return argv, isolated, isolation, hidden


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
    The run is killed with its whole process group after `timeout_s` seconds of wall time; each of
    its processes also gets `cpu_seconds` of CPU (default: the time limit plus 5 s).

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
        argv, isolated, isolation, hidden = confined_argv(
            command, limits, network=network, isolate=isolate, protect=[root], hide_paths=hide_paths
        )

        out_path, err_path = root / "stdout.txt", root / "stderr.txt"
        started = time.monotonic()
        timed_out = False
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(
                argv,
                cwd=run_dir,
                env=minimal_env(home, tmp, env, path_prefix),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                close_fds=True,
            )
            try:
                returncode: int | None = process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                _kill_group(process.pid)
                process.wait()
                returncode = None
            finally:
                _kill_group(process.pid)  # whatever the tests left running (servers, children)
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
            network_isolated=isolated and not network,
            isolation=isolation,
            hidden_paths=hidden,
            tests=tests,
            stdout_tail=stdout[-TAIL:],
            stderr_tail=stderr[-TAIL:],
        )
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
