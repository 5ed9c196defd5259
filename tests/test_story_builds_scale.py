"""Story builds stay linear in the number of stories: what every story shares is derived once a run.

Recomputing the contract's operations, the rendered `openapi.json`, the design's data version and
the architecture slices for every story made a build quadratic (each grows with the stories: every
operation lists the stories it serves). These tests pin that each is derived once per run, and that
the shared derivation gives exactly what the per-story one gave.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from assets.architecture.models import Architecture
from assets.architecture.openapi import iter_operations, schema_refs
from assets.requirements.models import RequirementsSet
from assets.story_builds.asset import offline_generator
from assets.story_builds.build import ArchitectureSlices, architecture_slice, build_stories
from assets.story_builds.models import apply_changes
from assets.story_builds.offline import OfflinePlan, generate_story_changes, story_templates_hash
from assets.story_builds.offline import generator as offline_module
from benchmarks.story_builds import requirements_document
from pipeline_core.settings import Settings
from tests.support.pipeline import PipelineHarness
from tests.support.story_builds import CountingForge

PROJECT = "scale-stories"
STORIES = 60


@pytest.fixture(scope="module")
def designed(tmp_path_factory: pytest.TempPathFactory) -> tuple[RequirementsSet, Architecture]:
    """A 60-story project's stories and architecture, from the real stages."""
    tmp = tmp_path_factory.mktemp("scale")
    with dg.instance_for_test() as instance:
        harness = PipelineHarness.create(
            Settings(pipeline_data_dir=tmp / "var", pipeline_llm_provider="offline"), instance
        )
        harness.inbox.put_text(f"{PROJECT}/requirements.md", requirements_document(STORIES))
        harness.tick()
        requirements, architecture = harness.design(PROJECT)
    assert len(requirements.stories) > STORIES // 2
    return requirements, architecture


def slice_by_walking(architecture: Architecture, story_id: str) -> dict[str, Any]:
    """The slice as the definition reads: the story's components, its operations, their entities."""
    components = {entry.story_id: entry.components for entry in architecture.story_map}.get(story_id, [])
    operations: dict[str, Any] = {}
    refs: set[str] = set()
    for operation in iter_operations(architecture.openapi):
        if story_id in operation.story_ids:
            operations[operation.label] = {k: v for k, v in operation.operation.items() if k != "x-story-ids"}
            refs.update(schema_refs(operation.operation))
    return {
        "components": [
            component.model_dump(mode="json", exclude={"description"})
            for component in architecture.components
            if component.name in components
        ],
        "operations": operations,
        "entities": [
            entity.model_dump(mode="json") for entity in architecture.data_model if entity.name in refs
        ],
    }


def test_the_slices_of_one_walk_are_those_of_a_walk_per_story(
    designed: tuple[RequirementsSet, Architecture],
) -> None:
    requirements, architecture = designed
    slices = ArchitectureSlices(architecture)
    with_operations = 0
    for story in requirements.stories:
        expected = slice_by_walking(architecture, story.id)
        assert slices.slice(story.id) == expected == architecture_slice(architecture, story.id)
        with_operations += bool(expected["operations"])
    assert with_operations > len(requirements.stories) // 2, "the slices must not be empty"


def test_a_shared_plan_generates_what_a_plan_per_story_generates(
    designed: tuple[RequirementsSet, Architecture],
) -> None:
    requirements, architecture = designed
    shared = OfflinePlan(architecture, requirements)
    tree: dict[str, str] = {}
    for story in requirements.stories[:12]:
        alone = generate_story_changes(architecture, requirements, story.id, tree)
        assert generate_story_changes(architecture, requirements, story.id, tree, shared=shared) == alone
        assert story_templates_hash(architecture, requirements, story.id, shared=shared) == (
            story_templates_hash(architecture, requirements, story.id)
        )
        tree = apply_changes(tree, alone.files)


def test_a_build_derives_what_stories_share_once(
    designed: tuple[RequirementsSet, Architecture], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    requirements, architecture = designed
    counts = {"contract_operations": 0, "data_version": 0, "walks": 0}
    contract_operations = offline_module.contract_operations
    data_version = Architecture.data_version
    walk = iter_operations

    def counted_operations(arch: Architecture):  # type: ignore[no-untyped-def]
        counts["contract_operations"] += 1
        return contract_operations(arch)

    def counted_version(self: Architecture) -> str:
        counts["data_version"] += 1
        return data_version(self)

    def counted_walk(document):  # type: ignore[no-untyped-def]
        counts["walks"] += 1
        return walk(document)

    monkeypatch.setattr(offline_module, "contract_operations", counted_operations)
    monkeypatch.setattr(Architecture, "data_version", counted_version)
    monkeypatch.setattr("assets.story_builds.build.iter_operations", counted_walk)
    forge = CountingForge(root=str(tmp_path / "forge"))
    built = build_stories(
        PROJECT, requirements, architecture, forge, offline_generator(architecture, requirements), None
    )
    assert all(build.status == "built" for build in built.stories)
    assert counts == {"contract_operations": 1, "data_version": 1, "walks": 1}, counts
