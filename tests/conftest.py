"""Shared test settings: no test may reach a real service with a developer's credentials."""

from __future__ import annotations

import pytest

# Server fixtures (one per test session): SeaweedFS, the Messages API server, Prism, PostgreSQL.
pytest_plugins = [
    "tests.support.seaweedfs",
    "tests.support.anthropic_server",
    "tests.support.prism",
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
