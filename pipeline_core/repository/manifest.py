"""The generated repository's contract: `.ai-pipeline/manifest.json`, one typed model.

The pipeline (never the model) writes it, through `render_manifest`; every stage that needs to
know how a generated repository is installed, tested, started, built or published reads it through
`read_manifest`: the generators (offline templates and Claude) to see what is already built,
story builds to merge story branches, validations to install, test and start components, and
deployments to build and publish them.

Per component: where it lives, what kind it is, its runtime, and the argv of each step. `python`,
`node` and `npm` as the first word of an argv mean the component's own environment (its
virtualenv's interpreter, its `node_modules`); `{port}` in `start` is replaced by the port to
listen on. Per story: what was built for it (operations, test files, covered and uncovered
criteria) and the spec hash it was built from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

MANIFEST_PATH = ".ai-pipeline/manifest.json"
MANIFEST_SCHEMA_VERSION = 1

ComponentKind = Literal["frontend", "backend", "worker"]
Runtime = Literal["python", "node", "static"]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class ManifestError(ValueError):
    """The manifest is missing, not JSON, or does not follow the contract; the message says why."""


def _relative_folder(value: str, what: str) -> str:
    """A folder inside the repository: 'backend/' -> 'backend', '' or './' -> '.'; no escapes."""
    folder = value.strip().replace("\\", "/").rstrip("/")
    if folder in ("", "."):
        return "."
    if folder.startswith("/") or any(part in ("", "..", ".git") for part in folder.split("/")):
        raise ValueError(f"{what} {value!r} must be a relative folder inside the repository")
    return folder.removeprefix("./")


class StartCommand(BaseModel):
    """How a component serves: argv with `{port}`, and the environment variables it reads."""

    argv: list[str] = Field(min_length=1)
    env: list[str] = Field(default_factory=list, description="variable names it reads, e.g. DATABASE_URL")

    @field_validator("argv")
    @classmethod
    def _takes_a_port(cls, argv: list[str]) -> list[str]:
        if not any("{port}" in part for part in argv):
            raise ValueError("start must contain {port} (the port the component listens on)")
        return argv

    @field_validator("env")
    @classmethod
    def _env_names(cls, names: list[str]) -> list[str]:
        bad = [name for name in names if not _ENV_NAME.match(name)]
        if bad:
            raise ValueError(f"environment variable names must be UPPER_CASE: {bad}")
        return names

    def command(self, port: int) -> list[str]:
        return [part.replace("{port}", str(port)) for part in self.argv]


class ComponentSpec(BaseModel):
    """One deployable part of the generated repository and how each step runs (argv lists)."""

    name: str
    path: str
    kind: ComponentKind
    runtime: Runtime
    install: list[str] = Field(default_factory=list, description="argv; empty when nothing to install")
    test: list[str] = Field(min_length=1)
    start: StartCommand | None = None
    health: str = "/"
    build: list[str] = Field(default_factory=list, description="argv; frontends that need a build")
    publish_dir: str | None = Field(default=None, description="frontends: the folder to publish")
    dockerfile: str | None = Field(default=None, description="backends deployed as containers")

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(f"component name {name!r} must be a lowercase slug")
        return name

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        return _relative_folder(path, "component path")

    @field_validator("health")
    @classmethod
    def _health(cls, health: str) -> str:
        if not health.startswith("/"):
            raise ValueError(f"health {health!r} must be a path starting with '/'")
        return health

    @field_validator("publish_dir")
    @classmethod
    def _publish_dir(cls, publish_dir: str | None) -> str | None:
        return None if publish_dir is None else _relative_folder(publish_dir, "publish_dir")

    @field_validator("dockerfile")
    @classmethod
    def _dockerfile(cls, dockerfile: str | None) -> str | None:
        if dockerfile is None:
            return None
        folder = _relative_folder(dockerfile, "dockerfile")
        if folder == ".":
            raise ValueError("dockerfile must name a file")
        return folder

    @model_validator(mode="after")
    def _kind_needs(self) -> ComponentSpec:
        if self.kind == "backend" and self.start is None:
            raise ValueError(f"backend {self.name!r} needs a start command")
        if self.kind == "frontend" and self.publish_dir is None:
            raise ValueError(f"frontend {self.name!r} needs a publish_dir")
        return self

    def file_path(self, relative: str) -> str:
        """A path inside this component as a repository path."""
        return relative if self.path == "." else f"{self.path}/{relative}"

    def owns(self, repository_path: str) -> bool:
        return self.path == "." or repository_path.startswith(self.path + "/")


class StoryRecord(BaseModel):
    """What was built for one story, and from which spec."""

    id: str
    title: str
    spec_hash: str
    operations: list[str] = Field(default_factory=list, description="operations it enabled, 'METHOD /path'")
    tests: list[str] = Field(default_factory=list, description="repository paths of the story's test files")
    covered: list[str] = Field(default_factory=list, description="criterion ids with a covering test")
    uncovered: dict[str, str] = Field(default_factory=dict, description="criterion id -> why not covered")


class Manifest(BaseModel):
    """The value of `.ai-pipeline/manifest.json`."""

    schema_version: int = MANIFEST_SCHEMA_VERSION
    generator: str = Field(description="which generator and version laid the repository down")
    project: str
    components: list[ComponentSpec] = Field(default_factory=list)
    stories: list[StoryRecord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> Manifest:
        names = [component.name for component in self.components]
        if len(set(names)) != len(names):
            raise ValueError(f"component names must be unique: {names}")
        ids = [story.id for story in self.stories]
        if len(set(ids)) != len(ids):
            raise ValueError(f"story ids must be unique: {ids}")
        return self

    def component(self, name: str) -> ComponentSpec | None:
        return next((component for component in self.components if component.name == name), None)

    def component_of(self, repository_path: str) -> ComponentSpec | None:
        """The component whose folder holds the path (the deepest one; '.' is the root)."""
        owners = [component for component in self.components if component.owns(repository_path)]
        return max(owners, key=lambda c: 0 if c.path == "." else len(c.path), default=None)

    def story(self, story_id: str) -> StoryRecord | None:
        return next((story for story in self.stories if story.id == story_id), None)

    def with_story(self, record: StoryRecord) -> Manifest:
        """This manifest with the story's record replaced in place (or appended)."""
        stories = list(self.stories)
        position = next((i for i, story in enumerate(stories) if story.id == record.id), None)
        if position is None:
            stories.append(record)
        else:
            stories[position] = record
        return self.model_copy(update={"stories": stories})


