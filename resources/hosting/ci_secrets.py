"""The generated repositories' deploy credentials, set as Actions secrets (never written into a repository).

The generated CI workflow pushes a containerised backend's image to ECR (see the offline generator's
`render_ci`); it reads `AWS_REGION` and either `AWS_ROLE_ARN` (an OIDC role) or `AWS_ACCESS_KEY_ID`
and `AWS_SECRET_ACCESS_KEY` from the repository's Actions secrets. Netlify needs nothing in CI: the
pipeline itself deploys frontends by file digest, so its token stays with the pipeline.

`prepare_ci_deploys` is what the deployments stage calls once per repository and run: it seals and
sets the secrets through the forge (`set_actions_secret`: PyNaCl against the repository's public key
on GitHub; names only in the local forge) when their fingerprint changed, and the first time dispatches
the workflow on the deployed branches, so the commit pushed before the secrets existed gets its image.
Unchanged secrets cost no request at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field, SecretStr

from pipeline_core.settings import Settings
from resources.forge.base import Forge, ForgeError

CI_WORKFLOW = "ci.yml"


class CiDeploySetup(BaseModel):
    """What `prepare_ci_deploys` did for one repository (no secret value in it)."""

    repository: str
    secrets: list[str] = Field(default_factory=list, description="names of the Actions secrets CI needs")
    fingerprint: str | None = Field(default=None, description="changes when a name or a value changes")
    written: bool = False
    dispatched: list[str] = Field(default_factory=list, description="branches whose CI run was requested")
    note: str = ""


def ci_deploy_secrets(settings: Settings) -> tuple[dict[str, SecretStr], str]:
    """The Actions secrets CI needs for the configured hosting, and what is missing ("" if nothing).

    Only backends on ECS need CI credentials (to push images). With a role ARN CI uses GitHub's OIDC
    provider (no long-lived key in GitHub); else access keys.
    """
    if settings.pipeline_hosting != "auto" or not settings.pipeline_ecs_cluster:
        return {}, ""  # backends are not deployed to ECS: CI needs no deploy credentials
    secrets: dict[str, SecretStr] = {"AWS_REGION": SecretStr(settings.aws_region)}
    if settings.pipeline_ci_aws_role_arn:
        secrets["AWS_ROLE_ARN"] = SecretStr(settings.pipeline_ci_aws_role_arn)
        return secrets, ""
    key, secret = settings.pipeline_ci_aws_access_key_id, settings.pipeline_ci_aws_secret_access_key
    if key and secret:
        secrets["AWS_ACCESS_KEY_ID"] = key
        secrets["AWS_SECRET_ACCESS_KEY"] = secret
        return secrets, ""
    return {}, (
        "backends deploy to ECS but CI has no AWS credentials to push images: set "
        "PIPELINE_CI_AWS_ROLE_ARN (or PIPELINE_CI_AWS_ACCESS_KEY_ID and PIPELINE_CI_AWS_SECRET_ACCESS_KEY)"
    )


def secrets_fingerprint(repository: str, secrets: Mapping[str, SecretStr]) -> str:
    """A digest that changes with any name or value; values enter only as their own SHA-256."""
    digest = hashlib.sha256(repository.encode())
    for name in sorted(secrets):
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(secrets[name].get_secret_value().encode()).digest())
    return digest.hexdigest()[:32]


def dispatch_ci(forge: Forge, repository: str, branch: str) -> bool:
    """Ask GitHub to run the CI workflow on `branch` (True), or say it cannot (False: the local forge
    runs no CI)."""
    from github import GithubException
    from requests import RequestException

    from resources.forge.github import GitHubForge

    if not isinstance(forge, GitHubForge):
        return False
    what = f"dispatch {CI_WORKFLOW} of {forge.owner}/{repository} on {branch}"
    try:
        repo = forge.client.get_repo(f"{forge.owner}/{repository}", lazy=True)
        return bool(repo.get_workflow(CI_WORKFLOW).create_dispatch(branch, throw=True))
    except GithubException as error:
        message = error.data.get("message") if isinstance(error.data, dict) else error.data
        raise ForgeError(f"{what}: GitHub answered {error.status}: {message}") from None
    except RequestException as error:
        raise ForgeError(f"{what}: {type(error).__name__} talking to {forge.api_url}") from None


def prepare_ci_deploys(
    forge: Forge,
    repository: str,
    settings: Settings,
    *,
    previous_fingerprint: str | None = None,
    branches: Sequence[str] = (),
) -> CiDeploySetup:
    """Set the repository's deploy secrets when they changed (idempotent); the first time, dispatch CI
    on `branches` so their current commits get images. Pass the fingerprint the last call returned."""
    secrets, note = ci_deploy_secrets(settings)
    setup = CiDeploySetup(repository=repository, secrets=sorted(secrets), note=note)
    if not secrets:
        return setup
    fingerprint = secrets_fingerprint(repository, secrets)
    setup.fingerprint = fingerprint
    if fingerprint == previous_fingerprint:
        return setup
    for name in sorted(secrets):
        forge.set_actions_secret(repository, name, secrets[name])
    setup.written = True
    if previous_fingerprint is None:
        for branch in branches:
            try:
                if dispatch_ci(forge, repository, branch):
                    setup.dispatched.append(branch)
            except ForgeError as error:
                setup.note = f"the secrets are set, but CI could not be started on {branch}: {error}"
    return setup
