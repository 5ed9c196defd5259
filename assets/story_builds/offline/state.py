"""The generator's state in the tree: `.ai-pipeline/manifest.json`, read and written only through
`pipeline_core.repository.manifest`.

The manifest names the two components (how each is installed, tested, started and published) and,
per story, the operations it enabled ('METHOD /path' of the contract), its test files and the
criteria they cover. The next story reads it back to know what is already built.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from assets.story_builds.offline.contract import ContractOperation
from pipeline_core.repository.manifest import (
    MANIFEST_PATH,
    ComponentSpec,
    Manifest,
    ManifestError,
    StartCommand,
    parse_manifest,
)

# -3: the CI workflow builds and pushes the backend image to ECR on main and the integration branch.
# -4: test values in the contract's formats (times and date-times with an offset); a criterion whose
# verb is a state change is tested through it or left uncovered, never by a create.
# -5: a criterion expecting a refusal by a rule the model does not hold stays uncovered.
# -6: a criterion is covered only by a test of the operation its verb names (`actions`): a verb naming
# no operation, an object naming no entity, a figure no summary gives stay uncovered, with their text.
# -7: "give X a Y" sets Y; an entity the contract does not list is opened by id on the page, its rows
# with their transition buttons.
# -8: "keep track of X", "a profile of each X", "suggest X" make records of X; "the X we have" is X.
GENERATOR_VERSION = "offline-templates-10"
GENERATOR_FAMILY = "offline-templates"
UNITTEST = ["python", "-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v"]
DATABASE_ENV = "DATABASE_PATH"


class GenerationError(ValueError):
    """The inputs cannot be built (unknown story, a tree from another generator, a broken manifest, ...)."""


def components() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            name="backend",
            path="backend",
            kind="backend",
            runtime="python",
            install=[],
            test=UNITTEST,
            start=StartCommand(argv=["python", "-m", "app", "--port", "{port}"], env=[DATABASE_ENV]),
            health="/api/health",
            dockerfile="backend/Dockerfile",
        ),
        ComponentSpec(
            name="frontend",
            path="frontend",
            kind="frontend",
            runtime="static",
            install=[],
            test=UNITTEST,
            publish_dir="frontend",
        ),
    ]


def read_state(tree: Mapping[str, str], project: str) -> Manifest:
    """The manifest of `tree` (a fresh one when it has none); GenerationError when it breaks the
    contract or was written by another generator."""
    try:
        manifest = parse_manifest(tree[MANIFEST_PATH]) if MANIFEST_PATH in tree else None
    except ManifestError as error:
        raise GenerationError(f"cannot build on this tree: {error}") from error
    if manifest is None:
        return Manifest(generator=GENERATOR_VERSION, project=project, components=components())
    if not manifest.generator.startswith(GENERATOR_FAMILY):
        raise GenerationError(
            f"{MANIFEST_PATH} was written by {manifest.generator!r}, not by the offline templates"
        )
    return manifest


def enabled_operations(
    manifest: Manifest, operations: Sequence[ContractOperation]
) -> dict[tuple[str, str, str], list[str]]:
    """Operation key -> ids of the stories that enabled it, in build order. An operation the
    contract no longer has is dropped."""
    by_label = {operation.label: operation for operation in operations}
    out: dict[tuple[str, str, str], list[str]] = {}
    for story in manifest.stories:
        for label in story.operations:
            if label in by_label:
                out.setdefault(by_label[label].key, []).append(story.id)
    return out


def component_tests(tree: Mapping[str, str], python: str = "python") -> list[tuple[str, str, list[str]]]:
    """(component, folder, argv) for the test command of each component of a generated tree."""
    if MANIFEST_PATH not in tree:
        return []
    try:
        specs = [(c.name, c.path, c.test) for c in parse_manifest(tree[MANIFEST_PATH]).components]
    except ManifestError:  # a manifest from before the contract: components as plain records
        data = json.loads(tree[MANIFEST_PATH])
        specs = [(c["name"], c["path"], c["test"]) for c in data.get("components") or []]
    return [
        (name, path, [python if part == "python" else part for part in argv]) for name, path, argv in specs
    ]
