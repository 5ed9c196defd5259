"""How a sandboxed command is confined: namespaces, resource limits, and containment of its processes.

- Isolation: where the platform allows (`unshare -rnm`: user, network and mount namespaces; works
  as root and for users with unprivileged user namespaces), no network but its own loopback, and
  the usual credential files of the pipeline's user (~/.aws, ~/.ssh, ~/.netrc, ...) hidden.
- Resource limits (CPU seconds, file size, no core dumps, optionally memory), set by a small Python
  bootstrap that then `exec`s the command (no `preexec_fn`, which is unsafe in threaded callers).
- Containment (`contain=True`): nothing the command starts outlives it, not even a process that
  left its session with setsid or double-forked. Where a PID namespace is available (`unshare
  --pid --fork --kill-child --mount-proc`), the bootstrap is the namespace's init: when the command
  ends it kills the namespace (the kernel kills every process in it when its init exits, so a
  process cannot escape); killing the init from outside does the same. Where it is not, the
  bootstrap is a child subreaper (PR_SET_CHILD_SUBREAPER): every orphan of the command is
  reparented to it rather than to init, so the whole tree stays its descendants, and it stops and
  kills that tree (psutil) when the command ends or the caller goes away. `stop_process_tree`
  is the caller's side of both (time limit, interruption).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Literal

import psutil
from pydantic import BaseModel

DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
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
PID_NAMESPACE_FLAGS = ("--pid", "--fork", "--kill-child", "--mount-proc")

# Runs first inside the sandbox (after unshare): loopback up, credential paths hidden; then either
# sets the limits and execs the command, or (config "init") runs it as a child and stays as its
# init: reaps orphans, forwards signals, and kills whatever the command left when it ends.
BOOTSTRAP = r"""
import json, os, resource, signal, sys
config = json.loads(sys.argv[1])
def limit():
    for name, soft, hard in config["limits"]:
        resource.setrlimit(getattr(resource, name), (soft, hard))
if config["loopback"]:
    import fcntl, socket, struct
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, 0x8913, request))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sH22x", b"lo", flags | 1))  # SIOCSIFFLAGS, IFF_UP
if config["hide"] or config["init"] == "tree":
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
    own_pids = os.getpid() == 1 and os.readlink("/proc/self") == "1"
    sys.exit(0 if names == ["lo"] and (own_pids or config["probe"] != "pid") else 3)
if not config["init"]:
    limit()
    os.execvp(sys.argv[2], sys.argv[2:])

parent = os.getppid()
if config["init"] == "tree":
    libc.prctl(36, 1)  # PR_SET_CHILD_SUBREAPER: the command's orphans stay our descendants
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: told when the caller is gone

def clean():
    if config["init"] == "namespace":
        try:
            os.kill(-1, signal.SIGKILL)  # as PID 1: every other process of the namespace
        except ProcessLookupError:
            pass
    else:
        import psutil
        me, seen = psutil.Process(), {}
        for _ in range(1000):  # stop the tree first: a stopped process forks no more
            fresh = [p for p in me.children(recursive=True) if p.pid not in seen]
            if not fresh:
                break
            for process in fresh:
                seen[process.pid] = process
                try:
                    process.send_signal(signal.SIGSTOP)
                except psutil.Error:
                    pass
        for process in seen.values():
            try:
                process.kill()
            except psutil.Error:
                pass
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return

child = os.fork()
if child == 0:
    limit()
    os.execvp(sys.argv[2], sys.argv[2:])

def forward(number, frame):
    if config["init"] == "tree" and os.getppid() != parent:
        clean()
        os._exit(128 + number)
    try:
        os.kill(child, number)
    except ProcessLookupError:
        pass

for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(number, forward)
if config["init"] == "tree" and os.getppid() != parent:
    forward(signal.SIGTERM, None)
while True:
    pid, status = os.wait()
    if pid == child:
        break
for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(number, signal.SIG_IGN)
clean()
code = os.waitstatus_to_exitcode(status)
if config["status"]:
    with open(config["status"], "w") as handle:
        handle.write(str(code))
