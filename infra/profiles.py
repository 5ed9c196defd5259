"""The Dagster instance profiles in infra/dagster, as data: for tests, benchmarks and tooling.

`make run` and the image copy the YAML files as they are; this module only reads them.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

PROFILES_DIR = Path(__file__).resolve().parent / "dagster"
EMBEDDED_PROFILE = PROFILES_DIR / "embedded.yaml"
PRODUCTION_PROFILE = PROFILES_DIR / "production.yaml"
PRODUCTION_WORKSPACE = PROFILES_DIR / "workspace.yaml"
README = PROFILES_DIR.parent / "README.md"


def load_profile(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def env_references(config: Any) -> set[str]:
    """Names of the environment variables a profile reads (`{env: NAME}` anywhere in it)."""
    if isinstance(config, dict):
        if set(config) == {"env"} and isinstance(config["env"], str):
            return {config["env"]}
        return set().union(*(env_references(value) for value in config.values())) if config else set()
    if isinstance(config, list):
        return set().union(*(env_references(value) for value in config)) if config else set()
    return set()


def documented_environment() -> set[str]:
    """The variables in infra/README.md's environment table: what every production container gets."""
    section = README.read_text().split("### Environment", 1)[1].split("\n### ", 1)[0]
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section, re.M))


def documented_commands() -> dict[str, list[str]]:
    """Container name -> command, from infra/README.md's service-commands table."""
    section = README.read_text().split("### Service commands", 1)[1].split("\n### ", 1)[0]
    rows = re.findall(r"^\|[^|]+\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|$", section, re.M)
    return {container: shlex.split(command) for container, command in rows}


def production_on_one_machine(compute_logs_dir: Path) -> dict[str, Any]:
    """The production profile with local processes instead of ECS tasks and local compute logs.

    Storage (PostgreSQL from the DAGSTER_PG_* variables), the per-project and pool limits and run
    monitoring stay exactly as in production; used to exercise them on one machine. The queue is
    sized for the machine instead of for Fargate: its runs share this machine's cores, so more runs
    at once than cores only slow each other down (benchmarks/projects_scaling.py: 16 projects took
    151 s with 2 at once on 2 cores, 178 s with 3, 213 s with production's 20), and a run is
    dequeued within a second because a local process starts in seconds, not a minute.
    """
    config = copy.deepcopy(load_profile(PRODUCTION_PROFILE))
    config["run_launcher"] = {"module": "dagster", "class": "DefaultRunLauncher"}
    config["concurrency"]["runs"]["max_concurrent_runs"] = local_run_limit()
    config["run_coordinator"]["config"]["dequeue_interval_seconds"] = 1
    config["compute_logs"] = {
        "module": "dagster._core.storage.local_compute_log_manager",
        "class": "LocalComputeLogManager",
        "config": {"base_dir": str(compute_logs_dir)},
    }
    return config


def local_run_limit() -> int:
    """Runs at once on one machine: one per core (at least two, so projects still run side by side)."""
    return max(2, os.cpu_count() or 1)


def write_dagster_home(home: Path, config: dict[str, Any]) -> Path:
    """Write `config` as `home/dagster.yaml`; returns the file."""
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return target
