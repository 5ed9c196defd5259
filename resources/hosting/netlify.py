"""Netlify hosting for frontends: one site per project, component and environment, deployed by digest.

A deploy sends the SHA1 of every file the release publishes (`publish_files`: the built
`publish_dir` with the backend URL set) to `POST /sites/{id}/deploys`, uploads only the files Netlify
does not already hold (`required`), polls the deploy until it is `ready` (failing on `error`, within a
bounded time), then checks the site over HTTP; a failed check restores the deploy that was live
before (`POST /sites/{id}/deploys/{deploy_id}/restore`). The commit and a digest of the file set travel
in the deploy's title, so deciding that nothing changed costs one read of the site plus the health
check, and no deploy.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import Field, PrivateAttr, SecretStr

from pipeline_core.hashing import content_hash
from pipeline_core.repository.manifest import ComponentSpec
from resources.hosting.base import (
    DeploymentRecord,
    Environment,
    Hosting,
    HostingError,
    ReleaseRequest,
    Target,
    publish_files,
)
from resources.hosting.http_check import check_paths
from resources.hosting.netlify_api import NETLIFY_API_URL, NetlifyClient

_TITLE = re.compile(r"\bcommit=(?P<commit>[0-9A-Za-z._-]+)\s+files=(?P<files>[0-9a-f]+)\b")
_TITLE_API = re.compile(r"\bapi=(?P<api>https?://\S+)")
_NOT_IN_NAME = re.compile(r"[^a-z0-9-]+")


def site_name(prefix: str, project: str, component: str, environment: Environment) -> str:
    """The site's name, i.e. its `<name>.netlify.app` subdomain: lowercase, at most 63 characters."""
    suffix = "" if environment == "production" else f"-{environment}"
    name = _NOT_IN_NAME.sub("-", f"{prefix}{project}-{component}{suffix}".lower()).strip("-")
    if len(name) > 63:
        name = name[:54].rstrip("-") + "-" + content_hash(name, 8)
    return name


def file_digests(files: Mapping[str, bytes]) -> dict[str, str]:
    """Netlify's file map: '/path' -> SHA1 of the content."""
    return {"/" + path: hashlib.sha1(content).hexdigest() for path, content in sorted(files.items())}


def deploy_title(request: ReleaseRequest, files_digest: str) -> str:
    title = (
        f"ai-pipeline {request.project}/{request.component.name} {request.environment} "
        f"commit={request.commit} files={files_digest}"
    )
    return f"{title} api={request.api_url}" if request.api_url else title


def title_api_url(title: str | None) -> str | None:
    """The backend URL a deploy titled by `deploy_title` was published with."""
    match = _TITLE_API.search(title or "")
    return match["api"] if match else None


def parse_title(title: str | None) -> tuple[str | None, str | None]:
    """(commit, files digest) of a deploy titled by `deploy_title`; (None, None) for any other."""
    match = _TITLE.search(title or "")
    return (match["commit"], match["files"]) if match else (None, None)


def _site_url(site: Mapping[str, Any]) -> str | None:
    url = site.get("ssl_url") or site.get("url")
    return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None


def _time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.now(UTC)


