"""The code location loads, workspace.yaml points at it, and its shape is what the UI relies on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

from pipeline_defs.definitions import defs

REPO = Path(__file__).resolve().parents[1]
STAGES = ["documents", "requirements", "architecture"]
PACKAGES = ("assets", "resources", "sensors", "pipeline_defs", "pipeline_core", "infra")


def test_definitions_load_with_every_stage() -> None:
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    for stage in STAGES:
        node = graph.get(dg.AssetKey(stage))
        assert node.partitions_def is not None and node.partitions_def.name == "projects"
        assert node.code_version, f"{stage} has a code_version"
    assert graph.get(dg.AssetKey("requirements")).parent_keys == {dg.AssetKey("documents")}
    assert graph.get(dg.AssetKey("architecture")).parent_keys == {dg.AssetKey("requirements")}


def test_bucket_sensor_is_on_by_default_and_targets_the_pipeline() -> None:
    sensor = defs.resolve_sensor_def("bucket_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "project_pipeline"


def test_workspace_yaml_points_at_the_definitions(tmp_path: Path) -> None:
    workspace = yaml.safe_load((REPO / "workspace.yaml").read_text())
    [location] = workspace["load_from"]
    assert location["python_module"]["module_name"] == "pipeline_defs.definitions"
    # Dagster's own loader, run from the repo root the way `dagster dev` does it.
    out = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_generic_top_level_packages_come_from_the_checkout_and_are_not_installed(tmp_path: Path) -> None:
    """The bare names must not leak into site-packages, where they would shadow other projects' imports."""
    probe = (
        "import importlib.util, json, sys; "
        "print(json.dumps({n: getattr(importlib.util.find_spec(n), 'origin', None) for n in sys.argv[1:]}))"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}

    def origins(cwd: Path) -> dict[str, str | None]:
        out = subprocess.run(
            [sys.executable, "-c", probe, *PACKAGES], cwd=cwd, env=env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    assert origins(tmp_path) == {name: None for name in PACKAGES}
    for name, origin in origins(REPO).items():
        assert origin is not None and Path(origin).resolve().is_relative_to(REPO), (name, origin)


def test_loading_the_code_location_does_not_import_the_slow_optional_libraries() -> None:
    # Every run worker and every step's forkserver imports the code location; the Claude SDK (about
    # a second and a half of CPU) and the OpenAPI validator are imported only where they are used.
    probe = (
        "import sys, pipeline_defs.definitions; "
        "print(sorted(m for m in ('anthropic', 'openapi_spec_validator') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout + loaded.stderr


def test_the_step_executor_is_the_one_the_setting_names() -> None:
    from pipeline_core.settings import Settings
    from pipeline_defs.definitions import FORKSERVER_PRELOAD, build_definitions

    default = build_definitions(Settings()).resolve_job_def("project_pipeline").executor_def
    assert default.name == "in_process"
    multiprocess = build_definitions(Settings(pipeline_step_executor="multiprocess"))
    assert multiprocess.resolve_job_def("project_pipeline").executor_def.name == "multiprocess"
    assert "pipeline_defs.definitions" in FORKSERVER_PRELOAD
