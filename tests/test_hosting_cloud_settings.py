"""The settings that move frontends to Netlify and backends to ECS, as `make_hosting` reads them."""

from __future__ import annotations

import dagster as dg
import pytest

from pipeline_core.repository.manifest import ComponentSpec, StartCommand
from pipeline_core.settings import Settings
from resources.hosting import EcsHosting, HostingRouter, LocalHosting, NetlifyHosting, make_hosting

FRONTEND = ComponentSpec(
    name="web", path="web", kind="frontend", runtime="static", test=["true"], publish_dir="web"
)
BACKEND = ComponentSpec(
    name="api",
    path="api",
    kind="backend",
    runtime="python",
    test=["true"],
    start=StartCommand(argv=["python", "-m", "app", "--port", "{port}"]),
    dockerfile="api/Dockerfile",
)
ECS = {
    "PIPELINE_ECS_CLUSTER": "apps",
    "PIPELINE_ECS_SUBNETS": "subnet-1, subnet-2",
    "PIPELINE_ECS_SECURITY_GROUPS": "sg-1",
    "PIPELINE_ECS_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/app-execution",
    "PIPELINE_ECS_CPU": "512",
    "PIPELINE_ECS_MEMORY": "2048",
}


def settings(monkeypatch: pytest.MonkeyPatch, tmp_path, **env: str) -> Settings:
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def test_without_cloud_settings_everything_is_local(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    router = make_hosting(settings(monkeypatch, tmp_path))
    assert isinstance(router.implementation(FRONTEND), LocalHosting)
    assert isinstance(router.implementation(BACKEND), LocalHosting)


def test_a_netlify_token_moves_frontends_and_an_ecs_cluster_moves_backends(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    router = make_hosting(settings(monkeypatch, tmp_path, NETLIFY_AUTH_TOKEN="nfp_x", **ECS))
    assert router.target_of(FRONTEND) == "netlify" and router.target_of(BACKEND) == "ecs"
    ecs = router.implementation(BACKEND)
    assert isinstance(ecs, EcsHosting)
    assert (ecs.cluster, ecs.subnets, ecs.security_groups, ecs.cpu, ecs.memory) == (
        "apps",
        ["subnet-1", "subnet-2"],
        ["sg-1"],
        512,
        2048,
    )
    # A backend without a dockerfile cannot run on ECS: it stays local.
    assert router.target_of(BACKEND.model_copy(update={"dockerfile": None})) == "local"
    assert "nfp_x" not in repr(router)


def test_local_keeps_everything_local(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    router = make_hosting(
        settings(monkeypatch, tmp_path, NETLIFY_AUTH_TOKEN="t", PIPELINE_HOSTING="local", **ECS)
    )
    assert router.target_of(FRONTEND) == "local" and router.target_of(BACKEND) == "local"


def test_an_incomplete_ecs_setting_names_what_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    with pytest.raises(ValueError, match="PIPELINE_ECS_SUBNETS, PIPELINE_ECS_EXECUTION_ROLE_ARN"):
        make_hosting(settings(monkeypatch, tmp_path, PIPELINE_ECS_CLUSTER="apps"))
    with pytest.raises(ValueError, match="does not fit cpu 256"):
        make_hosting(
            settings(
                monkeypatch, tmp_path, **(ECS | {"PIPELINE_ECS_CPU": "256", "PIPELINE_ECS_MEMORY": "4096"})
            )
        )


def test_the_netlify_token_reaches_the_resource_only_through_its_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    router = make_hosting(settings(monkeypatch, tmp_path, NETLIFY_AUTH_TOKEN="nfp_from_the_environment"))
    seen: dict[str, bool] = {}

    @dg.asset
    def probe(hosting: HostingRouter) -> None:
        netlify = hosting.netlify
        assert isinstance(netlify, NetlifyHosting)
        seen["resolved"] = netlify.token == "nfp_from_the_environment"

    result = dg.materialize([probe], resources={"hosting": router})
    assert result.success and seen == {"resolved": True}
