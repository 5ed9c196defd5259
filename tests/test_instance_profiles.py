"""The two dagster.yaml profiles in infra/dagster load, validate and configure what they promise.

The production profile is loaded verbatim against a private PostgreSQL cluster and moto's server
(where the run launcher looks up the run task definition), with the environment documented in
infra/README.md and nothing else.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.workspace.load import location_origins_from_yaml_paths
from dagster._grpc.client import DagsterGrpcClient
from dagster_aws.ecs import EcsRunLauncher
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

from infra.profiles import (
    EMBEDDED_PROFILE,
    PRODUCTION_PROFILE,
    PRODUCTION_WORKSPACE,
    documented_commands,
    documented_environment,
    env_references,
    load_profile,
)
from tests.support.dagster_daemon import BIN, ROOT, process_env, stop, wait_for
from tests.support.ecs import EcsAccount, ecs_account, moto_aws  # noqa: F401
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401

PROJECT_TAG_LIMIT = {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}


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


def test_embedded_profile_turns_off_telemetry_and_the_welcome_popup(
    embedded_instance: dg.DagsterInstance,
) -> None:
    assert embedded_instance.telemetry_enabled is False
    assert embedded_instance.nux_enabled is False
    assert embedded_instance.run_monitoring_enabled
    assert embedded_instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0


# -- production ----------------------------------------------------------------------------------


def test_production_profile_reads_only_documented_variables() -> None:
    documented = documented_environment()
    assert documented, "infra/README.md has no environment table"
    assert env_references(load_profile(PRODUCTION_PROFILE)) <= documented


def test_production_profile_leaves_secrets_to_the_run_task_definition() -> None:
    launcher = load_profile(PRODUCTION_PROFILE)["run_launcher"]["config"]
    # The stack's task definition carries the environment and the secrets (as ECS secrets); values
    # listed here would be copied into task definitions as plain text.
    assert "env_vars" not in launcher and "secrets" not in launcher
    assert launcher["secrets_tag"] is None, "a tag lookup needs secretsmanager:ListSecrets on *"
    assert set(launcher["task_definition"]) == {"env"}


@pytest.fixture
def production_env(
    postgres_server: PostgresServer,  # noqa: F811
    ecs_account: EcsAccount,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """Exactly the documented variables, for the private cluster and the account on moto."""
    documented = documented_environment()
    values = {
        **postgres_server.dagster_env(postgres_server.create_database("profile")),
        **{name: value for name, value in ecs_account.env.items() if name in documented},
    }
    assert set(values) == documented
    for name in documented | {"AWS_ENDPOINT_URL_S3"}:
        monkeypatch.delenv(name, raising=False)
    # Plus the endpoint and keys of moto's server, so no AWS call can leave the machine.
    for name, value in {**values, **ecs_account.aws.env}.items():
        monkeypatch.setenv(name, value)
    return values


def test_production_profile_loads_with_the_documented_environment(
    production_env: dict[str, str],
    ecs_account: EcsAccount,  # noqa: F811
    tmp_path: Path,
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
        # The family resolves to the newest revision when the launcher is built.
        assert launcher.task_definition == ecs_account.run_task_definition_arn
        assert launcher.container_name == "run"
        assert launcher.secrets_tags == [] and launcher.secrets == [] and launcher.env_vars == []

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
    assert len(read_by_profile) >= 8
    for index, name in enumerate(read_by_profile):
        with monkeypatch.context() as patch:
            patch.delenv(name)
            with pytest.raises(Exception, match=re.escape(name)):
                instance = _instance(tmp_path / f"home-{index}", PRODUCTION_PROFILE)
                try:
                    _touch_everything(instance)
                finally:
                    instance.dispose()


def test_production_workspace_reaches_the_code_server_started_as_documented(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = documented_commands()["code-location"]
    port = _free_port()
    # The documented command, bound to loopback on a free port instead of 0.0.0.0:4000.
    command[command.index("-h") + 1] = "127.0.0.1"
    command[command.index("-p") + 1] = str(port)
    assert command[0] == "dagster"
    environment = process_env(tmp_path / "dagster_home", {"PIPELINE_DATA_DIR": str(tmp_path / "data")})
    with (tmp_path / "code-server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(BIN / "dagster"), *command[1:]],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        client = DagsterGrpcClient(port=port, host="127.0.0.1")

        def answers() -> bool:
            with contextlib.suppress(Exception):
                return client.ping("ready")["echo"] == "ready"
            return False

        wait_for(
            answers,
            what="the code server",
            timeout=120,
            process=server,
            log_file=tmp_path / "code-server.log",
        )
        monkeypatch.setenv("DAGSTER_CODE_LOCATION_HOST", "127.0.0.1")
        monkeypatch.setenv("DAGSTER_CODE_LOCATION_PORT", str(port))
        [origin] = location_origins_from_yaml_paths([str(PRODUCTION_WORKSPACE)])
        assert origin.location_name == command[command.index("--location-name") + 1]
        with dg.instance_for_test() as instance, origin.create_location(instance) as location:
            [repository] = location.get_repositories().values()
            assert repository.has_job("project_pipeline")
            assert "bucket_sensor" in {sensor.name for sensor in repository.get_sensors()}
    finally:
        stop(server)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
