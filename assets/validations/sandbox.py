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
verbose output (`python -m unittest -v`, `pytest -v`). A test that was started but had no result
when the time limit struck is reported as `timeout`.
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
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from assets.requirements.models import RequirementsSet
from assets.story_builds.models import StoryChangeSet, TestRef, check_tree_path

TestStatus = Literal["passed", "failed", "error", "skipped", "timeout", "not_run"]
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


class TestOutcome(BaseModel):
    """One test as the runner reported it; `name` is the test function ("test_us_1a2b3c_ac1")."""

    __test__ = False

    id: str
    name: str
    status: TestStatus
    detail: str = ""


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
        out = dict.fromkeys(("passed", "failed", "error", "skipped", "timeout"), 0)
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


def _minimal_env(
    home: Path, tmp: Path, extra: Mapping[str, str] | None, path_prefix: Sequence[str] = ()
) -> dict[str, str]:
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
        isolated, isolation = namespace_support() if isolate else (False, "isolation not requested")
        if isolated and network:
            isolation = "user and mount namespaces (unshare -rm): the host's network, credentials hidden"
        hidden: list[str] = []
        if isolated:
            protect = [root.resolve(), Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
            hidden = [*_hidden_candidates(protect), *(str(path) for path in hide_paths if path.exists())]
        config = {"limits": limits, "loopback": isolated and not network, "hide": hidden, "probe": False}
        argv = [sys.executable, "-I", "-c", BOOTSTRAP, json.dumps(config), *command]
        if isolated:
            argv = [shutil.which("unshare") or "unshare", "-rm" if network else "-rnm", *argv]

        out_path, err_path = root / "stdout.txt", root / "stderr.txt"
        started = time.monotonic()
        timed_out = False
        with out_path.open("wb") as out, err_path.open("wb") as err:
            process = subprocess.Popen(
                argv,
                cwd=run_dir,
                env=_minimal_env(home, tmp, env, path_prefix),
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


# ---------------------------------------------------------------------------------------------
# Parsing test runners' output

_UNITTEST_START = re.compile(r"^(?P<name>[A-Za-z_]\w*) \((?P<where>[\w.]+)\)(?: \.\.\.(?: (?P<rest>.*))?)?$")
_UNITTEST_RESULT = re.compile(
    r"(?:^|\.\.\. )(?P<result>ok|FAIL|ERROR|skipped(?: .*)?|expected failure|unexpected success)$"
)
_UNITTEST_BLOCK = re.compile(r"^(?P<kind>FAIL|ERROR): (?P<name>[A-Za-z_]\w*) \((?P<where>[\w.]+)\)")
_PYTEST_LINE = re.compile(
    r"^(?P<id>\S+::\S+?)(?:\s+(?P<result>PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b.*)?\s*$"
)
_SEPARATOR = re.compile(r"^(?:=|-){20,}$")
# TAP (node --test, tap-style reporters): "ok 1 - title", "not ok 2 - title # SKIP why"
_TAP_RESULT = re.compile(
    r"^(?P<indent>\s*)(?P<not>not )?ok \d+(?: - (?P<title>.*?))?(?:\s+#\s*(?P<directive>SKIP|TODO)\b.*)?$",
    re.I,
)
_TAP_PLAN = re.compile(r"^(?P<indent>\s*)1\.\.\d+\s*$")


def parse_tap(text: str) -> list[TestOutcome]:
    """Per-test outcomes from TAP output; a suite (a result right after its subtests' plan) is not a test."""
    outcomes: list[TestOutcome] = []
    deeper_plan: int | None = None  # indent of the last plan line: the next result less indented is its suite
    for line in text.splitlines():
        plan = _TAP_PLAN.match(line)
        if plan:
            deeper_plan = len(plan["indent"])
            continue
        match = _TAP_RESULT.match(line)
        if not match:
            continue
        indent = len(match["indent"])
        if deeper_plan is not None and indent < deeper_plan:
            deeper_plan = None
            continue
        title = (match["title"] or "").strip()
        if not title:
            continue
        directive = (match["directive"] or "").upper()
        status: TestStatus = "skipped" if directive else "failed" if match["not"] else "passed"
        outcomes.append(TestOutcome(id=title, name=title, status=status))
    return outcomes


def _unittest_id(name: str, where: str) -> str:
    return where if where.endswith("." + name) else f"{where}.{name}"


def _unittest_status(result: str) -> tuple[TestStatus, str]:
    if result == "ok" or result == "expected failure":
        return "passed", ""
    if result == "FAIL" or result == "unexpected success":
        return "failed", "" if result == "FAIL" else "unexpected success"
    if result == "ERROR":
        return "error", ""
    return "skipped", result[len("skipped") :].strip().strip("'\"")


def parse_test_output(text: str, *, timed_out: bool = False) -> list[TestOutcome]:
    """Per-test outcomes from `python -m unittest -v` or `pytest -v` output."""
    outcomes: dict[str, TestOutcome] = {}
    pending: tuple[str, str] | None = None  # (id, name) of a started test without a result yet
    lines = text.splitlines()

    def settle(test_id: str, name: str, status: TestStatus, detail: str = "") -> None:
        outcomes[test_id] = TestOutcome(id=test_id, name=name, status=status, detail=detail)

    for line in lines:
        line = line.rstrip()
        start = _UNITTEST_START.match(line)
        if start:
            test_id = _unittest_id(start["name"], start["where"])
            rest = start["rest"]
            result = _UNITTEST_RESULT.search(rest) if rest is not None else None
            if result:
                settle(test_id, start["name"], *_unittest_status(result["result"]))
                pending = None
            else:
                pending = (test_id, start["name"])
            continue
        pytest = _PYTEST_LINE.match(line)
        if pytest and "::" in pytest["id"]:
            test_id = pytest["id"]
            name = test_id.rsplit("::", 1)[1]
            if pytest["result"]:
                statuses: dict[str, TestStatus] = {
                    "PASSED": "passed",
                    "XFAIL": "passed",
                    "FAILED": "failed",
                    "XPASS": "failed",
                    "ERROR": "error",
                    "SKIPPED": "skipped",
                }
                settle(test_id, name, statuses[pytest["result"]])
                pending = None
            else:
                pending = (test_id, name)
            continue
        if pending is not None:
            result = _UNITTEST_RESULT.search(line)
            if result:
                settle(pending[0], pending[1], *_unittest_status(result["result"]))
                pending = None
    if pending is not None and pending[0] not in outcomes:
        detail = (
            "killed at the time limit while running" if timed_out else "the runner stopped before its result"
        )
        settle(pending[0], pending[1], "timeout" if timed_out else "error", detail)

    # unittest's failure blocks: "FAIL: name (where)", a line of dashes, the traceback.
    index = 0
    while index < len(lines):
        block = _UNITTEST_BLOCK.match(lines[index])
        if block:
            body: list[str] = []
            index += 1
            while index < len(lines) and not _SEPARATOR.match(lines[index]):  # a docstring line, then dashes
                index += 1
            index += 1
            while (
                index < len(lines)
                and not _SEPARATOR.match(lines[index])
                and not _UNITTEST_BLOCK.match(lines[index])
            ):
                body.append(lines[index])
                index += 1
            test_id = _unittest_id(block["name"], block["where"])
            if test_id in outcomes:
                outcomes[test_id] = outcomes[test_id].model_copy(
                    update={"detail": "\n".join(body).strip()[-DETAIL:]}
                )
            continue
        index += 1
    return list(outcomes.values())


def parse_junit_xml(text: str) -> list[TestOutcome]:
    """Per-test outcomes from a JUnit XML report (pytest --junitxml, and most runners)."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        return []
    outcomes = []
    for case in root.iter("testcase"):
        name = case.get("name", "")
        classname = case.get("classname", "")
        test_id = f"{classname}.{name}" if classname else name
        status: TestStatus = "passed"
        detail = ""
        for child, child_status in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            element = case.find(child)
            if element is not None:
                status = child_status  # type: ignore[assignment]
                detail = (element.get("message") or "") + ("\n" + element.text if element.text else "")
                break
        outcomes.append(TestOutcome(id=test_id, name=name, status=status, detail=detail.strip()[-DETAIL:]))
    return outcomes


# ---------------------------------------------------------------------------------------------
# Acceptance-criterion coverage

CoverageStatus = Literal["passed", "failed", "not_run", "uncovered"]


class CoveringTest(BaseModel):
    test: TestRef
    outcome: TestStatus | Literal["missing"]
    detail: str = ""


class CriterionCoverage(BaseModel):
    """One acceptance criterion: the generated tests that cover it and how they did, or why none."""

    story_id: str
    criterion_id: str
    status: CoverageStatus
    tests: list[CoveringTest] = Field(default_factory=list)
    reason: str = ""


class StoryValidation(BaseModel):
    """Per story: its generated tests' outcomes and its criteria's coverage."""

    story_id: str
    status: Literal["passed", "failed", "untested"]
    passed: list[str] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list)
    covered: list[str] = Field(default_factory=list)
    uncovered: list[str] = Field(default_factory=list)


Results = Mapping[str, SandboxResult] | Sequence[SandboxResult]


def _outcomes(results: Results, component: str) -> list[TestOutcome]:
    if isinstance(results, Mapping):
        chosen = [results[component]] if component in results else []
    else:
        chosen = list(results)
    return [test for result in chosen for test in result.tests]


def coverage_report(
    requirements: RequirementsSet, change_sets: Sequence[StoryChangeSet], results: Results
) -> list[CriterionCoverage]:
    """For every criterion of every story: covered by tests that passed / failed / did not run,
    or uncovered with the reason. A skipped or missing test never counts as covering."""
    latest = {change.story_id: change for change in change_sets}  # a rebuild replaces the earlier one
    report = []
    for story in requirements.stories:
        change = latest.get(story.id)
        for criterion in story.acceptance_criteria:
            key = (story.id, criterion.id)
            if change is None:
                report.append(
                    CriterionCoverage(
                        story_id=story.id,
                        criterion_id=criterion.id,
                        status="uncovered",
                        reason="the story is not built",
                    )
                )
                continue
            refs = [
                item.test for item in change.covered_criteria if (item.story_id, item.criterion_id) == key
            ]
            if not refs:
                reasons = [
                    item.reason
                    for item in change.uncovered_criteria
                    if (item.story_id, item.criterion_id) == key
                ]
                report.append(
                    CriterionCoverage(
                        story_id=story.id,
                        criterion_id=criterion.id,
                        status="uncovered",
                        reason=reasons[0] if reasons else "no generated test covers it",
                    )
                )
                continue
            tests = []
            for ref in refs:
                found = [test for test in _outcomes(results, ref.component) if test.name == ref.name]
                if not found:
                    tests.append(CoveringTest(test=ref, outcome="missing"))
                else:
                    tests.append(CoveringTest(test=ref, outcome=found[0].status, detail=found[0].detail))
            outcomes = {test.outcome for test in tests}
            if outcomes & {"failed", "error", "timeout"}:
                status: CoverageStatus = "failed"
                reason = "a covering test failed"
            elif outcomes == {"passed"}:
                status, reason = "passed", ""
            else:
                status, reason = "not_run", "a covering test was skipped or did not run"
            report.append(
                CriterionCoverage(
                    story_id=story.id, criterion_id=criterion.id, status=status, tests=tests, reason=reason
                )
            )
    return report


def story_report(
    requirements: RequirementsSet, change_sets: Sequence[StoryChangeSet], results: Results
) -> list[StoryValidation]:
    """Pass/fail per story, from its own generated test module(s) and its criteria's coverage."""
    coverage = coverage_report(requirements, change_sets, results)
    latest = {change.story_id: change for change in change_sets}
    out = []
    for story in requirements.stories:
        change = latest.get(story.id)
        modules = {
            (item.test.component, Path(item.test.file).stem)
            for item in (change.covered_criteria if change else [])
        }
        passed, failed = [], []
        for component, module in sorted(modules):
            for test in _outcomes(results, component):
                in_module = f".{module}." in f".{test.id}." or f"/{module}.py::" in f"/{test.id}"
                if in_module and test.status == "passed":
                    passed.append(test.id)
                elif in_module and test.status != "skipped":
                    failed.append(test.id)
        mine = [item for item in coverage if item.story_id == story.id]
        covered = [item.criterion_id for item in mine if item.status != "uncovered"]
        uncovered = [item.criterion_id for item in mine if item.status == "uncovered"]
        problems = failed or [item for item in mine if item.status in ("failed", "not_run")]
        status = "failed" if problems else "passed" if passed else "untested"
        out.append(
            StoryValidation(
                story_id=story.id,
                status=status,
                passed=sorted(passed),
                failed=sorted(failed),
                covered=covered,
                uncovered=uncovered,
            )
        )
    return out
