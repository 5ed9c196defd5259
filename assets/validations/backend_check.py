"""Start a generated backend by its manifest and drive it from the OpenAPI document, in the sandbox.

`check_backend_contract` copies the tree into the sandbox (minimal environment, resource limits,
a time limit, its own process group, no network but its own loopback where the platform allows)
and runs the driver there. The driver starts the backend with the component's manifest `start`
argv (`{port}` filled with a free port of 127.0.0.1) in the component's folder and installed
environment (virtualenv or `node_modules` first on PATH), waits until its `health` path answers,
drives it (`driver.Driver`), and stops its whole process group. Whatever the stack, the same
contract: nothing here knows how a particular backend is started.

Of the variables `start.env` names, the check sets `PORT`, `HOST` and a database of its own in the
sandbox's temporary folder (`DATABASE_URL` as `sqlite:///...`, `DATABASE_PATH`, `DB_PATH`,
`SQLITE_PATH`); any other is left unset and noted in the result.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from assets.validations.driver import Driver
from assets.validations.install import ComponentEnvironment, base_python
from assets.validations.models import ContractMismatch, ContractResult
from assets.validations.openapi_schemas import ContractDocumentError
from assets.validations.sandbox import run_tests_in_sandbox
from pipeline_core.repository.manifest import ComponentSpec

CHECK_FOLDER = ".ai-pipeline-contract-check"
START_TIMEOUT_S = 30.0
REPO_ROOT = Path(__file__).resolve().parents[2]
DATABASE_PATH_NAMES = ("DATABASE_PATH", "DB_PATH", "SQLITE_PATH")


class StartPlan(BaseModel):
    """How the driver inside the sandbox starts the backend (written beside the document)."""

    component: str
    folder: str
    argv: list[str]  # with {port}
    env: list[str]
    health: str


def start_plan(component: ComponentSpec) -> StartPlan:
    """The component's manifest start command as the driver runs it."""
    if component.start is None:
        raise ValueError(f"component {component.name!r} has no start command")
    argv = list(component.start.argv)
    if component.runtime != "python" and argv[0] == "python":
        argv[0] = base_python()  # no virtualenv: the pipeline's base interpreter, never its venv
    return StartPlan(
        component=component.name,
        folder=component.path,
        argv=argv,
        env=list(component.start.env),
        health=component.health,
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_env(names: Sequence[str], port: int, work: Path) -> tuple[dict[str, str], list[str]]:
    """(the backend's environment, names it reads that the check does not set)."""
    env = dict(os.environ)  # inside the sandbox: already the minimal environment
    database = work / "contract.sqlite3"
    known = {"PORT": str(port), "HOST": "127.0.0.1", "DATABASE_URL": f"sqlite:///{database}"}
    known.update(dict.fromkeys(DATABASE_PATH_NAMES, str(database)))
    unset = []
    for name in names:
        if name in known:
            env[name] = known[name]
        else:
            unset.append(name)
    return env, unset


def wait_for_health(process: subprocess.Popen[bytes], port: int, path: str, deadline: float) -> str | None:
    """None once GET `path` answers 2xx/3xx; else why not (exited, wrong status, no answer)."""
    last = "no answer"
    waited = time.monotonic()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"exited with {process.returncode}"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", path)
            status = connection.getresponse().status
            if 200 <= status < 400:
                return None
            last = f"GET {path} answered {status}"
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    return f"{last} within {time.monotonic() - waited:.0f} s"


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the backend's process group (npm start, uvicorn workers), then SIGKILL to
    whatever outlived it (children, or a process that ignores SIGTERM)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def drive_backend(
    root: Path,
    plan: StartPlan,
    document: Mapping[str, Any],
    deadline: float,
    expected: Collection[str] | None = None,
) -> ContractResult:
    """Start the backend of the tree in `root` by `plan` on a free port of 127.0.0.1 with a
    database of its own, wait for its health path, drive it from `document` until `deadline`
    (time.monotonic()), stop it. Runs inside the sandbox."""
    work = Path(tempfile.mkdtemp(prefix="contract-"))
    port = free_port()
    command = [part.replace("{port}", str(port)) for part in plan.argv]
    env, unset = start_env(plan.env, port, work)
    log_path = work / "backend.log"
    result = ContractResult()
    if unset:
        result.notes.append(f"{plan.component} reads {', '.join(unset)}; the check does not set them")
    with log_path.open("wb") as log:
        try:
            process = subprocess.Popen(
                command,
                cwd=root / plan.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            result.mismatches.append(
                ContractMismatch(
                    component=plan.component,
                    operation="(all)",
                    check="unreachable",
                    expected="the backend started by its manifest start command",
                    got=f"{type(error).__name__}: {error}",
                    request=" ".join(plan.argv),
                )
            )
            return result
    try:
        problem = wait_for_health(
            process, port, plan.health, min(deadline, time.monotonic() + START_TIMEOUT_S)
        )
        result.started = problem is None
        if problem is not None:
            result.mismatches.append(
                ContractMismatch(
                    component=plan.component,
                    operation="(all)",
                    check="unreachable",
                    expected=f"the backend answering GET {plan.health} on a free port of 127.0.0.1",
                    got=f"the backend {problem}",
                    request=" ".join(plan.argv),
                    detail=log_path.read_text(encoding="utf-8", errors="replace")[-1000:],
                )
            )
        else:
            result = Driver(document, port, deadline, expected, component=plan.component, result=result).run()
    finally:
        stop_group(process)
        result.log_tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        shutil.rmtree(work, ignore_errors=True)
    return result


def sandbox_main(argv: Sequence[str]) -> int:
    """Entry point inside the sandbox: `<check folder> <deadline>` (Unix time, so the driver's own
    start-up counts against it); writes result.json there."""
    folder, until = Path(argv[0]), float(argv[1])
    deadline = time.monotonic() + (until - time.time())
    document = json.loads((folder / "openapi.json").read_text(encoding="utf-8"))
    plan = StartPlan.model_validate_json((folder / "start.json").read_text(encoding="utf-8"))
    expected_file = folder / "expected.json"
    expected = json.loads(expected_file.read_text(encoding="utf-8")) if expected_file.exists() else None
    try:
        result = drive_backend(folder.parent, plan, document, deadline, expected)
    except ContractDocumentError as error:
        result = ContractResult(
            mismatches=[
                ContractMismatch(
                    component=plan.component,
                    operation="(document)",
                    check="unreachable",
                    expected="a usable OpenAPI document",
                    got=str(error),
                )
            ]
        )
    (folder / "result.json").write_text(result.model_dump_json(), encoding="utf-8")
    return 0


_BOOT = (
    "import sys; sys.path.insert(0, {root!r}); "
    "from assets.validations.backend_check import sandbox_main; sys.exit(sandbox_main(sys.argv[1:]))"
)


def unreachable(component: str, expected: str, got: str, detail: str = "") -> ContractResult:
    return ContractResult(
        mismatches=[
            ContractMismatch(
                component=component,
                operation="(all)",
                check="unreachable",
                expected=expected,
                got=got,
                detail=detail,
            )
        ]
    )


def check_backend_contract(
    tree: Mapping[str, str],
    openapi: Mapping[str, Any],
    component: ComponentSpec,
    environment: ComponentEnvironment | None = None,
    timeout_s: float = 120.0,
    *,
    expected: Collection[str] | None = None,
    workdir_parent: Path | None = None,
    isolate: bool = True,
) -> ContractResult:
    """Start `component` of `tree` (path -> text) by its manifest in the sandbox and drive it
    from `openapi`. `environment` is its installed environment (`install.install_component`).

    `expected` lists the operations ('METHOD /path') the backend must serve; a documented operation
    outside it that answers 404/405 is listed as `unserved`, not as a mismatch. None: all of them.
    """
    started = time.monotonic()
    if component.start is None:
        return unreachable(component.name, "a start command in the manifest", "none")
    prefix = "" if component.path == "." else component.path + "/"
    if prefix and not any(path.startswith(prefix) for path in tree):
        return unreachable(component.name, f"the component's folder {component.path}/", "not in the tree")
    environment = environment or ComponentEnvironment()
    files = {
        **tree,
        f"{CHECK_FOLDER}/openapi.json": json.dumps(openapi),
        f"{CHECK_FOLDER}/start.json": start_plan(component).model_dump_json(),
    }
    if expected is not None:
        files[f"{CHECK_FOLDER}/expected.json"] = json.dumps(sorted(expected))
    # The driver's own deadline comes first, so it reports what it found before the sandbox kills it.
    # The margin covers stopping the backend and writing the result on a loaded machine.
    inner = timeout_s - min(10.0, max(2.5, timeout_s * 0.25))
    # -I: the tree's own files (a json.py, an `assets` folder) must not shadow the driver's imports.
    until = time.time() + inner
    command = [sys.executable, "-I", "-c", _BOOT.format(root=str(REPO_ROOT)), CHECK_FOLDER, f"{until:.3f}"]
    with tempfile.TemporaryDirectory(prefix="contract-check-", dir=workdir_parent) as parent:
        run = run_tests_in_sandbox(
            files,
            command,
            timeout_s=timeout_s,
            workdir_parent=Path(parent),
            isolate=isolate,
            keep=True,
            path_prefix=environment.path_prefix,
            env=environment.env,
            links=environment.links,
        )
        outputs = list(Path(parent).glob(f"sandbox-*/work/{CHECK_FOLDER}/result.json"))
        text = outputs[0].read_text(encoding="utf-8") if outputs else None
    if text is not None:
        result = ContractResult.model_validate_json(text)
    else:
        result = unreachable(
            component.name,
            f"the contract check to finish within {timeout_s:g} s",
            "it was killed at the time limit"
            if run.timed_out
            else f"it stopped with exit code {run.returncode}",
            (run.stderr_tail or run.stdout_tail)[-1000:],
        )
        result.timed_out = run.timed_out
    result.network_isolated = run.network_isolated
    result.isolation = run.isolation
    result.duration_s = round(time.monotonic() - started, 3)
    return result
