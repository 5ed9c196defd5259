"""ECS hosting against moto's server: the image wait, the task-definition revision, the guarded rollout.

Every AWS call goes through boto3 to `moto.server.ThreadedMotoServer` (ECR, ECS, Secrets Manager,
EC2 for the network). Moto has no scheduler: a service's `deployments` are computed once, when the
service is created (`rolloutState` COMPLETED when `MOTO_ECS_SERVICE_RUNNING` covers the desired
count), and `update_service` only changes the service's `taskDefinition`. So for rollouts over an
existing service the test plays the part of ECS's scheduler right after moto answered UpdateService
(`Scheduler`): it edits the service in moto's backend the way ECS would, either a completed
rollout (one PRIMARY deployment of the new revision) or a circuit-breaker rollback (the service back
on the earlier revision, the failure in its events). The fields edited are `task_definition`,
`deployments` and `events`; the hosting code reads them back through moto's real DescribeServices
serialisation, and the waiter is botocore's real `services_stable`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from pipeline_core.repository.manifest import ComponentSpec, StartCommand
from resources.hosting.base import HostingError, ReleaseRequest
from resources.hosting.ecs import EcsHosting, read_rollout
from tests.support.ecs import REGION, MotoAws, moto_server

pytestmark = pytest.mark.integration

CLUSTER = "apps"
SERVICE = "acme-tasks-backend-preview"


@pytest.fixture
def aws() -> Iterator[MotoAws]:
    """moto's server on a free port of 127.0.0.1, with a fresh account in it."""
    with moto_server() as aws:
        yield aws


