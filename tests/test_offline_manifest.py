"""The offline generator writes `.ai-pipeline/manifest.json` only through the manifest module: both
components with how they are installed, tested, started and published; a broken manifest fails the
story with the reason."""

from __future__ import annotations

import json

import pytest

from assets.story_builds.models import apply_changes
from assets.story_builds.offline import GenerationError, generate_story_changes
from pipeline_core.repository.manifest import MANIFEST_PATH, read_manifest
from tests.support.offline_build import build_all, notes_design


def test_the_manifest_names_both_components_and_every_story() -> None:
    build = build_all(*notes_design())
    manifest = read_manifest(build.tree)
    assert manifest is not None and manifest.generator.startswith("offline-templates")
    backend, frontend = manifest.component("backend"), manifest.component("frontend")
    assert backend is not None and frontend is not None
    assert (backend.kind, backend.runtime, backend.install, backend.health) == (
        "backend",
        "python",
        [],
        "/api/health",
    )
    assert (
        backend.start is not None
        and "{port}" in backend.start.argv
        and backend.start.env == ["DATABASE_PATH"]
    )
    assert backend.test[:3] == ["python", "-m", "unittest"]
    assert backend.dockerfile == "backend/Dockerfile" and backend.dockerfile in build.tree
    assert (
        "DATABASE_PATH" in build.tree["backend/Dockerfile"] and "EXPOSE" in build.tree["backend/Dockerfile"]
    )
    assert (frontend.kind, frontend.runtime, frontend.publish_dir) == ("frontend", "static", "frontend")
    assert [story.id for story in manifest.stories] == build.order
    first = manifest.story("US-note01")
    assert first is not None and first.tests == ["backend/tests/test_us_note01.py"]
    assert "POST /api/notes" in first.operations and first.covered == ["AC1", "AC2"]
    assert set(first.uncovered) == {"AC3"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "not JSON"),
        (
            '{"generator": "offline-templates-2", "project": "notes", "components": [{"name": "backend"}]}',
            "components.0",
        ),
        ('{"generator": "claude-codegen-2", "project": "notes"}', "not by the offline templates"),
        (
            '{"schema_version": 99, "generator": "offline-templates-2", "project": "notes"}',
            "schema_version 99",
        ),
    ],
)
def test_a_manifest_that_breaks_the_contract_fails_the_story_with_the_reason(text: str, reason: str) -> None:
    requirements, architecture = notes_design()
    tree = apply_changes({}, generate_story_changes(architecture, requirements, "US-note01", {}).files)
    with pytest.raises(GenerationError, match="manifest") as caught:
        generate_story_changes(architecture, requirements, "US-note02", {**tree, MANIFEST_PATH: text})
    assert reason in str(caught.value)


def test_the_previous_manifest_is_read_back_and_kept_in_order() -> None:
    requirements, architecture = notes_design()
    tree = apply_changes({}, generate_story_changes(architecture, requirements, "US-note01", {}).files)
    second = apply_changes(tree, generate_story_changes(architecture, requirements, "US-note03", tree).files)
    stories = json.loads(second[MANIFEST_PATH])["stories"]
    assert [story["id"] for story in stories] == ["US-note01", "US-note03"]
    # rebuilding the first story on that tree keeps its place and the other record
    again = apply_changes(
        second, generate_story_changes(architecture, requirements, "US-note01", second).files
    )
    assert [story["id"] for story in json.loads(again[MANIFEST_PATH])["stories"]] == [
        "US-note01",
        "US-note03",
    ]
