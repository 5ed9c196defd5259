"""The two dagster.yaml profiles in infra/dagster load, validate and configure what they promise.

The production profile is loaded verbatim against a private PostgreSQL cluster, with the environment
documented in infra/README.md and nothing else.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster_aws.ecs import EcsRunLauncher
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

from infra.profiles import (
    EMBEDDED_PROFILE,
    PRODUCTION_PROFILE,
    documented_production_environment,
    env_references,
    load_profile,
    run_env_vars,
    run_secret_names,
)
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401

README = Path(__file__).resolve().parents[1] / "infra" / "README.md"
PROJECT_TAG_LIMIT = {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}


def _readme_environment() -> set[str]:
    section = README.read_text().split("### Environment", 1)[1].split("\n### ", 1)[0]
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", section, re.M))


def _instance(home: Path, profile: Path) -> dg.DagsterInstance:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(profile, home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(home))


def _touch_everything(instance: dg.DagsterInstance) -> None:
    """Build every configured component (Dagster builds some lazily) so all config is resolved."""
    assert instance.run_launcher is not None
    assert instance.run_coordinator is not None
    assert instance.compute_log_manager is not None
    assert instance.get_concurrency_config() is not None
    instance.get_runs(limit=1)


# -- embedded ------------------------------------------------------------------------------------


@pytest.fixture
def embedded_instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    instance = _instance(tmp_path / "dagster_home", EMBEDDED_PROFILE)
    try:
        yield instance
    finally:
        instance.dispose()


def test_embedded_profile_keeps_sqlite_storage_under_dagster_home(
    embedded_instance: dg.DagsterInstance, tmp_path: Path
) -> None:
    assert "Sqlite" in type(embedded_instance.run_storage).__name__
    assert "Sqlite" in type(embedded_instance.event_log_storage).__name__
    embedded_instance.add_dynamic_partitions("projects", ["alpha"])
    assert embedded_instance.get_dynamic_partitions("projects") == ["alpha"]
    assert list((tmp_path / "dagster_home").rglob("*.db")), "no SQLite file under DAGSTER_HOME"
    assert type(embedded_instance.run_launcher).__name__ == "DefaultRunLauncher"


def test_embedded_profile_queues_runs_one_per_project_within_a_limit(
    embedded_instance: dg.DagsterInstance,
) -> None:
    assert isinstance(embedded_instance.run_coordinator, QueuedRunCoordinator)
    queue = embedded_instance.get_concurrency_config().run_queue_config
    assert queue is not None
    declared = load_profile(EMBEDDED_PROFILE)["concurrency"]["runs"]
    assert queue.max_concurrent_runs == declared["max_concurrent_runs"] > 0
    assert list(queue.tag_concurrency_limits) == [PROJECT_TAG_LIMIT]


def test_embedded_profile_limits_the_llm_pool(embedded_instance: dg.DagsterInstance) -> None:
    declared = load_profile(EMBEDDED_PROFILE)["concurrency"]["pools"]
    storage = embedded_instance.event_log_storage
    assert storage.supports_global_concurrency_limits
    # What the run worker does the first time a step of the pool runs.
    storage.initialize_concurrency_limit_to_default("llm")
    assert storage.get_concurrency_info("llm").slot_count == declared["default_limit"] > 0
    assert embedded_instance.get_concurrency_config().pool_config.pool_granularity.value == "op"


def test_embedded_profile_turns_off_telemetry_and_the_welcome_popup(embedded_instance: dg.DagsterInstance) -> None:
    assert embedded_instance.telemetry_enabled is False
    assert embedded_instance.nux_enabled is False
    assert embedded_instance.run_monitoring_enabled
    assert embedded_instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0


# -- production ----------------------------------------------------------------------------------


def test_production_environment_is_documented_exactly() -> None:
    documented = _readme_environment()
    assert documented, "infra/README.md has no environment table"
    assert documented == documented_production_environment()


def test_run_tasks_get_every_variable_the_profile_reads_and_secrets_only_as_secrets() -> None:
    profile = load_profile(PRODUCTION_PROFILE)
    plain, secret = set(run_env_vars(profile)), set(run_secret_names(profile))
    # A run worker rebuilds the instance from this file, so it needs all of its variables.
    assert env_references(profile) <= plain | secret
    assert not plain & secret
    assert {"DAGSTER_PG_PASSWORD", "ANTHROPIC_API_KEY", "GITHUB_TOKEN", "NETLIFY_AUTH_TOKEN"} <= secret
    for entry in profile["run_launcher"]["config"]["secrets"]:
        assert entry["valueFrom"]["env"].endswith("_SECRET_ARN"), entry
    references = [name for name in plain if name.endswith("_SECRET_ARN")]
    assert len(references) == len(secret), "each secret's ARN reaches the run (for re-launching)"
    assert not [name for name in set(plain) - set(references) if re.search(r"PASSWORD|_KEY$|_TOKEN$", name)]


def _production_environment(postgres: PostgresServer, database: str) -> dict[str, str]:
    """Every documented variable, with the database pointing at the private cluster."""
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ai-pipeline/{}-AbCdEf"
    values = {
        **postgres.dagster_env(database),
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "PIPELINE_INBOX": "s3://inbox-bucket",
        "PIPELINE_ARTIFACTS": "s3://artifacts-bucket",
        "DAGSTER_COMPUTE_LOGS_BUCKET": "artifacts-bucket",
        "DAGSTER_COMPUTE_LOGS_PREFIX": "dagster/compute-logs",
        "DAGSTER_RUN_TASK_ROLE_ARN": "arn:aws:iam::123456789012:role/code-location",
        "DAGSTER_RUN_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/run-execution",
        "DAGSTER_RUN_LOG_GROUP": "/ai-pipeline/runs",
        "DAGSTER_PG_PASSWORD_SECRET_ARN": arn.format("database") + ":password::",
        "ANTHROPIC_API_KEY_SECRET_ARN": arn.format("anthropic-api-key"),
        "GITHUB_TOKEN_SECRET_ARN": arn.format("github-token"),
        "NETLIFY_AUTH_TOKEN_SECRET_ARN": arn.format("netlify-auth-token"),
    }
    assert set(values) == _readme_environment() | {"DAGSTER_PG_PASSWORD"}
    return values


@pytest.fixture
def production_env(
    postgres_server: PostgresServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    values = _production_environment(postgres_server, postgres_server.create_database("profile"))
    for name in documented_production_environment() | {"DAGSTER_PG_PASSWORD", "AWS_ENDPOINT_URL_S3"}:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    # Loading makes no AWS call; should that change, it must not leave the machine.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    return values


def test_production_profile_loads_with_the_documented_environment(
    production_env: dict[str, str], tmp_path: Path
) -> None:
    instance = _instance(tmp_path / "home", PRODUCTION_PROFILE)
    try:
        _touch_everything(instance)
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        instance.add_dynamic_partitions("projects", ["alpha", "beta"])
        assert sorted(instance.get_dynamic_partitions("projects")) == ["alpha", "beta"]

        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        queue = instance.get_concurrency_config().run_queue_config
        assert queue is not None and list(queue.tag_concurrency_limits) == [PROJECT_TAG_LIMIT]
        assert queue.max_concurrent_runs > 1, "several projects must run in parallel"
        instance.event_log_storage.initialize_concurrency_limit_to_default("llm")
        assert instance.event_log_storage.get_concurrency_info("llm").slot_count > 0

        launcher = instance.run_launcher
        assert isinstance(launcher, EcsRunLauncher)
        assert launcher.task_role_arn == production_env["DAGSTER_RUN_TASK_ROLE_ARN"]
        assert launcher.execution_role_arn == production_env["DAGSTER_RUN_EXECUTION_ROLE_ARN"]
        assert launcher.task_definition_dict["log_group"] == production_env["DAGSTER_RUN_LOG_GROUP"]
        assert launcher.secrets_tags == [], "secrets are listed, never looked up by tag (ListSecrets)"
        assert {s["name"]: s["valueFrom"] for s in launcher.secrets} == {
            "DAGSTER_PG_PASSWORD": production_env["DAGSTER_PG_PASSWORD_SECRET_ARN"],
            "ANTHROPIC_API_KEY": production_env["ANTHROPIC_API_KEY_SECRET_ARN"],
            "GITHUB_TOKEN": production_env["GITHUB_TOKEN_SECRET_ARN"],
            "NETLIFY_AUTH_TOKEN": production_env["NETLIFY_AUTH_TOKEN_SECRET_ARN"],
        }

        logs = instance.compute_log_manager
        assert isinstance(logs, S3ComputeLogManager)
        assert logs._s3_bucket == production_env["DAGSTER_COMPUTE_LOGS_BUCKET"]
        assert logs._s3_prefix == production_env["DAGSTER_COMPUTE_LOGS_PREFIX"]

        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
        assert instance.telemetry_enabled is False and instance.nux_enabled is False
    finally:
        instance.dispose()


def test_production_profile_names_each_missing_variable(
    production_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_by_profile = sorted(env_references(load_profile(PRODUCTION_PROFILE)))
    assert len(read_by_profile) >= 10
    for index, name in enumerate(read_by_profile):
        with monkeypatch.context() as patch:
            patch.delenv(name)
            with pytest.raises(Exception, match=re.escape(name)):
                instance = _instance(tmp_path / f"home-{index}", PRODUCTION_PROFILE)
                try:
                    _touch_everything(instance)
                finally:
                    instance.dispose()
