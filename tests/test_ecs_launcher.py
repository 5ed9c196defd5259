"""The production profile's EcsRunLauncher starts one Fargate task per run, against moto's ECS server.

Everything is the production path except AWS itself: infra/dagster/production.yaml verbatim on a
private PostgreSQL cluster, runs submitted with `dagster job backfill` into the queue, and the real
`dagster-daemon` dequeuing them. The daemon believes it runs in an ECS task: the task-metadata
endpoint (served here) names its task in moto, whose cluster and network the runs must inherit.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from infra.profiles import PRODUCTION_PROFILE
from tests.support.dagster_daemon import backfill, running_daemon, wait_for
from tests.support.ecs import CLUSTER, EcsAccount, ecs_account, moto_aws, task_metadata_endpoint  # noqa: F401
from tests.support.postgres import PostgresServer, postgres_server  # noqa: F401

pytestmark = pytest.mark.integration


def _runs_by_project(instance: dg.DagsterInstance) -> dict[str, dg.DagsterRun]:
    return {run.tags["dagster/partition"]: run for run in instance.get_runs()}


def _engine_messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Each engine event's message with the error it carries, as a person sees them in the UI."""
    messages = []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is not None and event.event_type_value == "ENGINE_EVENT":
            error = event.engine_event_data.error
            messages.append(f"{entry.message}\n{error.to_string() if error else ''}")
    return messages


def test_each_run_is_a_fargate_task_and_a_failed_launch_is_reported(
    postgres_server: PostgresServer,  # noqa: F811
    ecs_account: EcsAccount,  # noqa: F811
    task_metadata_endpoint: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PRODUCTION_PROFILE, home / "dagster.yaml")
    env = {
        **ecs_account.env,
        **postgres_server.dagster_env(postgres_server.create_database("ecs")),
        "ECS_CONTAINER_METADATA_URI_V4": task_metadata_endpoint,
        "PIPELINE_DATA_DIR": str(tmp_path / "data"),
        "PIPELINE_LLM_PROVIDER": "offline",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    instance = dg.DagsterInstance.from_config(str(home))
    log_file = tmp_path / "daemon.log"
    try:
        instance.add_dynamic_partitions("projects", ["alpha", "beta", "gamma"])
        backfill(home, env, ["alpha", "gamma"])
        # A run whose RunTask call fails: ECS rejects the cluster this run asks for.
        backfill(home, env, ["beta"], tags={"ecs/run_task_kwargs": json.dumps({"cluster": "decommissioned"})})
        assert {run.status for run in instance.get_runs()} == {dg.DagsterRunStatus.QUEUED}

        with running_daemon(home, env, log_file) as daemon:

            def settled() -> dict[str, dg.DagsterRun] | None:
                runs = _runs_by_project(instance)
                launched = all("ecs/task_arn" in runs[p].tags for p in ("alpha", "gamma"))
                return runs if launched and runs["beta"].status == dg.DagsterRunStatus.FAILURE else None

            runs = wait_for(
                settled,
                what="two launched runs and one failed launch",
                timeout=240,
                process=daemon,
                log_file=log_file,
            )
    finally:
        instance.dispose()

    ecs = ecs_account.aws.client("ecs")
    tasks = {}
    for project in ("alpha", "gamma"):
        run = runs[project]
        arn = run.tags["ecs/task_arn"]
        [task] = ecs.describe_tasks(cluster=CLUSTER, tasks=[arn], include=["TAGS"])["tasks"]
        tasks[project] = task
        assert task["clusterArn"] == ecs_account.cluster_arn
        assert task["launchType"] == "FARGATE"
        [override] = task["overrides"]["containerOverrides"]
        assert override["name"] == "run"
        assert override["command"][:3] == ["dagster", "api", "execute_run"]
        assert run.run_id in override["command"][3]
        tags = {tag["key"]: tag["value"] for tag in task["tags"]}
        assert tags["dagster/run_id"] == run.run_id
        assert tags["dagster/partition"] == project
        # The run inherits the daemon's subnet (and security group) from its own task.
        [attachment] = task["attachments"]
        details = {detail["name"]: detail["value"] for detail in attachment["details"]}
        assert details["subnetId"] == ecs_account.subnet_id
        [interface] = ecs_account.aws.client("ec2").describe_network_interfaces(
            NetworkInterfaceIds=[details["networkInterfaceId"]]
        )["NetworkInterfaces"]
        assert [group["GroupId"] for group in interface["Groups"]] == [ecs_account.security_group_id]

    # Both runs use the stack's run task definition: nothing registered, no secret in the overrides.
    assert tasks["alpha"]["taskDefinitionArn"] == ecs_account.run_task_definition_arn
    assert tasks["gamma"]["taskDefinitionArn"] == ecs_account.run_task_definition_arn
    families = ecs.list_task_definition_families()["families"]
    assert sorted(families) == ["ai-pipeline-daemon", "ai-pipeline-run"]
    for task in tasks.values():
        [override] = task["overrides"]["containerOverrides"]
        assert set(override) <= {"name", "command", "cpu", "memory"}, "env or secrets added at launch"

    # The failed launch is on the run: failed, with ECS's reason, and no task was started for it.
    failed = runs["beta"]
    assert "ecs/task_arn" not in failed.tags
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        messages = _engine_messages(instance, failed.run_id)
    finally:
        instance.dispose()
    assert any("ClusterNotFoundException" in message for message in messages), messages
    all_task_arns = ecs.list_tasks(cluster=CLUSTER)["taskArns"]
    described = ecs.describe_tasks(cluster=CLUSTER, tasks=all_task_arns, include=["TAGS"])["tasks"]
    run_ids = {
        tag["value"] for task in described for tag in task.get("tags", []) if tag["key"] == "dagster/run_id"
    }
    assert failed.run_id not in run_ids
    assert run_ids == {runs["alpha"].run_id, runs["gamma"].run_id}
