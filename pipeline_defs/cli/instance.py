"""The Dagster instance the code location uses, found the way `make run` sets it up."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg

from pipeline_core.settings import Settings

CHECKOUT = Path(__file__).resolve().parents[2]
EMBEDDED_PROFILE = CHECKOUT / "infra" / "dagster" / "embedded.yaml"


def open_instance(settings: Settings) -> dg.DagsterInstance:
    """The instance under DAGSTER_HOME (default `<PIPELINE_DATA_DIR>/dagster_home`, as documented).

    A new home gets the embedded profile, like `make run` does, so the CLI and the UI share one instance.
    """
    home = settings.dagster_home_dir
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and EMBEDDED_PROFILE.exists():
        shutil.copyfile(EMBEDDED_PROFILE, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return dg.DagsterInstance.get()


def known_projects(instance: dg.DagsterInstance) -> list[str]:
    return sorted(instance.get_dynamic_partitions("projects"))
