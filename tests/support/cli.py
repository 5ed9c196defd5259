"""Run `ai-pipeline` the way its console script does, from this checkout, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENTRY = REPO / "ai_pipeline_cli.py"


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The caller's environment with a fresh data folder and no DAGSTER_HOME (the CLI's default)."""
    env = {key: value for key, value in os.environ.items() if key not in ("DAGSTER_HOME", "PYTHONPATH")}
    env.update({"PIPELINE_DATA_DIR": str(data_dir), **extra})
    return env


def ai_pipeline(
    *args: str, env: Mapping[str, str], cwd: Path = REPO, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    # `python ai_pipeline_cli.py` is what the installed script does: import the module, call main().
    return subprocess.run(
        [sys.executable, str(ENTRY), *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def shim_bin(folder: Path) -> Path:
    """A folder holding an `ai-pipeline` executable for this checkout, to put first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "ai-pipeline"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ENTRY}" "$@"\n')
    script.chmod(0o755)
    return folder
