"""Deploy one commit of a generated repository as one environment, without Dagster: `deploy_commit`.

The commit's tree is checked out into a working folder; each component of its manifest that needs a
build (`build` argv, e.g. a bundler writing `publish_dir`) is installed and built there in the
sandbox (no network, time limit, minimal environment); then the hosting resource deploys it. Backends
(and workers with a start command) go first, so a frontend is given the URL of the backend it calls.

Deploying what already runs is nothing: a component whose current release is this commit and
answers its health check is recorded `unchanged` after one status read, with no checkout, no build
and no hosting write.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from assets.deployments.models import EnvironmentDeployment, ValidationSummary
from assets.validations.install import install_component
from assets.validations.sandbox import run_tests_in_sandbox
from assets.validations.validate import decode_tree
from pipeline_core.repository.manifest import ComponentSpec, Manifest
from resources.hosting.base import (
    DeploymentRecord,
    Environment,
    Hosting,
    HostingError,
    ReleaseRequest,
    publish_folder,
)

BUILD_TIMEOUT_S = 600.0
APP_SECRET_PREFIX = "PIPELINE_APP_SECRET_"


class NothingToDeploy(ValueError):
    """The commit has nothing deployable (no manifest, or no component with a way to run)."""


def configured_app_secrets(environ: Mapping[str, str]) -> dict[str, SecretStr]:
    """The secrets the user configured for the generated applications: `PIPELINE_APP_SECRET_<NAME>`
    becomes `<NAME>` in every backend's environment. Nothing else of the pipeline's environment."""
    return {
        name.removeprefix(APP_SECRET_PREFIX): SecretStr(value)
        for name, value in environ.items()
        if name.startswith(APP_SECRET_PREFIX) and len(name) > len(APP_SECRET_PREFIX)
    }


def deployable(manifest: Manifest) -> list[ComponentSpec]:
    """The components that can run, backends and workers before frontends."""
    runnable = [c for c in manifest.components if c.kind == "frontend" or c.start is not None]
    return sorted(runnable, key=lambda c: c.kind == "frontend")


def contract_call(operations: list[str], openapi: Mapping[str, Any], health: str) -> str | None:
    """One call of the API contract a backend release must answer with 2xx before it is current:
    the first GET without path parameters among the operations the commit's stories built
    (`METHOD /path` as the manifest records them), as the OpenAPI document's server prefix places it."""
    servers = openapi.get("servers") or []
    prefix = ""
    if servers and isinstance(servers[0], dict):
        url = str(servers[0].get("url", ""))
        prefix = url.rstrip("/") if url.startswith("/") else ""
    for operation in operations:
        method, _, path = operation.partition(" ")
        if method.upper() != "GET" or "{" in path or not path.startswith("/"):
            continue
        full = path if path.startswith(prefix + "/") else prefix + path
        if full != health:
            return full
    return None


def checkout(files: Mapping[str, bytes], target: Path) -> None:
    for path, data in files.items():
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(data)


def build_component(
    tree: Mapping[str, str], component: ComponentSpec, checkout_dir: Path, cache_dir: Path
) -> None:
    """Install and build `component` when its manifest gives a `build` argv; the built `publish_dir`
    is copied back into `checkout_dir`. HostingError with the output when it fails."""
    if not component.build:
        return
    installed, environment = install_component(tree, component, cache_dir)
    if environment is None:
        raise HostingError(f"{component.name}: install failed: {installed.output_tail[-800:]}")
    source = checkout_dir if component.path == "." else checkout_dir / component.path

    def keep_build(run_dir: Path) -> None:
        """Copy what the build wrote into publish_dir back into the checkout (the sandbox's copy goes)."""
        if component.publish_dir is None:
            return
        built, target = publish_folder(component, run_dir), publish_folder(component, source)
        if built.is_dir():
            ignore = shutil.ignore_patterns("node_modules")
            shutil.copytree(built, target, symlinks=False, dirs_exist_ok=True, ignore=ignore)

    run = run_tests_in_sandbox(
        tree,
        list(component.build),
        timeout_s=BUILD_TIMEOUT_S,
        cwd=component.path,
        path_prefix=environment.path_prefix,
        env=environment.env,
        links=environment.links,
        collect=keep_build,
    )
    if run.returncode != 0 or run.timed_out:
        why = "was killed at the time limit" if run.timed_out else f"exited with {run.returncode}"
        raise HostingError(f"{component.name}: build {why}: {(run.stderr_tail or run.stdout_tail)[-800:]}")


