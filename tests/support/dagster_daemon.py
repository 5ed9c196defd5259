"""Run Dagster's own processes against a DAGSTER_HOME: the daemon, and CLI commands that submit runs.

Processes start in their own session with SIGINT at its default, so SIGTERM stops them and their
children (code servers, run workers) cleanly (see ENVIRONMENT.md, "Shutdown trap").
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CODE_LOCATION = ["-m", "pipeline_defs.definitions"]
JOB = "project_pipeline"

T = TypeVar("T")


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def process_env(home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment plus DAGSTER_HOME and `extra`, with the repo root importable."""
    environment = {**os.environ, **extra, "DAGSTER_HOME": str(home)}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), environment.get("PYTHONPATH")]))
    return environment


def stop(process: subprocess.Popen, timeout: float = 60) -> None:
    """SIGTERM to the process group, then SIGKILL if it is still there after `timeout` seconds."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def running_daemon(
    home: Path, env: Mapping[str, str], log_file: Path, code_location: list[str] = CODE_LOCATION
) -> Iterator[subprocess.Popen]:
    """`dagster-daemon run` on the code location; stopped (with its children) on exit."""
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", *code_location],
            cwd=ROOT,
            env=process_env(home, env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )
    try:
        yield process
    finally:
        stop(process)


def dagster_cli(home: Path, env: Mapping[str, str], *args: str, timeout: float = 300) -> str:
    """`dagster <args>` against DAGSTER_HOME; its output, or an error with it."""
    result = subprocess.run(
        [str(BIN / "dagster"), *args],
        cwd=ROOT,
        env=process_env(home, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"dagster {' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def backfill(
    home: Path,
    env: Mapping[str, str],
    partitions: list[str],
    tags: Mapping[str, str] | None = None,
    timeout: float = 300,
    code_location: list[str] = CODE_LOCATION,
) -> str:
    """`dagster job backfill` for `partitions`: one run per partition, submitted to the run queue."""
    args = ["job", "backfill", *code_location, "-j", JOB, "--partitions", ",".join(partitions), "--noprompt"]
    if tags:
        args += ["--tags", json.dumps(dict(tags))]
    return dagster_cli(home, env, *args, timeout=timeout)


def wait_for(
    probe: Callable[[], T | None],
    *,
    what: str,
    timeout: float,
    process: subprocess.Popen | None = None,
    log_file: Path | None = None,
    interval: float = 0.5,
) -> T:
    """Poll `probe` until it returns a truthy value; fail with the process log if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"the process exited ({process.returncode}) while waiting for {what}" + _tail(log_file)
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}" + _tail(log_file))
        time.sleep(interval)


def _tail(log_file: Path | None, lines: int = 60) -> str:
    if log_file is None or not log_file.exists():
        return ""
    return f"\n--- {log_file.name} (tail) ---\n" + "\n".join(
        log_file.read_text(errors="replace").splitlines()[-lines:]
    )
