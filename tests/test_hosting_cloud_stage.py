"""The deployments stage's `deploy_commit` with the cloud implementations behind the router: the example
project's backend on ECS (moto's server) and its frontend on Netlify (Prism on the official document).

What crosses from one to the other is checked: the frontend is published with the backend's ECS URL
in its `config.js`, and a second deploy of the same commit is `unchanged` on both with status reads
only. The backend's public URL (`url_template`) and the Netlify site are `StandInSite`s on 127.0.0.1
(nothing of the generated code runs here); the Netlify deploy's states are scripted through the
proxy after Prism checked each request, as in `test_hosting_netlify.py`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from assets.deployments.deploy import deploy_commit
from assets.deployments.models import ValidationSummary
from pipeline_core.repository.manifest import MANIFEST_PATH, parse_manifest
from resources.hosting import EcsHosting, HostingRouter, LocalHosting, NetlifyHosting, ReleaseRequest
from resources.hosting.base import publish_files
from tests.support.ecs import REGION, MotoAws, moto_server
from tests.support.netlify import StandInSite, netlify_api, netlify_prism  # noqa: F401 (fixtures)
from tests.support.offline_build import acme_inputs, build_all
from tests.support.prism import PrismProxy

pytestmark = pytest.mark.integration

PROJECT = "acme-tasks"
COMMIT = "1a2b3c4d5e6f"
SITES = "/api/v1/sites"


@pytest.fixture(scope="module")
def example() -> tuple[dict[str, bytes], Any]:
    requirements, architecture = acme_inputs()
    tree = build_all(requirements, architecture).tree
    return {path: text.encode() for path, text in tree.items()}, architecture


@pytest.fixture
def api(netlify_api: PrismProxy) -> PrismProxy:  # noqa: F811
    return netlify_api


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoAws]:
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    with moto_server() as aws:
        yield aws


@pytest.fixture
def sites() -> Iterator[tuple[StandInSite, StandInSite]]:
    backend, frontend = StandInSite(), StandInSite()
    yield backend, frontend
    backend.close()
    frontend.close()


def router(aws: MotoAws, api: PrismProxy, backend_url: str, tmp_path: Path) -> HostingRouter:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.0.0/24")["Subnet"]["SubnetId"]
    aws.client("ecs").create_cluster(clusterName="apps")
    role = aws.client("iam").create_role(RoleName="exec", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    ecs = EcsHosting(
        cluster="apps",
        subnets=[subnet],
        execution_role_arn=role,
        region=REGION,
        url_template=backend_url,
        image_wait_seconds=2.0,
        image_poll_seconds=0.1,
        stable_delay_seconds=1,
        stable_max_attempts=3,
        health_timeout_seconds=0.0,
    ).use_clients(aws.client)
    netlify = NetlifyHosting(
        token="nfp_stage_token",
        api_url=f"{api.url}/api/v1",
        poll_interval_seconds=0.01,
        health_timeout_seconds=0.0,
        max_retries=0,
    )
    local = LocalHosting(root=str(tmp_path / "releases"), install_cache_dir=str(tmp_path / "cache"))
    return HostingRouter(local=local, netlify=netlify, ecs=ecs)


def push_image(aws: MotoAws) -> None:
    """What the generated CI does on a push: the backend image, tagged with the commit."""
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName=f"{PROJECT}/backend")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": "sha256:" + "a" * 64, "size": 10, "mediaType": "application/json"},
        "layers": [],
    }
    ecr.put_image(repositoryName=f"{PROJECT}/backend", imageManifest=json.dumps(manifest), imageTag=COMMIT)


def test_backend_on_ecs_and_frontend_on_netlify_through_the_stage(
    example: tuple[dict[str, bytes], Any],
    aws: MotoAws,
    api: PrismProxy,
    sites: tuple[StandInSite, StandInSite],
    tmp_path: Path,
) -> None:
    files, architecture = example
    backend_site, frontend_site = sites
    hosting = router(aws, api, backend_site.url, tmp_path)
    push_image(aws)
    api.override("GET", SITES, body=[], times=2)  # neither current() nor deploy() finds a site yet
    api.override(
        "POST",
        SITES,
        body={"id": "site-1", "name": "acme-tasks-frontend-preview", "ssl_url": frontend_site.url},
    )
    api.override("POST", rf"{SITES}/site-1/deploys", body={"id": "dep-1", "required": []})
    api.override("GET", r"/api/v1/deploys/dep-1", body={"id": "dep-1", "state": "ready"})

    manifest = parse_manifest(files[MANIFEST_PATH].decode())
    arguments: dict[str, Any] = {
        "project": PROJECT,
        "environment": "preview",
        "branch": "ai-pipeline/integration",
        "commit": COMMIT,
        "manifest": manifest,
        "files": files,
        "hosting": hosting,
        "openapi": architecture.openapi,
        "validation": ValidationSummary(commit=COMMIT, tests_pass=True, contract_matches=True),
        "cache_dir": tmp_path / "cache",
        "workdir_parent": tmp_path,
    }
    first = deploy_commit(**arguments)

    records = {record.component: record for record in first.records}
    backend, frontend = records["backend"], records["frontend"]
    assert (backend.target, backend.status, backend.health, backend.url) == (
        "ecs",
        "deployed",
        "healthy",
        backend_site.url,
    )
    assert backend.version and ":task-definition/acme-tasks-backend-preview:1" in backend.version
    assert (frontend.target, frontend.status, frontend.health) == ("netlify", "deployed", "healthy")
    # The stage's health path and one contract call reached the backend's public URL.
    assert backend_site.paths[0] == "/api/health" and len(backend_site.paths) >= 2
    # The frontend went to Netlify calling the backend where ECS runs it.
    sent = api.requests("POST", rf"{SITES}/site-1/deploys")[0]
    checkout = tmp_path / "frontend-checkout"
    for path, data in files.items():
        if path.startswith("frontend/"):
            (checkout / path).parent.mkdir(parents=True, exist_ok=True)
            (checkout / path).write_bytes(data)
    expected = publish_files(
        ReleaseRequest(
            project=PROJECT,
            environment="preview",
            component=manifest.component("frontend"),
            commit=COMMIT,
            source_dir=checkout / "frontend",
            api_url=backend_site.url,
        )
    )
    assert backend_site.url.encode() in expected["config.js"]
    assert sent.json()["files"] == {"/" + p: hashlib.sha1(c).hexdigest() for p, c in expected.items()}
    title = dict(parse_qsl(urlsplit(sent.path).query))["title"]
    assert f"commit={COMMIT}" in title and f"api={backend_site.url}" in title

    # The same commit again: unchanged on both, and nothing but status reads.
    api.exchanges.clear()
    live = {"id": "dep-1", "title": title, "published_at": "2026-12-02T01:00:00Z"}
    api.override(
        "GET",
        SITES,
        body=[
            {
                "id": "site-1",
                "name": "acme-tasks-frontend-preview",
                "ssl_url": frontend_site.url,
                "published_deploy": live,
            }
        ],
    )
    calls: list[str] = []
    ecs = hosting.ecs
    assert isinstance(ecs, EcsHosting)
    for client in ecs._clients.values():
        client.meta.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    second = deploy_commit(**arguments)
    assert [(r.component, r.status) for r in second.records] == [
        ("backend", "unchanged"),
        ("frontend", "unchanged"),
    ]
    assert [(e.method, e.path.split("?")[0]) for e in api.exchanges] == [("GET", SITES)]
    assert "DescribeServices" in calls and set(calls) <= {"DescribeServices", "DescribeTaskDefinition"}