@pytest.fixture
def account(aws: MotoAws, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("MOTO_ECS_SERVICE_RUNNING", "1")
    ec2, ecs, iam = aws.client("ec2"), aws.client("ecs"), aws.client("iam")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="apps", Description="apps", VpcId=vpc)["GroupId"]
    ecs.create_cluster(clusterName=CLUSTER)
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    role = iam.create_role(RoleName="app-execution", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    aws.client("ecr").create_repository(repositoryName="acme-tasks/backend")
    return {"subnet": subnet, "group": group, "execution_role": role}


def push_image(aws: MotoAws, commit: str) -> None:
    """What the generated CI workflow does: the image of the commit, tagged with its SHA."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": f"sha256:{commit * 4}", "size": 10, "mediaType": "application/json"},
        "layers": [],
    }
    aws.client("ecr").put_image(
        repositoryName="acme-tasks/backend", imageManifest=json.dumps(manifest), imageTag=commit
    )


class Scheduler:
    """Stands in for ECS's scheduler after each UpdateService moto answers (see the module docstring)."""

    def __init__(self, aws: MotoAws) -> None:
        self.aws = aws
        self.outcome = "complete"
        self.updates: list[dict[str, Any]] = []

    def service(self) -> Any:
        from moto.ecs.models import ecs_backends

        return ecs_backends[self.aws.account_id][REGION].services[f"{CLUSTER}:{SERVICE}"]

    def after_update(self) -> None:
        service = self.service()
        new, now = service.task_definition, datetime.now(UTC)
        deployment = dict(service.deployments[0])
        if self.outcome == "complete":
            deployment.update(
                id="ecs-svc/2",
                taskDefinition=new,
                rolloutState="COMPLETED",
                status="PRIMARY",
                updatedAt=now,
                rolloutStateReason="ECS deployment ecs-svc/2 completed.",
            )
            service.deployments = [deployment]
        else:  # the circuit breaker tripped and rolled back: ECS put the earlier revision back
            earlier = service.deployments[0]["taskDefinition"]
            service.task_definition = earlier
            deployment.update(
                id="ecs-svc/3", taskDefinition=earlier, rolloutState="COMPLETED", status="PRIMARY"
            )
            service.deployments = [deployment]
            service.events = [
                {"id": "e2", "createdAt": now, "message": f"(service {SERVICE}) rolling back to {earlier}."},
                {
                    "id": "e1",
                    "createdAt": now,
                    "message": f"(service {SERVICE}) (deployment ecs-svc/2) deployment failed: "
                    "tasks failed to start.",
                },
            ]


@pytest.fixture
def scheduler(aws: MotoAws) -> Scheduler:
    return Scheduler(aws)


@pytest.fixture
def calls() -> list[str]:
    return []


def make_hosting(
    aws: MotoAws, account: dict[str, Any], scheduler: Scheduler, calls: list[str], **extra: Any
) -> EcsHosting:
    def client(service: str) -> Any:
        made = aws.client(service)
        made.meta.events.register(
            "before-call.*.*", lambda model, **_: calls.append(f"{service}.{model.name}")
        )
        if service == "ecs":
            made.meta.events.register(
                "provide-client-params.ecs.UpdateService",
                lambda params, **_: scheduler.updates.append(dict(params)),
            )
            made.meta.events.register("after-call.ecs.UpdateService", lambda **_: scheduler.after_update())
        return made

    hosting = EcsHosting(
        cluster=CLUSTER,
        subnets=[account["subnet"]],
        security_groups=[account["group"]],
        execution_role_arn=account["execution_role"],
        cpu=512,
        memory=1024,
        region=REGION,
        image_wait_seconds=extra.pop("image_wait_seconds", 5.0),
        image_poll_seconds=0.1,
        stable_delay_seconds=1,
        stable_max_attempts=3,
        **extra,
    )
    return hosting.use_clients(client)


def backend() -> ComponentSpec:
    return ComponentSpec(
        name="backend",
        path="backend",
        kind="backend",
        runtime="python",
        test=["python", "-m", "unittest"],
        start=StartCommand(argv=["python", "-m", "app", "--port", "{port}"], env=["DATABASE_PATH"]),
        health="/api/health",
        dockerfile="backend/Dockerfile",
    )


def release(commit: str, secrets: dict[str, str] | None = None) -> ReleaseRequest:
    return ReleaseRequest(
        project="acme-tasks",
        environment="preview",
        component=backend(),
        commit=commit,
        source_dir=".",
        app_secrets={k: SecretStr(v) for k, v in (secrets or {"DATABASE_PASSWORD": "pw-1"}).items()},
        stories=["S-1"],
    )


@pytest.fixture
def hosting(aws: MotoAws, account: dict[str, Any], scheduler: Scheduler, calls: list[str]) -> EcsHosting:
    return make_hosting(aws, account, scheduler, calls)


# --- the first deploy ------------------------------------------------------------------------------


def test_first_deploy_registers_a_fargate_revision_with_secrets_by_arn(
    hosting: EcsHosting,
    aws: MotoAws,
    calls: list[str],
) -> None:
    push_image(aws, "aaaa111")
    ssm_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/acme/api-key"
    record = hosting.deploy(release("aaaa111", {"DATABASE_PASSWORD": "pw-1", "API_KEY": ssm_arn}))

    assert (record.status, record.target, record.commit, record.health) == (
        "deployed",
        "ecs",
        "aaaa111",
        "healthy",
    )
    assert record.version and record.version.endswith(":1") and record.previous_version is None
    ecs = aws.client("ecs")
    definition = ecs.describe_task_definition(taskDefinition=record.version)["taskDefinition"]
    assert definition["family"] == SERVICE
    assert (definition["networkMode"], definition["requiresCompatibilities"]) == ("awsvpc", ["FARGATE"])
    assert (definition["cpu"], definition["memory"]) == ("512", "1024")
    assert definition["executionRoleArn"].endswith(":role/app-execution")
    container = definition["containerDefinitions"][0]
    assert container["image"].endswith("/acme-tasks/backend:aaaa111")
    stored = aws.client("secretsmanager").get_secret_value(
        SecretId="ai-pipeline/acme-tasks/preview/DATABASE_PASSWORD"
    )
    assert stored["SecretString"] == "pw-1"
    assert sorted((s["name"], s["valueFrom"]) for s in container["secrets"]) == [
        ("API_KEY", ssm_arn),
        ("DATABASE_PASSWORD", stored["ARN"]),
    ]
    # No value of a secret, and nothing of the pipeline's own credentials, in plain environment.
    text = json.dumps(definition, default=str)
    assert "pw-1" not in text and aws.secret_access_key not in text and aws.access_key_id not in text
    assert container["environment"] == [{"name": "PORT", "value": "8000"}]
    service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert service["taskDefinition"] == record.version and service["launchType"] == "FARGATE"
    assert service["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == hosting.subnets
    assert "ecr.DescribeImages" in calls and "ecs.CreateService" in calls


def test_the_deploy_waits_for_the_ci_image(hosting: EcsHosting, aws: MotoAws, calls: list[str]) -> None:
    pusher = threading.Timer(0.5, push_image, args=(aws, "bbbb222"))
    pusher.start()
    started = time.monotonic()
    record = hosting.deploy(release("bbbb222"))
    pusher.join()
    assert record.status == "deployed" and time.monotonic() - started >= 0.5
    assert calls.count("ecr.DescribeImages") >= 2


def test_a_missing_image_fails_after_the_bounded_wait(
    aws: MotoAws,
    account: dict[str, Any],
    scheduler: Scheduler,
    calls: list[str],
) -> None:
    hosting = make_hosting(aws, account, scheduler, calls, image_wait_seconds=0.3)
    record = hosting.deploy(release("cccc333"))
    assert record.status == "failed" and "acme-tasks/backend:cccc333" in (record.reason or "")
    assert "ecs.RegisterTaskDefinition" not in calls and "ecs.CreateService" not in calls
    # With a revision already running, that one stays: the record says so.
    push_image(aws, "aaaa111")
    first = hosting.deploy(release("aaaa111"))
    calls.clear()
    record = hosting.deploy(release("dddd444"))
    assert (record.status, record.version, record.commit) == ("rolled_back", first.version, "aaaa111")
    assert "ecs.RegisterTaskDefinition" not in calls and "ecs.UpdateService" not in calls


# --- later deploys ---------------------------------------------------------------------------------


def test_a_new_commit_rolls_out_with_the_circuit_breaker(
    hosting: EcsHosting,
    aws: MotoAws,
    scheduler: Scheduler,
) -> None:
    push_image(aws, "aaaa111")
    first = hosting.deploy(release("aaaa111"))
    push_image(aws, "dddd444")
    second = hosting.deploy(release("dddd444"))

    assert (second.status, second.commit, second.health) == ("deployed", "dddd444", "healthy")
    assert second.version and second.version.endswith(":2")
    assert (second.previous_version, second.previous_commit) == (first.version, "aaaa111")
    update = scheduler.updates[0]
    assert update["taskDefinition"] == second.version
    assert update["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    service = aws.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {
        "enable": True,
        "rollback": True,
    }


def test_a_rollout_the_circuit_breaker_rolls_back_is_reported_rolled_back(
    hosting: EcsHosting,
    aws: MotoAws,
    scheduler: Scheduler,
) -> None:
    push_image(aws, "aaaa111")
    first = hosting.deploy(release("aaaa111"))
    push_image(aws, "eeee555")
    scheduler.outcome = "rollback"
    record = hosting.deploy(release("eeee555"))

    assert (record.status, record.health) == ("rolled_back", "unhealthy")
    assert (record.version, record.commit) == (first.version, "aaaa111")
    assert record.previous_version == first.version
    assert "tasks failed to start" in (record.reason or "") and ":2" in (record.reason or "")
    current = hosting.current("acme-tasks", "preview", backend())
    assert current is not None and (current.version, current.commit) == (first.version, "aaaa111")


def test_the_deployed_commit_again_costs_only_status_reads(
    hosting: EcsHosting,
    aws: MotoAws,
    calls: list[str],
) -> None:
    push_image(aws, "aaaa111")
    first = hosting.deploy(release("aaaa111"))
    calls.clear()
    again = hosting.deploy(release("aaaa111"))
    assert (again.status, again.version, again.health) == ("unchanged", first.version, "healthy")
    assert calls == ["ecs.DescribeServices", "ecs.DescribeTaskDefinition", "secretsmanager.GetSecretValue"]


def test_a_changed_secret_value_is_stored_and_rolled_out(
    hosting: EcsHosting,
    aws: MotoAws,
    calls: list[str],
) -> None:
    push_image(aws, "aaaa111")
    hosting.deploy(release("aaaa111", {"DATABASE_PASSWORD": "pw-1"}))
    record = hosting.deploy(release("aaaa111", {"DATABASE_PASSWORD": "pw-2"}))
    assert record.status == "deployed" and record.version and record.version.endswith(":2")
    stored = aws.client("secretsmanager").get_secret_value(
        SecretId="ai-pipeline/acme-tasks/preview/DATABASE_PASSWORD"
    )
    assert stored["SecretString"] == "pw-2"


def test_pipeline_credentials_are_refused_as_app_secrets(
    hosting: EcsHosting, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(HostingError, match="GITHUB_TOKEN"):
        hosting.deploy(release("aaaa111", {"GITHUB_TOKEN": "ghp_x"}))
    # Under another name too: the value of one of the pipeline's own credentials.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-pipeline-own-key")
    with pytest.raises(HostingError, match="LLM_KEY") as caught:
        hosting.deploy(release("aaaa111", {"LLM_KEY": "sk-ant-pipeline-own-key"}))
    assert "sk-ant" not in str(caught.value)
    assert calls == []


def test_fargate_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="does not fit cpu 256"):
        EcsHosting(cluster="c", subnets=["s-1"], execution_role_arn="arn:r", cpu=256, memory=4096)
    with pytest.raises(ValueError, match="not a Fargate size"):
        EcsHosting(cluster="c", subnets=["s-1"], execution_role_arn="arn:r", cpu=300, memory=512)


# --- the decision on describe_services answers ------------------------------------------------------


def test_read_rollout_on_a_failed_deployment_still_listed() -> None:
    """ECS may still list the failed deployment beside the rollback (rolloutState FAILED)."""
    service = {
        "taskDefinition": "arn:td:1",
        "deployments": [
            {"status": "PRIMARY", "taskDefinition": "arn:td:1", "rolloutState": "COMPLETED"},
            {
                "status": "ACTIVE",
                "taskDefinition": "arn:td:2",
                "rolloutState": "FAILED",
                "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start.",
            },
        ],
    }
    decision = read_rollout(service, "arn:td:2")
    assert decision.status == "rolled_back" and "circuit breaker" in decision.reason
    # Once ECS dropped the failed deployment, only events of this rollout explain it.
    now = datetime.now(UTC)
    dropped = {
        "taskDefinition": "arn:td:1",
        "deployments": service["deployments"][:1],
        "events": [
            {"createdAt": now, "message": "(service s) rolling back to arn:td:1."},
            {"createdAt": now - timedelta(days=2), "message": "(service s) deployment failed: an old one."},
        ],
    }
    decision = read_rollout(dropped, "arn:td:2", since=now - timedelta(minutes=1))
    assert decision.status == "rolled_back" and "rolling back" in decision.reason
    assert "old one" not in decision.reason
    assert (
        read_rollout(
            {
                "taskDefinition": "arn:td:2",
                "deployments": [
                    {
                        "status": "PRIMARY",
                        "taskDefinition": "arn:td:2",
                        "rolloutState": "FAILED",
                        "rolloutStateReason": "x",
                    }
                ],
            },
            "arn:td:2",
        ).status
        == "failed"
    )
    assert (
        read_rollout(
            {
                "taskDefinition": "arn:td:2",
                "deployments": [
                    {"status": "PRIMARY", "taskDefinition": "arn:td:2", "rolloutState": "COMPLETED"}
                ],
            },
            "arn:td:2",
        ).status
        == "deployed"
    )


def test_an_unhealthy_app_after_a_completed_rollout_is_rolled_back(
    aws: MotoAws,
    account: dict[str, Any],
    scheduler: Scheduler,
    calls: list[str],
) -> None:
    hosting = make_hosting(aws, account, scheduler, calls, url_template="http://{project}.apps.test")
    answers = iter([(True, "200"), (False, "http://acme-tasks.apps.test answered 503")])
    hosting.use_probe(lambda url, timeout: next(answers))
    push_image(aws, "aaaa111")
    first = hosting.deploy(release("aaaa111"))
    push_image(aws, "ffff666")
    record = hosting.deploy(release("ffff666"))
    assert (first.status, first.url) == ("deployed", "http://acme-tasks.apps.test")
    assert (record.status, record.version, record.commit) == ("rolled_back", first.version, "aaaa111")
    assert "503" in (record.reason or "")
    assert [u["taskDefinition"] for u in scheduler.updates] == [
        first.version.rsplit(":", 1)[0] + ":2",
        first.version,
    ]
