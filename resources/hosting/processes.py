"""Long-running processes of local hosting: started detached, recognised again, stopped, probed.

A release (generated code, untrusted) and the small servers of local hosting (the stable-port proxy,
the static server of a frontend) run detached: in a session of their own, parented to init rather
than to the run that started them (a launcher process starts them and exits), so they outlive the
Dagster run and never become zombies of a long-lived process. Each is started through the
sandbox's confinement (`assets.validations.sandbox.confine`): a minimal environment built
from nothing (no variable of the pipeline's environment, so no credential), a working folder of its
own, no core dumps, a file-size limit and, where the platform allows it, the pipeline user's
credential files hidden in a mount namespace. Releases keep the host's loopback network: a person
must reach them.

A process is recorded as (pid, start time): a pid that now belongs to another process (after a
reboot, or reuse) is not taken for the release.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel

from assets.validations.sandbox import confine, minimal_env

MAX_FILE_BYTES = 256 * 1024 * 1024

# Runs with the release's (minimal) environment; starts it in a new session and exits at once.
LAUNCHER = r"""
import json, subprocess, sys
spec = json.loads(sys.argv[1])
with open(spec["log"], "ab") as log:
    child = subprocess.Popen(spec["argv"], cwd=spec["cwd"], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
print(child.pid)
"""


class RunningProcess(BaseModel):
    """A detached process: its pid, its start time (to tell it from a later process with the same
    pid) and the 127.0.0.1 port it serves on."""

    pid: int
    started: str
    port: int

    def alive(self) -> bool:
        return start_time(self.pid) == self.started


def start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (None: no such process, or a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    boot = _boot_id()
    return f"{boot}:{fields[19]}"


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        return "boot"


def free_port(taken: Sequence[int] = ()) -> int:
    """A port of 127.0.0.1 free now (and not one of `taken`)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port
    raise RuntimeError("no free port on 127.0.0.1")


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_detached(
    command: Sequence[str],
    *,
    cwd: Path,
    port: int,
    home: Path,
    log: Path,
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    path_prefix: Sequence[str] = (),
    protect: Sequence[Path] = (),
) -> RunningProcess:
    """Start `command` detached and confined (see the module docstring); its output goes to `log`.

    `env` are variables it is given (names that look like credentials are refused); `secrets` are
    the app's own secrets the user configured, passed as they are (never the pipeline's).
    """
    home.mkdir(parents=True, exist_ok=True)
    tmp = home.parent / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    variables = minimal_env(home, tmp, env, path_prefix)
    variables.update(secrets or {})
    limits = [["RLIMIT_CORE", 0, 0], ["RLIMIT_FSIZE", MAX_FILE_BYTES, MAX_FILE_BYTES]]
    argv = confine(command, limits, network=True, protect=[*protect, cwd, home]).argv
    spec = json.dumps({"argv": argv, "cwd": str(cwd), "log": str(log)})
    launched = subprocess.run(
        [sys.executable, "-I", "-c", LAUNCHER, spec],
        cwd=cwd,
        env=variables,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if launched.returncode != 0:
        raise OSError(f"could not start {command[0]}: {launched.stderr.strip()[-500:]}")
    pid = int(launched.stdout.strip())
    started = None
    for _ in range(50):
        started = start_time(pid)
        if started is not None:
            break
        time.sleep(0.02)
    return RunningProcess(pid=pid, started=started or "exited", port=port)


def stop(process: RunningProcess | None, grace_s: float = 5.0) -> None:
    """SIGTERM to the process's session (it and its children), SIGKILL to what outlives `grace_s`."""
    if process is None or not process.alive():
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and process.alive():
            time.sleep(0.05)
        if not process.alive():
            return


def http_get(port: int, path: str, timeout_s: float = 5.0) -> tuple[int, bytes]:
    """(status, body) of GET `path` on 127.0.0.1:`port`; OSError when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
    try:
        connection.request("GET", path, headers={"Accept": "application/json, text/html"})
        response = connection.getresponse()
        return response.status, response.read(1_000_000)
    except http.client.HTTPException as error:
        raise OSError(f"not an HTTP answer ({type(error).__name__})") from None
    finally:
        connection.close()


def wait_healthy(
    process: RunningProcess, paths: Sequence[str], timeout_s: float, log: Path | None = None
) -> str | None:
    """None once the process answers GET of each of `paths` with 2xx (the first may take until
    `timeout_s` to come up); else why not, with the end of its log."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    first, rest = paths[0], list(paths[1:])
    while True:
        if not process.alive():
            last = "it exited"
            break
        try:
            status, _ = http_get(process.port, first, timeout_s=2)
            if 200 <= status < 300:
                last = ""
                break
            last = f"GET {first} answered {status}"
        except OSError:
            pass
        if time.monotonic() >= deadline:
            last = f"{last} within {timeout_s:g} s"
            break
        time.sleep(0.1)
    if not last:
        for path in rest:
            try:
                status, _ = http_get(process.port, path)
            except OSError as error:
                last = f"GET {path} got no answer ({error})"
                break
            if not 200 <= status < 300:
                last = f"GET {path} answered {status}"
                break
    if not last:
        return None
    tail = log.read_text(encoding="utf-8", errors="replace")[-600:].strip() if log and log.exists() else ""
    return last + (f"; its log ends: {tail}" if tail else "")


def answers(port: int, path: str) -> bool:
    try:
        status, _ = http_get(port, path, timeout_s=3)
    except OSError:
        return False
    return 200 <= status < 300