def parse_manifest(text: str) -> Manifest:
    """The manifest in `text`; ManifestError naming each problem if it breaks the contract."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ManifestError(f"{MANIFEST_PATH} is not JSON: {error.msg} (line {error.lineno})") from None
    if (
        isinstance(data, dict)
        and data.get("schema_version", MANIFEST_SCHEMA_VERSION) > MANIFEST_SCHEMA_VERSION
    ):
        raise ManifestError(
            f"{MANIFEST_PATH} has schema_version {data['schema_version']}; this pipeline reads "
            f"up to {MANIFEST_SCHEMA_VERSION}"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'manifest'}: {item['msg']}"
            for item in error.errors()
        )
        raise ManifestError(f"{MANIFEST_PATH} does not follow the contract: {problems}") from None


def read_manifest(tree: Mapping[str, str]) -> Manifest | None:
    """The manifest of a repository tree (path -> text), None if it has none."""
    text = tree.get(MANIFEST_PATH)
    return None if text is None else parse_manifest(text)


def render_manifest(manifest: Manifest) -> str:
    """The manifest as the file the pipeline writes (stable formatting, so unchanged means equal)."""
    return json.dumps(manifest.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def merge_manifests(manifests: Iterable[Manifest]) -> Manifest | None:
    """Several branches' manifests as one: every component and every story record, a later
    manifest's entry replacing an earlier one of the same name or id (so sibling stories that each
    added a component keep both); the last one's generator."""
    merged: Manifest | None = None
    for manifest in manifests:
        if merged is None:
            merged = manifest
            continue
        components = {component.name: component for component in merged.components}
        components.update({component.name: component for component in manifest.components})
        combined = merged.model_copy(
            update={"components": list(components.values()), "generator": manifest.generator}
        )
        for record in manifest.stories:
            combined = combined.with_story(record)
        merged = combined
    return merged