class NetlifyHosting(Hosting):
    """Frontends on Netlify: a site per project/component/environment, digest deploys, health-checked,
    the previous deploy restored when the new one does not answer."""

    token: str = Field(repr=False, description="Netlify token (use dg.EnvVar('NETLIFY_AUTH_TOKEN')).")
    api_url: str = Field(default=NETLIFY_API_URL, description="Netlify API root.")
    site_prefix: str = Field(default="", description="Put before every site name (names are global).")
    account_slug: str | None = Field(
        default=None, description="Team to create sites in; default the token's."
    )
    ready_timeout_seconds: float = Field(default=300.0, ge=0, description="Most time a deploy may take.")
    poll_interval_seconds: float = Field(default=2.0, ge=0)
    health_timeout_seconds: float = Field(
        default=60.0, ge=0, description="Most time the site may take to answer."
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="Per request.")
    max_retries: int = Field(default=5, ge=0, description="Retries of 429 and 5xx answers.")
    backoff_factor: float = Field(default=0.5, ge=0)

    _client: NetlifyClient | None = PrivateAttr(default=None)

    @property
    def target(self) -> Target:
        return "netlify"

    def handles(self, component: ComponentSpec) -> bool:
        return component.kind == "frontend" and component.publish_dir is not None

    @property
    def client(self) -> NetlifyClient:
        if self._client is None:
            self._client = NetlifyClient(
                SecretStr(self.token),
                self.api_url,
                timeout_seconds=self.timeout_seconds,
                max_retries=self.max_retries,
                backoff_factor=self.backoff_factor,
            )
        return self._client

    def _name(self, project: str, environment: Environment, component: str) -> str:
        return site_name(self.site_prefix, project, component, environment)

    def _check(self, url: str | None, component: ComponentSpec, extra: list[str]) -> tuple[bool, str]:
        if not url:
            return False, "Netlify gave no http(s) URL for the site"
        return check_paths(url, [component.health, *extra], self.health_timeout_seconds)

    # --- reading -------------------------------------------------------------------------------

    def current(
        self, project: str, environment: Environment, component: ComponentSpec
    ) -> DeploymentRecord | None:
        site = self.client.find_site(self._name(project, environment, component.name))
        live = (site or {}).get("published_deploy") or {}
        if not site or not live.get("id"):
            return None
        commit, _ = parse_title(live.get("title"))
        url = _site_url(site)
        healthy, seen = self._check(url, component, [])
        return DeploymentRecord(
            project=project,
            environment=environment,
            component=component.name,
            kind=component.kind,
            target="netlify",
            commit=commit or "",
            url=url,
            version=str(live["id"]),
            health="healthy" if healthy else "unhealthy",
            status="deployed",
            reason=seen,
            deployed_at=_time(live.get("published_at")),
            api_url=title_api_url(live.get("title")),
        )

    # --- deploying -----------------------------------------------------------------------------

    def deploy(self, request: ReleaseRequest) -> DeploymentRecord:
        component = request.component
        content = publish_files(request)
        files = file_digests(content)
        files_digest = content_hash(files, 16)
        name = self._name(request.project, request.environment, component.name)
        site = self.client.ensure_site(name, self.account_slug)
        site_id = str(site.get("id") or name)
        live = site.get("published_deploy") or {}
        live_id = str(live["id"]) if live.get("id") else None
        live_commit, live_files = parse_title(live.get("title"))
        record = DeploymentRecord.for_release(
            request,
            "netlify",
            url=_site_url(site),
            previous_commit=live_commit,
            previous_version=live_id,
            api_url=request.api_url,
        )

        if live_id and (live_commit, live_files) == (request.commit, files_digest):
            healthy, seen = self._check(_site_url(site), component, request.checks)
            if healthy:
                return record.model_copy(
                    update={
                        "version": live_id,
                        "health": "healthy",
                        "status": "unchanged",
                        "reason": f"deploy {live_id} has these files of {request.commit}; {seen}",
                        "deployed_at": _time(live.get("published_at")),
                        "previous_commit": None,
                        "previous_version": None,
                    }
                )
            # Same files but not answering: deploy them again, and restore nothing worse.

        deploy = self.client.create_deploy(site_id, files, deploy_title(request, files_digest))
        deploy_id = str(deploy.get("id") or "")
        if not deploy_id:
            raise HostingError(f"Netlify created a deploy of {name} without an id")
        self._upload(deploy_id, deploy.get("required") or [], files, content)
        deploy, problem = self._wait_ready(deploy_id)
        if problem is not None:  # a deploy that never got ready is never published: the live one stays
            if live_id:
                return record.model_copy(
                    update={
                        "version": live_id,
                        "commit": live_commit or "",
                        "api_url": title_api_url(live.get("title")),
                        "status": "rolled_back",
                        "reason": f"{problem}; deploy {live_id} stays live",
                    }
                )
            return record.model_copy(update={"status": "failed", "reason": problem})

        url = _site_url(deploy) or _site_url(site)
        healthy, seen = self._check(url, component, request.checks)
        if healthy:
            return record.model_copy(
                update={"url": url, "version": deploy_id, "health": "healthy", "reason": seen}
            )
        if live_id and live_id != deploy_id:
            self.client.restore_deploy(site_id, live_id)
            return record.model_copy(
                update={
                    "url": url,
                    "version": live_id,
                    "commit": live_commit or "",
                    "api_url": title_api_url(live.get("title")),
                    "health": "unhealthy",
                    "status": "rolled_back",
                    "reason": f"deploy {deploy_id} failed its health check ({seen}); "
                    f"restored deploy {live_id}",
                }
            )
        return record.model_copy(
            update={
                "url": url,
                "version": deploy_id,
                "health": "unhealthy",
                "status": "failed",
                "reason": f"deploy {deploy_id} failed its health check ({seen}); "
                "no earlier deploy to restore",
            }
        )

    def _upload(
        self, deploy_id: str, required: list[str], files: Mapping[str, str], content: Mapping[str, bytes]
    ) -> None:
        """Upload each SHA1 Netlify asks for once (files with the same content share one upload)."""
        path_of: dict[str, str] = {}
        for path, sha in files.items():
            path_of.setdefault(sha, path)
        unknown = [sha for sha in required if sha not in path_of]
        if unknown:
            raise HostingError(
                f"Netlify asked deploy {deploy_id} for {len(unknown)} file(s) it does not have"
            )
        for sha in dict.fromkeys(required):
            path = path_of[sha]
            self.client.upload_file(deploy_id, path, content[path.lstrip("/")])

    def _wait_ready(self, deploy_id: str) -> tuple[dict[str, Any], str | None]:
        """Poll until `ready`: (deploy, None); on `error` or past the time limit: (deploy, why)."""
        deadline = time.monotonic() + self.ready_timeout_seconds
        while True:
            deploy = self.client.get_deploy(deploy_id)
            state = deploy.get("state")
            if state == "ready":
                return deploy, None
            if state == "error":
                message = deploy.get("error_message") or "no message"
                return deploy, f"Netlify deploy {deploy_id} ended in error: {message}"
            if time.monotonic() >= deadline:
                return deploy, (
                    f"Netlify deploy {deploy_id} was still {state!r} after {self.ready_timeout_seconds:g} s"
                )
            time.sleep(self.poll_interval_seconds)