os._exit(code if code >= 0 else 128 - code)
"""

Containment = Literal["pid-namespace", "process-tree", "process-group"]


class Confinement(BaseModel):
    """The argv that runs a command confined, and what the confinement is."""

    argv: list[str]
    isolated: bool
    isolation: str
    hidden: list[str]
    containment: Containment


def _probe(flags: Sequence[str], kind: str) -> tuple[bool, str]:
    unshare = shutil.which("unshare")
    if unshare is None:
        return False, "the unshare command is not installed"
    config = {"limits": [], "loopback": True, "hide": [], "probe": kind, "init": None, "status": None}
    try:
        result = subprocess.run(
            [unshare, *flags, sys.executable, "-I", "-c", BOOTSTRAP, json.dumps(config), "true"],
            capture_output=True,
            text=True,
            timeout=20,
            env={"PATH": os.environ.get("PATH", DEFAULT_PATH), "LANG": "C.UTF-8"},
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"unshare failed ({type(error).__name__})"
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1][:200]
        return False, f"unshare {' '.join(flags)} is not permitted here ({reason})"
    return True, ""


@cache
def namespace_support() -> tuple[bool, str]:
    """(available, description): whether `unshare -rnm` gives a sandbox without network here."""
    available, reason = _probe(["-rnm"], "network")
    if not available:
        return False, f"no network isolation: {reason}"
    return True, "user, network and mount namespaces (unshare -rnm): loopback only"


@cache
def pid_namespace_support() -> tuple[bool, str]:
    """(available, reason if not): whether the namespaces can also have a PID namespace of their
    own, with the bootstrap as its init and /proc showing only its processes."""
    if not namespace_support()[0]:
        return False, "no user namespace"
    return _probe(["-rnm", *PID_NAMESPACE_FLAGS], "pid")


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


def confine(
    command: Sequence[str],
    limits: Sequence[Sequence[object]],
    *,
    network: bool,
    isolate: bool = True,
    protect: Sequence[Path] = (),
    hide_paths: Sequence[Path] = (),
    contain: bool = False,
    status_file: Path | None = None,
) -> Confinement:
    """`command` wrapped in the bootstrap that sets the resource `limits` ([name, soft, hard]) and,
    where namespaces are available, hides the credential paths (none inside `protect`) and, unless
    `network`, cuts the network but loopback. `contain`: the bootstrap stays as the command's init
    and nothing the command starts outlives it (see the module docstring); it writes the command's
    exit code (negative: killed by that signal) to `status_file`."""
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
    own_pids, why_not = pid_namespace_support() if isolated and contain else (False, "")
    containment: Containment = "process-group"
    if contain and own_pids:
        containment = "pid-namespace"
        isolation += "; a PID namespace of its own (unshare --pid): everything it starts ends with it"
    elif contain:
        containment = "process-tree"
        isolation += (
            f"; no PID namespace{f' ({why_not})' if why_not else ''}: its process tree is kept"
            " (child subreaper) and killed when it ends"
        )
    config = {
        "limits": [list(limit) for limit in limits],
        "loopback": isolated and not network,
        "hide": hidden,
        "probe": None,
        "init": {"pid-namespace": "namespace", "process-tree": "tree"}.get(containment),
        "status": str(status_file) if status_file is not None and contain else None,
    }
    argv = [sys.executable, "-I", "-c", BOOTSTRAP, json.dumps(config), *command]
    if isolated:
        flags = ["-rm" if network else "-rnm", *(PID_NAMESPACE_FLAGS if own_pids and contain else ())]
        argv = [shutil.which("unshare") or "unshare", *flags, *argv]
        setpriv = shutil.which("setpriv")
        if containment == "pid-namespace" and setpriv is not None:
            # unshare is killed if the caller dies, and --kill-child then kills the namespace.
            argv = [setpriv, "--pdeathsig", "KILL", *argv]
    return Confinement(
        argv=argv, isolated=isolated, isolation=isolation, hidden=hidden, containment=containment
    )


def stop_process_tree(
    process: subprocess.Popen[bytes], containment: Containment, grace_s: float = 10.0
) -> None:
    """Kill every process `process` started (stopped first, so none forks or escapes meanwhile),
    then wait for `process`, whose bootstrap reaps them and ends; SIGKILL what is left if it does
    not end within `grace_s`. In a PID namespace the bootstrap (the namespace's init) is spared
    at first: it sees the command die, kills the rest of the namespace and exits, so `unshare`
    ends normally (killing the init also kills the namespace, but unshare complains on stderr)."""
    try:
        root = psutil.Process(process.pid)
        spared = {child.pid for child in root.children()} if containment == "pid-namespace" else set()
        seen: dict[int, psutil.Process] = {}
        for _ in range(1000):
            fresh = [child for child in root.children(recursive=True) if child.pid not in seen]
            if not fresh:
                break
            for child in fresh:
                seen[child.pid] = child
                if child.pid not in spared:
                    _signal(child, signal.SIGSTOP)
        for child in seen.values():
            if child.pid not in spared:
                _signal(child, signal.SIGKILL)
    except psutil.Error:
        seen, spared = {}, set()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        for pid in spared:
            _signal(seen[pid], signal.SIGKILL)
        process.kill()
        process.wait()


def _signal(process: psutil.Process, number: int) -> None:
    try:
        process.send_signal(number)
    except psutil.Error:
        pass
