"""Helpers to run the whole code location in-process on a temporary data folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet
from pipeline_core.settings import Settings
from pipeline_defs.cli import drop_folder
from pipeline_defs.definitions import build_definitions
from resources.io_manager import asset_value_key
from resources.object_store import ObjectStore, object_store_from_url

EXAMPLE_PROJECT = Path(__file__).resolve().parents[2] / "examples" / "acme-tasks"
DESIGN_STAGES = ("documents", "requirements", "architecture")


@dataclass
class PipelineHarness:
    """A code location on its own settings, with the sensor ticked and jobs run in-process."""

    settings: Settings
    instance: dg.DagsterInstance
    defs: dg.Definitions
    cursor: str | None = None

    @classmethod
    def create(cls, settings: Settings, instance: dg.DagsterInstance) -> PipelineHarness:
        if "pipeline_sensor_settle_seconds" not in settings.model_fields_set:
            # Files are dropped whole and the sensor ticked at once; the window has its own tests.
            settings = settings.model_copy(update={"pipeline_sensor_settle_seconds": 0})
        return cls(settings=settings, instance=instance, defs=build_definitions(settings))

    @property
    def inbox(self) -> ObjectStore:
        return object_store_from_url(self.settings.inbox_url)

    @property
    def artifacts(self) -> ObjectStore:
        return object_store_from_url(self.settings.artifacts_url)

    def drop_folder(self, folder: Path, project: str) -> None:
        drop_folder(self.inbox, folder, project)

    def tick(self) -> dg.SensorResult:
        """One sensor tick; applies its partition requests the way the daemon would."""
        sensor = self.defs.resolve_sensor_def("bucket_sensor")
        with dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources=dict(self.defs.resources or {})
        ) as context:
            result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        self.cursor = result.cursor
        return result

    def run(self, project: str) -> dg.ExecuteInProcessResult:
        job = self.defs.resolve_job_def("project_pipeline")
        return job.execute_in_process(partition_key=project, instance=self.instance)

    def value(self, asset: str, project: str, model: type[Any]) -> Any:
        key = asset_value_key(dg.AssetKey(asset), project)
        return model.model_validate_json(self.artifacts.get_text(key))

    def design(self, project: str) -> tuple[RequirementsSet, Architecture]:
        """Run the stages up to `architecture` for `project`; its stories and architecture."""
        job = self.defs.resolve_job_def("project_pipeline")
        assert job.execute_in_process(
            partition_key=project,
            instance=self.instance,
            asset_selection=[dg.AssetKey(name) for name in DESIGN_STAGES],
        ).success
        requirements = self.value("requirements", project, RequirementsSet)
        return requirements, self.value("architecture", project, Architecture)

    def put_design(self, project: str, requirements: RequirementsSet, architecture: Architecture) -> None:
        """Add the project's partition and store its requirements and architecture, as if those stages
        had run."""
        self.instance.add_dynamic_partitions("projects", [project])
        for asset, value in (("requirements", requirements), ("architecture", architecture)):
            self.artifacts.put_text(asset_value_key(dg.AssetKey(asset), project), value.model_dump_json())


@contextmanager
def example_harness(data_dir: Path, project: str) -> Iterator[PipelineHarness]:
    """The example project dropped into an offline code location on `data_dir` (a test instance),
    the bucket sensor ticked once."""
    settings = Settings(pipeline_data_dir=data_dir, pipeline_llm_provider="offline")
    with dg.instance_for_test() as instance:
        harness = PipelineHarness.create(settings, instance)
        harness.drop_folder(EXAMPLE_PROJECT, project)
        harness.tick()
        yield harness


def materialization_metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    """The plain values of the metadata of `asset`'s materialisation in `result`."""
    [event] = [
        event for event in result.get_asset_materialization_events() if event.asset_key == dg.AssetKey(asset)
    ]
    materialization = event.event_specific_data.materialization
    return {key: value.value for key, value in materialization.metadata.items()}


def copy_example(tmp_path: Path) -> Path:
    target = tmp_path / "example"
    shutil.copytree(EXAMPLE_PROJECT, target)
    return target
