"""Nothing a sandboxed command starts outlives the sandbox call: not a setsid grandchild, not a
double-forked daemon, not the contract check's backend, on time-out, on normal exit, and when the
caller is interrupted or killed. Each containment the platform may give is exercised: the PID
namespace (where available) and the subreaper-kept process tree (the fallback, `isolate=False`).

A process of the sandbox is recognised by a marker argument in its command line (pids inside a
PID namespace are not the host's), and by the port it listened on (the host's network is kept
with `network=True` so the port can be tried from here).
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import psutil
import pytest

from assets.validations.backend_check import check_backend_contract
from assets.validations.sandbox import pid_namespace_support, run_tests_in_sandbox
from pipeline_core.repository.manifest import ComponentSpec, StartCommand

PY = sys.executable
REPO = Path(__file__).resolve().parents[1]
OWN_PIDS, WHY_NOT = pid_namespace_support()
CONTAINMENTS = [
    pytest.param(
        True, "pid-namespace", marks=pytest.mark.skipif(not OWN_PIDS, reason=WHY_NOT), id="pid-namespace"
    ),
    pytest.param(False, "process-tree", id="process-tree"),
]

# argv: how (setsid | doublefork), then (hang | exit), marker. Starts a server that escapes the
# process group, waits until it listens, then sleeps past the time limit or exits at once.
LEAVER = """
import os, subprocess, sys, time
how, then, marker = sys.argv[1:4]
SERVE = (
    "import socket, sys, time\\n"
    "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen()\\n"
    "print('port', server.getsockname()[1], flush=True)\\n"
    "open('listening', 'w').close()\\n"
    "time.sleep(600)\\n"
)
if how == "setsid":
    subprocess.Popen([sys.executable, "-c", SERVE, marker], start_new_session=True)
else:  # the classic daemon: fork, setsid, fork again; the grandchild is orphaned at once
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", SERVE, marker])
        os._exit(0)
    os.wait()
deadline = time.monotonic() + 30
while not os.path.exists("listening") and time.monotonic() < deadline:
    time.sleep(0.05)
print("ready", flush=True)
if then == "hang":
    time.sleep(600)
"""


def processes_with(marker: str) -> list[int]:
    """Live (not zombie) processes with `marker` as one of their arguments."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        if marker in (process.info["cmdline"] or []) and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process.pid)
    return found


def listening_port(output: str) -> int:
    match = re.search(r"^port (\d+)$", output, re.M)
    assert match, f"the server never listened: {output!r}"
    return int(match.group(1))


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def eventually_gone(marker: str, seconds: float = 15) -> list[int]:
    deadline = time.monotonic() + seconds
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return processes_with(marker)


@pytest.mark.parametrize("how", ["setsid", "doublefork"])
@pytest.mark.parametrize(("isolate", "containment"), CONTAINMENTS)
def test_an_escaped_server_dies_with_the_timed_out_command(isolate: bool, containment: str, how: str) -> None:
    marker = f"leak-{uuid.uuid4().hex}"
    result = run_tests_in_sandbox(
        {"main.py": LEAVER}, [PY, "main.py", how, "hang", marker], timeout_s=6, isolate=isolate, network=True
    )
    assert result.timed_out and result.returncode is None
    assert "ready" in result.stdout_tail, result.stderr_tail
    port = listening_port(result.stdout_tail)
    assert result.containment == containment
    assert processes_with(marker) == [], "a process of the sandbox outlived the call"
    assert refused(port), f"port {port} still answers after the sandbox returned"


@pytest.mark.parametrize("how", ["setsid", "doublefork"])
@pytest.mark.parametrize(("isolate", "containment"), CONTAINMENTS)
def test_a_server_left_behind_by_a_command_that_exits_dies_with_it(
    isolate: bool, containment: str, how: str
) -> None:
    marker = f"leak-{uuid.uuid4().hex}"
    result = run_tests_in_sandbox(
        {"main.py": LEAVER}, [PY, "main.py", how, "exit", marker], timeout_s=60, isolate=isolate, network=True
    )
    assert result.returncode == 0 and not result.timed_out, result.stderr_tail
    port = listening_port(result.stdout_tail)
    assert result.containment == containment
    assert processes_with(marker) == []
    assert refused(port)


