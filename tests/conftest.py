"""Shared test settings: no test may reach a real service with a developer's credentials."""

from __future__ import annotations

import pytest

# Server fixtures (one per test session): SeaweedFS, the Messages API server, Prism, PostgreSQL,
# `dagster dev` with two projects built.
pytest_plugins = [
    "tests.support.seaweedfs",
    "tests.support.anthropic_server",
    "tests.support.prism",
    "tests.support.dagster_dev",
]

_CREDENTIAL_VARIABLES = (
    "ANTHROPIC_API_KEY",
    "GITHUB_TOKEN",
    "NETLIFY_AUTH_TOKEN",
    "PIPELINE_INBOX",
    "PIPELINE_ARTIFACTS",
    "PIPELINE_LLM_PROVIDER",
)


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _stop_local_releases(tmp_path_factory: pytest.TempPathFactory):
    """A pipeline run deploys its preview, and local hosting keeps releases running after the run:
    stop every release a test left under the session's temporary folders."""
    yield
    from resources.hosting.local import stop_releases_under

    stop_releases_under(tmp_path_factory.getbasetemp())
