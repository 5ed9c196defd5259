"""An AWS account on moto's server, shaped like the production stack, for the ECS run launcher.

`moto_server` (and the fixture `moto_aws`) starts `moto.server.ThreadedMotoServer` on 127.0.0.1
with a free port and opens a fresh AWS account in it (moto keeps its state per process, shared by
every server in it, so each test gets its own account and keys instead of a reset that would wipe
other fixtures'). `ecs_account` creates in it what infra/cdk/stacks.py creates in AWS and the
launcher touches: a VPC subnet and a security group, the cluster, the daemon's own running Fargate
task, the run task definition (with its roles, secrets and log group, as the stack registers it)
and the buckets.
`task_metadata_endpoint` serves the ECS task-metadata endpoint v4 for that daemon task
(`ECS_CONTAINER_METADATA_URI_V4`), so the launcher finds its cluster and network the way it does
inside a Fargate task.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest

REGION = "us-east-1"
CLUSTER = "ai-pipeline"
RUN_TASK_FAMILY = "ai-pipeline-run"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ai-pipeline:test-1a2b3c"


@dataclass(frozen=True)
class MotoAws:
    endpoint: str
    account_id: str
    access_key_id: str
    secret_access_key: str

    @property
    def env(self) -> dict[str, str]:
        """Variables that send every boto3 client (in any process) to this server and account only."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self, service: str):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )


def _open_account(endpoint: str) -> MotoAws:
    """A new account on the server: moto maps requests to it by the access key created here."""
    account_id = str(secrets.randbelow(9 * 10**11) + 10**11)
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def in_new_account(request, **_kwargs) -> None:
        request.headers["x-moto-account-id"] = account_id

    iam.meta.events.register("before-sign.iam.*", in_new_account)
    iam.create_user(UserName="tests")
    key = iam.create_access_key(UserName="tests")["AccessKey"]
    return MotoAws(
        endpoint=endpoint,
        account_id=account_id,
        access_key_id=key["AccessKeyId"],
        secret_access_key=key["SecretAccessKey"],
    )


@contextmanager
def moto_server() -> Iterator[MotoAws]:
    """moto's server on a free port of 127.0.0.1, with a fresh account in it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield _open_account(f"http://{host}:{port}")
    finally:
        server.stop()


@pytest.fixture
def moto_aws() -> Iterator[MotoAws]:
    with moto_server() as aws:
        yield aws


@dataclass(frozen=True)
class EcsAccount:
    aws: MotoAws
    cluster_arn: str
    subnet_id: str
    security_group_id: str
    daemon_task_arn: str
    run_task_definition_arn: str
    secret_arns: dict[str, str]
    """Variable in the run container -> `valueFrom` (the database password is a JSON key)."""
    env: dict[str, str]
    """The production environment (infra/README.md) for this account, minus the database."""


def create_ecs_account(aws: MotoAws) -> EcsAccount:
    ec2, ecs, iam = aws.client("ec2"), aws.client("ecs"), aws.client("iam")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # As the CDK VPC has it (and moto's awsvpc tasks need it: their ENI gets a private DNS name).
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.4.0/22")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="daemon", Description="daemon and runs", VpcId=vpc)["GroupId"]
    cluster_arn = ecs.create_cluster(clusterName=CLUSTER)["cluster"]["clusterArn"]

    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    task_role = iam.create_role(RoleName="code-location", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    execution_role = iam.create_role(RoleName="run-execution", AssumeRolePolicyDocument=trust)["Role"]["Arn"]

    secrets = aws.client("secretsmanager")
    secret_arns = {
        name: secrets.create_secret(Name=f"ai-pipeline/{slug}", SecretString=f"placeholder-{slug}")["ARN"]
        for name, slug in {
            "DAGSTER_PG_PASSWORD": "database",
            "ANTHROPIC_API_KEY": "anthropic-api-key",
            "GITHUB_TOKEN": "github-token",
            "NETLIFY_AUTH_TOKEN": "netlify-auth-token",
        }.items()
    }
    secret_arns["DAGSTER_PG_PASSWORD"] += ":password::"
    aws.client("logs").create_log_group(logGroupName="/ai-pipeline/runs")
    # Bucket names are global on the server, as on AWS.
    inbox, artifacts = f"inbox-{aws.account_id}", f"artifacts-{aws.account_id}"
    s3 = aws.client("s3")
    for bucket in (inbox, artifacts):
        s3.create_bucket(Bucket=bucket)

    # The daemon's own task, as the ECS service would run it (moto needs `memory` on the container).
    ecs.register_task_definition(
        family="ai-pipeline-daemon",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="1024",
        containerDefinitions=[{"name": "daemon", "image": IMAGE, "memory": 1024, "essential": True}],
    )
    daemon_task = ecs.run_task(
        cluster=CLUSTER,
        taskDefinition="ai-pipeline-daemon",
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [subnet],
                "securityGroups": [group],
                "assignPublicIp": "DISABLED",
            }
        },
    )["tasks"][0]["taskArn"]

    env = {
        **aws.env,
        "PIPELINE_INBOX": f"s3://{inbox}",
        "PIPELINE_ARTIFACTS": f"s3://{artifacts}",
        "DAGSTER_COMPUTE_LOGS_BUCKET": artifacts,
        "DAGSTER_COMPUTE_LOGS_PREFIX": "dagster/compute-logs",
        "DAGSTER_RUN_TASK_DEFINITION": RUN_TASK_FAMILY,
        "DAGSTER_CODE_LOCATION_HOST": "code-location.dagster.internal",
        "DAGSTER_CODE_LOCATION_PORT": "4000",
    }
    # The runs' task definition as the stack registers it, secrets as ECS secrets. (Its environment
    # leaves out the database: nothing executes in moto's tasks.)
    run_task_definition = ecs.register_task_definition(
        family=RUN_TASK_FAMILY,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="1024",
        memory="2048",
        taskRoleArn=task_role,
        executionRoleArn=execution_role,
        containerDefinitions=[
            {
                "name": "run",
                "image": IMAGE,
                "memory": 2048,
                "essential": True,
                "environment": [
                    {"name": name, "value": value}
                    for name, value in env.items()
                    if name not in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
                ],
                "secrets": [{"name": name, "valueFrom": arn} for name, arn in secret_arns.items()],
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/ai-pipeline/runs",
                        "awslogs-region": REGION,
                        "awslogs-stream-prefix": "run",
                    },
                },
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return EcsAccount(
        aws=aws,
        cluster_arn=cluster_arn,
        subnet_id=subnet,
        security_group_id=group,
        daemon_task_arn=daemon_task,
        run_task_definition_arn=run_task_definition,
        secret_arns=secret_arns,
        env=env,
    )


@pytest.fixture
def ecs_account(moto_aws: MotoAws) -> EcsAccount:
    return create_ecs_account(moto_aws)


class _TaskMetadataHandler(BaseHTTPRequestHandler):
    task: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path.rstrip("/").endswith("/task"):
            body = json.dumps(self.task).encode()
        else:  # the container's own metadata
            body = json.dumps({"Name": "daemon"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def task_metadata_endpoint(ecs_account: EcsAccount) -> Iterator[str]:
    """ECS_CONTAINER_METADATA_URI_V4 for the daemon's task in `ecs_account`."""
    handler = type(
        "Handler",
        (_TaskMetadataHandler,),
        {"task": {"Cluster": ecs_account.cluster_arn, "TaskARN": ecs_account.daemon_task_arn}},
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v4/daemon"
    finally:
        server.shutdown()
        server.server_close()
