"""Deploy credentials for the generated CI, set as Actions secrets: through Prism on GitHub's official
document (sealed with PyNaCl against a real key, since the document's example key has 33 bytes), and in
the local forge (names only)."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
from nacl.public import PrivateKey, SealedBox

from pipeline_core.settings import Settings
from resources.forge.github import GitHubForge
from resources.forge.local import LocalForge
from resources.hosting.ci_secrets import ci_deploy_secrets, prepare_ci_deploys
from tests.support.prism import PrismProxy

pytestmark = pytest.mark.integration

REPO = "/repos/octocat/shop"
ROLE = "arn:aws:iam::123456789012:role/ci-push"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz-never-leak"


def ecs_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    values = {
        "PIPELINE_ECS_CLUSTER": "apps",
        "PIPELINE_ECS_SUBNETS": "subnet-1",
        "PIPELINE_ECS_EXECUTION_ROLE_ARN": "arn:aws:iam::1:role/x",
        "AWS_REGION": "eu-west-1",
    } | env
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return Settings()


@pytest.fixture
def key(github_api: PrismProxy) -> PrivateKey:
    private = PrivateKey.generate()
    body = {"key_id": "568250167242549743", "key": base64.b64encode(bytes(private.public_key)).decode()}
    github_api.override("GET", rf"{REPO}/actions/secrets/public-key", body=body)
    return private


def forge(github_api: PrismProxy) -> GitHubForge:
    return GitHubForge(
        token="ghp_test_token",
        owner="octocat",
        api_url=github_api.url,
        max_retries=0,
        seconds_between_requests=0,
        seconds_between_writes=0,
    )


def opened(github_api: PrismProxy, key: PrivateKey) -> dict[str, str]:
    box = SealedBox(key)
    return {
        put.path.rsplit("/", 1)[1]: box.decrypt(base64.b64decode(put.json()["encrypted_value"])).decode()
        for put in github_api.requests("PUT", rf"{REPO}/actions/secrets/[A-Z_]+")
    }


def test_the_role_is_sealed_for_the_repository_and_ci_is_started_once(
    github_api: PrismProxy, key: PrivateKey, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = ecs_settings(monkeypatch, PIPELINE_CI_AWS_ROLE_ARN=ROLE)
    setup = prepare_ci_deploys(
        forge(github_api), "shop", settings, branches=["ai-pipeline/integration", "main"]
    )
    assert opened(github_api, key) == {"AWS_REGION": "eu-west-1", "AWS_ROLE_ARN": ROLE}
    assert {put.json()["key_id"] for put in github_api.requests("PUT")} == {"568250167242549743"}
    assert (setup.written, setup.secrets) == (True, ["AWS_REGION", "AWS_ROLE_ARN"])
    dispatches = github_api.requests("POST", rf"{REPO}/actions/workflows/ci.yml/dispatches")
    assert [d.json()["ref"] for d in dispatches] == ["ai-pipeline/integration", "main"]
    assert setup.dispatched == ["ai-pipeline/integration", "main"]
    assert ROLE not in setup.model_dump_json() and ROLE not in caplog.text

    # The next run with the same secrets sends nothing at all.
    github_api.exchanges.clear()
    again = prepare_ci_deploys(
        forge(github_api), "shop", settings, previous_fingerprint=setup.fingerprint, branches=["main"]
    )
    assert (again.written, again.fingerprint, github_api.exchanges) == (False, setup.fingerprint, [])


def test_changed_keys_are_set_again_without_a_new_dispatch(
    github_api: PrismProxy, key: PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = prepare_ci_deploys(
        forge(github_api),
        "shop",
        ecs_settings(
            monkeypatch, PIPELINE_CI_AWS_ACCESS_KEY_ID="AKIAOLD", PIPELINE_CI_AWS_SECRET_ACCESS_KEY=SECRET_KEY
        ),
    )
    github_api.exchanges.clear()
    settings = ecs_settings(monkeypatch, PIPELINE_CI_AWS_ACCESS_KEY_ID="AKIANEW")
    second = prepare_ci_deploys(
        forge(github_api), "shop", settings, previous_fingerprint=first.fingerprint, branches=["main"]
    )
    assert second.written and second.fingerprint != first.fingerprint
    assert opened(github_api, key) == {
        "AWS_ACCESS_KEY_ID": "AKIANEW",
        "AWS_REGION": "eu-west-1",
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }
    assert not github_api.requests("POST") and SECRET_KEY not in second.model_dump_json()


def test_a_failed_dispatch_is_reported_not_raised(
    github_api: PrismProxy, key: PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_api.override(
        "POST", rf"{REPO}/actions/workflows/ci.yml/dispatches", status=404, body={"message": "no"}
    )
    setup = prepare_ci_deploys(
        forge(github_api), "shop", ecs_settings(monkeypatch, PIPELINE_CI_AWS_ROLE_ARN=ROLE), branches=["main"]
    )
    assert setup.written and setup.dispatched == [] and "404" in setup.note


def test_the_local_forge_keeps_only_the_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = LocalForge(root=str(tmp_path / "forge"))
    local.ensure_repository("shop")
    settings = ecs_settings(monkeypatch, PIPELINE_CI_AWS_ROLE_ARN=ROLE)
    setup = prepare_ci_deploys(local, "shop", settings, branches=["main"])
    assert local.list_actions_secrets("shop") == ["AWS_REGION", "AWS_ROLE_ARN"]
    assert setup.written and setup.dispatched == []
    stored = "".join(p.read_text(errors="replace") for p in (tmp_path / "forge").rglob("*.json"))
    assert ROLE not in stored


def test_which_secrets_ci_needs(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ci_deploy_secrets(Settings()) == ({}, "")  # nothing on ECS: CI needs no credentials
    secrets, note = ci_deploy_secrets(ecs_settings(monkeypatch))
    assert secrets == {} and "PIPELINE_CI_AWS_ROLE_ARN" in note
    secrets, _ = ci_deploy_secrets(ecs_settings(monkeypatch, PIPELINE_CI_AWS_ROLE_ARN=ROLE))
    assert sorted(secrets) == ["AWS_REGION", "AWS_ROLE_ARN"]
    assert ROLE not in repr(secrets)
