"""The manifest of a Claude-built tree, written by the pipeline from the model's structured answer.

The model proposes each component's commands as fields of `ProposedComponent`; they are validated
into the contract's `ComponentSpec`s here and the file is rendered by
`pipeline_core.repository.manifest` only. The model may never write `.ai-pipeline/manifest.json`
itself (the change-set check refuses the path).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import ValidationError

from assets.requirements.models import UserStory
from assets.story_builds.claude_task import CODEGEN_VERSION, ProposedComponent
from assets.story_builds.models import CoveredCriterion, UncoveredCriterion
from pipeline_core.repository.manifest import (
    ComponentSpec,
    Manifest,
    StartCommand,
    StoryRecord,
    read_manifest,
)


def component_spec(proposed: ProposedComponent) -> ComponentSpec:
    """The proposal as the contract's component; ValueError naming every problem."""
    start = None
    if proposed.start:
        try:
            start = StartCommand(argv=list(proposed.start), env=list(proposed.start_env))
        except ValidationError as error:
            raise ValueError(_problems(error, "start")) from None
    data = {
        "name": proposed.name,
        "path": proposed.path,
        "kind": proposed.kind,
        "runtime": proposed.runtime,
        "install": list(proposed.install),
        "test": list(proposed.test),
        "start": start,
        "health": proposed.health,
        "build": list(proposed.build),
        "publish_dir": proposed.publish_dir,
        "dockerfile": proposed.dockerfile,
    }
    try:
        spec = ComponentSpec.model_validate(data)
    except ValidationError as error:
        raise ValueError(_problems(error)) from None
    for step in ("install", "test", "build"):
        if any(not part or "\x00" in part for part in getattr(spec, step)):
            raise ValueError(f"{step} must be an argv of non-empty strings")
    return spec


def _problems(error: ValidationError, prefix: str = "") -> str:
    out = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        where = ".".join(part for part in (prefix, where) if part)
        message = str(item["msg"]).removeprefix("Value error, ")
        out.append(f"{where}: {message}" if where else message)
    return "; ".join(out)


def merged_components(
    existing: Manifest | None, proposed: Sequence[ProposedComponent]
) -> tuple[list[ComponentSpec], list[str]]:
    """The tree's components with the proposal's applied by name (a listed component replaces the
    one of the same name; the others keep theirs), and the problems of the proposed ones."""
    merged: dict[str, ComponentSpec] = {c.name: c for c in existing.components} if existing else {}
    problems: list[str] = []
    for component in proposed:
        try:
            merged[component.name] = component_spec(component)
        except ValueError as error:
            problems.append(f"component {component.name!r}: {error}")
    return list(merged.values()), problems


def component_of(path: str, components: Sequence[ComponentSpec]) -> ComponentSpec | None:
    """The component whose folder holds `path` (the deepest; '.' is the repository root)."""
    owners = [component for component in components if component.owns(path)]
    return max(owners, key=lambda c: 0 if c.path == "." else len(c.path), default=None)


def story_manifest(
    current_tree: Mapping[str, str],
    project: str,
    story: UserStory,
    components: Sequence[ComponentSpec],
    covered: Sequence[CoveredCriterion],
    uncovered: Sequence[UncoveredCriterion],
    operations: Sequence[str],
) -> Manifest:
    """The tree's manifest after the story: its components, and the story's record added or
    replaced. ManifestError if the tree's manifest breaks the contract."""
    existing = read_manifest(current_tree)
    record = StoryRecord(
        id=story.id,
        title=story.title,
        spec_hash=story.content_hash or story.compute_hash(),
        operations=list(operations),
        tests=sorted({item.test.file for item in covered}),
        covered=[item.criterion_id for item in covered],
        uncovered={item.criterion_id: item.reason for item in uncovered},
    )
    base = existing or Manifest(generator=CODEGEN_VERSION, project=project)
    return Manifest(
        generator=CODEGEN_VERSION,
        project=base.project,
        components=list(components),
        stories=base.stories,
    ).with_story(record)
