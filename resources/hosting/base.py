"""The hosting interface: deploy one component of a generated repository, read what runs.

Three implementations share it: `LocalHosting` (release folders, the current release kept running on
a stable 127.0.0.1 port), Netlify (frontends) and ECS Fargate (backends). `HostingRouter` (in
`resources/hosting/router.py`) sends each component to the right one.

The contract every implementation keeps:

- `deploy` is idempotent. What is already current *and healthy* for the same commit is answered
  `unchanged`, with no new release and nothing written beyond a status read.
- A new release is health-checked before it becomes current (the manifest's `health` path; a
  frontend's index page; for a backend also one contract call where the implementation can).
- On failure the previous release stays current and running: the record says `rolled_back` (there
  was a previous one and it is still what answers) or `failed` (there was none), with the reason.
  `deploy` returns that record instead of raising, so the caller can record it and fail its check;
  `HostingError` is for what could not even be attempted (bad request, unreachable service).
- A deployed application's environment holds only `app_secrets` (the secrets the user configured
  for the app), never a credential of the pipeline.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import dagster as dg
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from pipeline_core.repository.manifest import ComponentKind, ComponentSpec

Environment = Literal["preview", "production"]
ENVIRONMENTS: tuple[Environment, ...] = ("preview", "production")
Target = Literal["local", "netlify", "ecs"]
Health = Literal["healthy", "unhealthy", "not_checked"]
DeploymentStatus = Literal["deployed", "unchanged", "rolled_back", "failed"]


class HostingError(RuntimeError):
    """A deployment could not be attempted or its state not read; the message says why (never a
    credential)."""


class ReleaseRequest(BaseModel):
    """What the deployments stage asks a hosting implementation to run."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    project: str
    environment: Environment
    component: ComponentSpec
    commit: str = Field(description="the generated repository's commit the release is built from")
    source_dir: Path = Field(
        description="the component's folder in a checkout of `commit`, already installed and built "
        "(a frontend's publish_dir exists)"
    )
    api_url: str | None = Field(default=None, description="frontends: the backend URL it must call")
    app_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="only secrets the user configured for the app; never pipeline credentials",
    )
    stories: list[str] = Field(default_factory=list, description="story ids the commit contains")
    checks: list[str] = Field(
        default_factory=list,
        description="GET paths beyond `component.health` a new release must answer with 2xx before it "
        "becomes current (for a backend: one call of its API contract)",
    )

    @field_validator("commit")
    @classmethod
    def _commit(cls, commit: str) -> str:
        if not commit or any(ch in commit for ch in "/\\ \n\x00") or commit in (".", ".."):
            raise ValueError(f"commit {commit!r} must be a commit id")
        return commit


class DeploymentRecord(BaseModel):
    """One component deployed to one environment: where it runs and what it replaced."""

    project: str
    environment: Environment
    component: str
    kind: ComponentKind
    target: Target
    commit: str
    url: str | None = Field(default=None, description="http(s) URL a person opens; None if none runs")
    version: str | None = Field(
        default=None,
        description="local release id / Netlify deploy id / ECS task-definition ARN of what is current",
    )
    health: Health = "not_checked"
    status: DeploymentStatus
    reason: str = ""
    deployed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    previous_commit: str | None = None
    previous_version: str | None = None
    stories: list[str] = Field(default_factory=list)
    api_url: str | None = Field(
        default=None, description="frontends: the backend URL the current release calls"
    )

    @classmethod
    def for_release(cls, request: ReleaseRequest, target: Target, **fields: Any) -> DeploymentRecord:
        """The record of deploying `request` to `target`, before its outcome is known."""
        return cls(
            project=request.project,
            environment=request.environment,
            component=request.component.name,
            kind=request.component.kind,
            target=target,
            commit=request.commit,
            status="deployed",
            stories=list(request.stories),
            **fields,
        )

    @field_validator("url")
    @classmethod
    def _http(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"deployment url {url!r} must be http(s)")
        return url

    @property
    def ok(self) -> bool:
        """The requested release is what runs now, and it answered its health check."""
        return self.status in ("deployed", "unchanged") and self.health == "healthy"


FRONTEND_CONFIG_FILE = "ai-pipeline-config.json"
_API_BASE_SCRIPT = "config.js"


def publish_folder(component: ComponentSpec, source_dir: Path) -> Path:
    """Where the component's `publish_dir` (a repository path) is in `source_dir` (its folder)."""
    publish_dir = component.publish_dir or component.path
    if component.path == ".":
        return source_dir / publish_dir
    if publish_dir == component.path:
        return source_dir
    if publish_dir.startswith(component.path + "/"):
        return source_dir / publish_dir.removeprefix(component.path + "/")
    raise HostingError(f"{component.name}: publish_dir {publish_dir!r} is outside {component.path}/")


def publish_files(request: ReleaseRequest) -> dict[str, bytes]:
    """The files a frontend release publishes (path inside publish_dir -> content): every regular
    file of its `publish_dir` (symbolic links and `node_modules` left out), with the backend URL set.

    Every frontend gets `ai-pipeline-config.json` (`{"api_url": ...}`); a `config.js` that sets
    `window.API_BASE` (the offline templates' convention) is rewritten to the URL. Local hosting and
    Netlify publish the same set, so a frontend calls its backend the same way everywhere.
    """
    component = request.component
    if component.publish_dir is None:
        raise HostingError(f"{component.name}: the manifest gives no publish_dir to publish")
    publish = publish_folder(component, request.source_dir)
    if not publish.is_dir():
        raise HostingError(f"{component.name}: publish_dir {component.publish_dir!r} is not in the build")
    files: dict[str, bytes] = {}
    for path in sorted(publish.rglob("*")):
        relative = path.relative_to(publish)
        if path.is_symlink() or not path.is_file() or "node_modules" in relative.parts:
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        files[relative.as_posix()] = path.read_bytes()
    if "index.html" not in files:
        raise HostingError(f"{component.name}: publish_dir {component.publish_dir!r} has no index.html")
    api_url = request.api_url or ""
    files[FRONTEND_CONFIG_FILE] = json.dumps({"api_url": api_url}).encode()
    script = files.get(_API_BASE_SCRIPT)
    if script is not None and b"API_BASE" in script:
        files[_API_BASE_SCRIPT] = (
            "// Set by the deployment: where this frontend's backend API lives.\n"
            f"window.API_BASE = {json.dumps(api_url)};\n"
        ).encode()
    return files


class Hosting(dg.ConfigurableResource, ABC):
    """Runs components of generated repositories, one current release per project, environment and
    component."""

    @property
    @abstractmethod
    def target(self) -> Target:
        """Which service this implementation deploys to."""

    def target_of(self, component: ComponentSpec) -> Target:
        """Which service `component` is deployed to (a router answers per component)."""
        return self.target

    def handles(self, component: ComponentSpec) -> bool:
        """Whether this implementation can run the component (the router asks before sending it)."""
        return True

    @abstractmethod
    def current(
        self, project: str, environment: Environment, component: ComponentSpec
    ) -> DeploymentRecord | None:
        """What is current for the component (its health read now), None if nothing was deployed."""

    @abstractmethod
    def deploy(self, request: ReleaseRequest) -> DeploymentRecord:
        """Make `request` the current release (see the module docstring for the contract)."""