def deploy_commit(
    *,
    project: str,
    environment: Environment,
    branch: str,
    commit: str,
    manifest: Manifest,
    files: Mapping[str, bytes],
    hosting: Hosting,
    openapi: Mapping[str, Any],
    validation: ValidationSummary,
    cache_dir: Path,
    workdir_parent: Path | None = None,
    app_secrets: Mapping[str, SecretStr] | None = None,
) -> EnvironmentDeployment:
    """Every deployable component of `commit` deployed as `environment` (see the module docstring).

    `files` is the commit's tree (path -> bytes); it is checked out only when some component is not
    already running this commit. `app_secrets` go to backends and workers only (a frontend's files
    are public); with secrets configured, a backend's release is always asked of the hosting, which
    compares them, so a changed secret makes a new release of the same commit.
    """
    secrets = dict(app_secrets or {})
    components = deployable(manifest)
    if not components:
        raise NothingToDeploy("the manifest has no component with a start command or a publish_dir")
    stories = [story.id for story in manifest.stories]
    operations = [operation for story in manifest.stories for operation in story.operations]
    records: dict[str, DeploymentRecord] = {}
    api_url: str | None = None
    work: Path | None = None
    try:
        for component in components:
            current = hosting.current(project, environment, component)
            if (
                current is not None
                and current.commit == commit
                and current.health == "healthy"
                and (current.api_url == api_url if component.kind == "frontend" else not secrets)
            ):
                record = current.model_copy(update={"status": "unchanged", "stories": stories})
                records[component.name] = record
            else:
                if work is None:
                    work = Path(tempfile.mkdtemp(prefix=f"deploy-{project}-", dir=workdir_parent))
                    checkout(files, work)
                    tree, _ = decode_tree(files)
                blocked = [r for r in records.values() if r.kind != "frontend" and not r.ok]
                if component.kind == "frontend" and blocked:
                    reason = f"not deployed: its backend {blocked[0].component} did not deploy this commit"
                    record = _not_deployed(project, environment, component, commit, hosting, stories, reason)
                else:
                    record = _deploy_one(
                        project,
                        environment,
                        component,
                        commit,
                        work,
                        tree,
                        hosting,
                        api_url,
                        openapi,
                        operations,
                        cache_dir,
                        stories,
                        {} if component.kind == "frontend" else secrets,
                    )
                records[component.name] = record
            if component.kind != "frontend" and api_url is None and record.url:
                api_url = record.url.rstrip("/")
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    return EnvironmentDeployment(
        environment=environment,
        branch=branch,
        commit=commit,
        records=[records[component.name] for component in components],
        validation=validation,
        stories=stories,
    )


def _deploy_one(
    project: str,
    environment: Environment,
    component: ComponentSpec,
    commit: str,
    work: Path,
    tree: Mapping[str, str],
    hosting: Hosting,
    api_url: str | None,
    openapi: Mapping[str, Any],
    operations: list[str],
    cache_dir: Path,
    stories: list[str],
    app_secrets: Mapping[str, SecretStr],
) -> DeploymentRecord:
    source = work if component.path == "." else work / component.path
    checks: list[str] = []
    if component.kind != "frontend":
        call = contract_call(operations, openapi, component.health)
        checks = [call] if call else []
    try:
        build_component(tree, component, work, cache_dir)
        request = ReleaseRequest(
            project=project,
            environment=environment,
            component=component,
            commit=commit,
            source_dir=source,
            api_url=api_url if component.kind == "frontend" else None,
            stories=stories,
            checks=checks,
            app_secrets=dict(app_secrets),
        )
        return hosting.deploy(request)
    except HostingError as error:
        return _not_deployed(project, environment, component, commit, hosting, stories, str(error))


def _not_deployed(
    project: str,
    environment: Environment,
    component: ComponentSpec,
    commit: str,
    hosting: Hosting,
    stories: list[str],
    reason: str,
) -> DeploymentRecord:
    """The record of a component whose release was not made: what runs still runs (rolled back)."""
    previous = hosting.current(project, environment, component)
    running = previous is not None and previous.health == "healthy"
    return DeploymentRecord(
        project=project,
        environment=environment,
        component=component.name,
        kind=component.kind,
        target=hosting.target_of(component),
        commit=commit,
        url=previous.url if previous is not None and running else None,
        version=previous.version if previous else None,
        health="unhealthy",
        status="rolled_back" if running else "failed",
        reason=reason + ("; the previous release is still current and answering" if running else ""),
        previous_commit=previous.commit if previous else None,
        previous_version=previous.version if previous else None,
        stories=stories,
    )