@pytest.mark.parametrize(("isolate", "containment"), CONTAINMENTS)
def test_the_containment_is_named_in_the_isolation_reason(isolate: bool, containment: str) -> None:
    hello = {"main.py": "print('hi')\n"}
    result = run_tests_in_sandbox(hello, [PY, "main.py"], timeout_s=30, isolate=isolate)
    assert result.returncode == 0 and result.containment == containment
    assert ("PID namespace of its own" if containment == "pid-namespace" else "subreaper") in result.isolation


def test_the_exit_code_and_a_killing_signal_are_the_command_s_own() -> None:
    exits = run_tests_in_sandbox({"main.py": "raise SystemExit(7)\n"}, [PY, "main.py"], timeout_s=30)
    assert exits.returncode == 7
    suicide = {"main.py": "import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n"}
    killed = run_tests_in_sandbox(suicide, [PY, "main.py"], timeout_s=30)
    assert killed.returncode == -signal.SIGTERM


CALLER = """
import sys
sys.path.insert(0, {repo!r})
from assets.validations.sandbox import run_tests_in_sandbox
run_tests_in_sandbox({{"main.py": {leaver!r}}}, [sys.executable, "main.py", "setsid", "hang", {marker!r}],
                     timeout_s=300, isolate={isolate!r}, network=True)
"""


def started_server(marker: str, caller: subprocess.Popen[bytes]) -> int:
    """The port of the sandbox's escaped server, once it listens."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and caller.poll() is None:
        for pid in processes_with(marker):
            try:
                connections = psutil.Process(pid).net_connections("tcp")
                ports = [c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN]
            except psutil.Error:
                continue
            if ports:
                return ports[0]
        time.sleep(0.1)
    raise AssertionError("the sandboxed server never listened")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["interrupted", "killed"])
@pytest.mark.parametrize(("isolate", "containment"), CONTAINMENTS)
def test_nothing_outlives_a_caller_that_is_interrupted_or_killed(
    isolate: bool, containment: str, how: signal.Signals
) -> None:
    marker = f"leak-{uuid.uuid4().hex}"
    source = CALLER.format(repo=str(REPO), leaver=LEAVER, marker=marker, isolate=isolate)
    caller = subprocess.Popen([PY, "-c", source], start_new_session=True, stderr=subprocess.PIPE)
    try:
        port = started_server(marker, caller)
        caller.send_signal(how)
        caller.wait(timeout=30)
        assert eventually_gone(marker) == [], "a process of the sandbox outlived its caller"
        assert refused(port)
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.wait()
        for pid in processes_with(marker):  # do not leave the leak of a failing run behind
            psutil.Process(pid).kill()


BACKEND = """
import http.server, sys, time
open(sys.argv[3], "w").write("started")

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            self.send_response(200)
            self.end_headers()
            return
        time.sleep(600)  # every other request hangs past the check's time limit

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""
DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "items", "version": "1"},
    "paths": {
        "/api/items": {
            "get": {
                "operationId": "listItems",
                "responses": {
                    "200": {
                        "description": "the items",
                        "content": {"application/json": {"schema": {"type": "array", "items": {}}}},
                    }
                },
            }
        }
    },
}


def test_the_contract_check_s_backend_is_gone_after_the_check_timed_out(tmp_path: Path) -> None:
    marker = f"leak-{uuid.uuid4().hex}"
    witness = tmp_path / "backend-started"
    component = ComponentSpec(
        name="backend",
        path="backend",
        kind="backend",
        runtime="python",
        test=[PY, "-c", "pass"],
        start=StartCommand(argv=[PY, "server.py", "{port}", marker, str(witness)]),
        health="/health",
    )
    tree = {"backend/server.py": textwrap.dedent(BACKEND)}
    # The driver's first request hangs for its 10 s request timeout: the 10 s limit strikes first.
    result = check_backend_contract(tree, DOCUMENT, component, timeout_s=10, workdir_parent=tmp_path)
    assert witness.read_text() == "started", "the backend never started: the check proves nothing"
    assert result.timed_out, result.mismatches
    assert processes_with(marker) == [], "the backend outlived the timed-out contract check"
