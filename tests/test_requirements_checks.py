"""The requirements asset's checks: zero stories is never green, and checks are per project."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from assets.documents.models import Location, ParsedDocument, Segment
from assets.requirements.asset import FOUND_CHECK, requirements
from pipeline_core.hashing import content_hash
from pipeline_core.partitions import projects_partitions
from resources.io_manager import ArtifactJsonIOManager
from resources.llm.resource import LlmResource
from resources.object_store import LocalObjectStore
from tests.support.acme import stage_project

PROJECT = "no-requirements"


def _doc(path: str, *texts: str) -> tuple[tuple[str, str], ParsedDocument]:
    segments = [Segment(text=text, location=Location(line=number)) for number, text in enumerate(texts, 1)]
    doc = ParsedDocument(path=path, kind="markdown", segments=segments)
    return (path, content_hash(doc.model_dump_json())), doc


def _run(tmp_path: Path, documents: list) -> dg.ExecuteInProcessResult:
    artifacts = LocalObjectStore(root=str(tmp_path / "artifacts"))
    stage_project(artifacts, PROJECT, documents)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("projects", [PROJECT])
        return dg.materialize(
            [dg.AssetSpec("documents", partitions_def=projects_partitions), requirements],
            selection=[requirements],
            partition_key=PROJECT,
            instance=instance,
            raise_on_error=False,
            resources={
                "artifacts": artifacts,
                "llm": LlmResource(provider="offline", cache_url=(tmp_path / "cache").as_uri()),
                "io_manager": ArtifactJsonIOManager(store=artifacts),
            },
        )


def test_a_project_without_a_story_fails_a_blocking_check_naming_each_document(tmp_path: Path) -> None:
    documents = [
        _doc("minutes.md", "Lunch was great, thanks everyone.", "See you on Monday."),
        _doc("notes.md", "## Revision history", "1.0 First issue", "This document describes the notes."),
    ]
    result = _run(tmp_path, documents)
    checks = {check.check_name: check for check in result.get_asset_check_evaluations()}
    found = checks[FOUND_CHECK]
    assert not found.passed and found.severity == dg.AssetCheckSeverity.ERROR
    assert "minutes.md: no requirement statement found in 2 segment(s)" in found.description
    assert "notes.md" in found.description and "about the document itself" in found.description
    spec = next(spec for spec in requirements.check_specs if spec.name == FOUND_CHECK)
    assert spec.blocking
    assert all(spec.partitions_def == projects_partitions for spec in requirements.check_specs)


def test_a_project_with_a_story_passes(tmp_path: Path) -> None:
    result = _run(tmp_path, [_doc("brief.md", "Owners can add their pets and record each vet visit.")])
    checks = {check.check_name: check.passed for check in result.get_asset_check_evaluations()}
    assert checks[FOUND_CHECK] is True


def test_a_document_that_gives_nothing_beside_one_that_gives_stories_is_a_warning(tmp_path: Path) -> None:
    documents = [
        _doc("brief.md", "Owners can add their pets and record each vet visit."),
        _doc("scribbles.md", "Lunch was great, thanks everyone.", "See you on Monday."),
    ]
    result = _run(tmp_path, documents)
    assert result.success  # a warning: the stages after still run
    found = {check.check_name: check for check in result.get_asset_check_evaluations()}[FOUND_CHECK]
    assert not found.passed and found.severity == dg.AssetCheckSeverity.WARN
    assert "scribbles.md" in found.description and "brief.md" not in found.description


def test_a_document_left_out_with_a_reason_beside_one_that_gives_stories_passes(tmp_path: Path) -> None:
    documents = [
        _doc("brief.md", "Owners can add their pets and record each vet visit."),
        _doc("notes.md", "## Revision history", "1.0 First issue", "This document describes the notes."),
    ]
    evaluations = _run(tmp_path, documents).get_asset_check_evaluations()
    checks = {check.check_name: check.passed for check in evaluations}
    assert checks[FOUND_CHECK] is True
