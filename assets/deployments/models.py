"""What the `deployments` asset holds: per environment the commit deployed and one record per component."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from pipeline_core.hashing import content_hash
from resources.hosting.base import DeploymentRecord, Environment


class ValidationSummary(BaseModel):
    """Whether the deployed commit passed the blocking validation checks, and why not."""

    commit: str
    tests_pass: bool
    contract_matches: bool
    problems: list[str] = Field(default_factory=list)
    input_key: str = Field("", description="hash of what was validated; equal inputs reuse the result")

    @property
    def passed(self) -> bool:
        return self.tests_pass and self.contract_matches


class EnvironmentDeployment(BaseModel):
    """One environment of a project: the commit it runs (from which branch) and its components."""

    environment: Environment
    branch: str = Field(description="preview: the integration branch; production: the default branch")
    commit: str
    records: list[DeploymentRecord] = Field(default_factory=list)
    validation: ValidationSummary
    stories: list[str] = Field(default_factory=list, description="story ids the commit contains")
    deployed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def healthy(self) -> bool:
        return bool(self.records) and all(record.ok for record in self.records)

    def url(self) -> str | None:
        """Where a person opens the application: the frontend, else the first backend."""
        ordered = sorted(self.records, key=lambda r: (r.kind != "frontend", r.kind != "backend"))
        return next((record.url for record in ordered if record.url), None)


class DeploymentsSet(BaseModel):
    """The value of the `deployments` asset for one project: its preview and production environments."""

    project: str
    repository: str
    preview: EnvironmentDeployment | None = None
    production: EnvironmentDeployment | None = None
    ci_secrets_fingerprint: str | None = Field(
        default=None, description="digest of the deploy secrets last set for the repository's CI"
    )

    def environment(self, name: Environment) -> EnvironmentDeployment | None:
        return self.preview if name == "preview" else self.production

    def data_version(self) -> str:
        """Changes only when what runs changes: commit, version, URL or health of a component."""
        return content_hash(
            [
                (
                    env.environment,
                    env.commit,
                    sorted(
                        (r.component, r.target, r.commit, r.version, r.url, r.health) for r in env.records
                    ),
                )
                for env in (self.preview, self.production)
                if env is not None
            ]
        )
