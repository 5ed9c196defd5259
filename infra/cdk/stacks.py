"""The AWS stacks for production: an image registry, and the pipeline's buckets, database and ECS services.

What runs where (infra/README.md has the same in prose):

- `AiPipelineRegistry`: the ECR repository the code-location image is pushed to. Deployed first, so
  the image exists before any service asks for it.
- `AiPipeline`: the inbox and artifacts buckets, a PostgreSQL database (Dagster's run, event and
  schedule storage), an ECS cluster with three Fargate services from that one image (the Dagster
  webserver, the daemon, and the code location's gRPC server), the task definition of the runs (the
  daemon's `EcsRunLauncher` starts one Fargate task from it per run), the roles, the secrets and the
  log groups.

Every container gets the same environment: the variables infra/dagster/production.yaml and
pipeline_core/settings.py read; infra/README.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

APP_DIR = "/opt/dagster/app"
WORKSPACE_FILE = f"{APP_DIR}/infra/dagster/workspace.yaml"
CODE_LOCATION_NAME = "ai-pipeline"
CODE_LOCATION_PORT = 4000
WEBSERVER_PORT = 3000
CLOUD_MAP_NAMESPACE = "dagster.internal"
CODE_LOCATION_SERVICE_NAME = "code-location"
COMPUTE_LOGS_PREFIX = "dagster/compute-logs"
DATABASE_NAME = "dagster"
DATABASE_USER = "dagster"
# The daemon's EcsRunLauncher starts runs from the newest revision of this task definition family.
RUN_TASK_FAMILY = "ai-pipeline-run"
RUN_CONTAINER = "run"

# The command each service's container runs; infra/README.md documents the same (a test compares).
SERVICE_COMMANDS: dict[str, list[str]] = {
    "webserver": ["dagster-webserver", "-h", "0.0.0.0", "-p", str(WEBSERVER_PORT), "-w", WORKSPACE_FILE],
    "daemon": ["dagster-daemon", "run", "-w", WORKSPACE_FILE],
    "code-location": [
        "dagster",
        "code-server",
        "start",
        "-h",
        "0.0.0.0",
        "-p",
        str(CODE_LOCATION_PORT),
        "-m",
        "pipeline_defs.definitions",
        "--location-name",
        CODE_LOCATION_NAME,
    ],
}

# Application secrets: environment variable in the container -> Secrets Manager secret name.
APP_SECRETS: dict[str, str] = {
    "ANTHROPIC_API_KEY": "ai-pipeline/anthropic-api-key",
    "GITHUB_TOKEN": "ai-pipeline/github-token",
    "NETLIFY_AUTH_TOKEN": "ai-pipeline/netlify-auth-token",
}


@dataclass(frozen=True)
class PipelineStackSettings:
    """Sizes and counts a team tunes per deployment (`cdk deploy -c key=value`, see app.py)."""

    image_tag: str
    database_instance_type: str = "t4g.medium"
    database_multi_az: bool = False
    webserver_count: int = 1
    code_location_count: int = 1
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH


class RegistryStack(cdk.Stack):
    """The ECR repository for the code-location image (immutable tags, scanned on push)."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.repository = ecr.Repository(
            self,
            "CodeLocationImages",
            repository_name="ai-pipeline",
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.AES_256,
            lifecycle_rules=[ecr.LifecycleRule(description="keep the last 50 images", max_image_count=50)],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        cdk.CfnOutput(self, "RepositoryUri", value=self.repository.repository_uri)


class PipelineStack(cdk.Stack):
    """Buckets, database, ECS cluster and services, roles, secrets and log groups for one deployment."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository: ecr.IRepository,
        settings: PipelineStackSettings,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.image = ecs.ContainerImage.from_ecr_repository(repository, settings.image_tag)

        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=1,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                ec2.SubnetConfiguration(
                    name="services", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
                ec2.SubnetConfiguration(
                    name="database", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
        )
        self._buckets()
        self._database(settings)
        self._secrets()
        self._log_groups(settings)
        self._roles()
        self._cluster_and_services(settings)

    # -- storage ----------------------------------------------------------------------------------

    def _buckets(self) -> None:
        common = dict(
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # Versioned: a user who overwrites or deletes a document can get the earlier one back.
        self.inbox = s3.Bucket(
            self,
            "Inbox",
            versioned=True,
            lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=cdk.Duration.days(365))],
            **common,
        )
        self.artifacts = s3.Bucket(
            self,
            "Artifacts",
            lifecycle_rules=[
                s3.LifecycleRule(prefix=f"{COMPUTE_LOGS_PREFIX}/", expiration=cdk.Duration.days(90))
            ],
            **common,
        )

    def _database(self, settings: PipelineStackSettings) -> None:
        self.database = rds.DatabaseInstance(
            self,
            "Database",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17),
            instance_type=ec2.InstanceType(settings.database_instance_type),
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            credentials=rds.Credentials.from_generated_secret(
                DATABASE_USER, secret_name="ai-pipeline/database"
            ),
            database_name=DATABASE_NAME,
            multi_az=settings.database_multi_az,
            allocated_storage=20,
            max_allocated_storage=200,
            storage_encrypted=True,
            publicly_accessible=False,
            backup_retention=cdk.Duration.days(7),
            deletion_protection=True,
            removal_policy=cdk.RemovalPolicy.SNAPSHOT,
        )
        database_secret = self.database.secret
        assert database_secret is not None  # from_generated_secret always creates one
        self.database_secret = database_secret

    def _secrets(self) -> None:
        """Secrets Manager secrets for the service tokens; their values are set after deployment."""
        self.app_secrets: dict[str, secretsmanager.Secret] = {}
        for variable, secret_name in APP_SECRETS.items():
            construct_id = "".join(part.capitalize() for part in variable.lower().split("_"))
            self.app_secrets[variable] = secretsmanager.Secret(
                self,
                construct_id,
                secret_name=secret_name,
                description=f"{variable} for the ai-pipeline code location (set it with put-secret-value)",
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )

    def _log_groups(self, settings: PipelineStackSettings) -> None:
        self.log_groups = {
            name: logs.LogGroup(
                self,
                f"{name.title().replace('-', '')}Logs",
                log_group_name=f"/ai-pipeline/{name}",
                retention=settings.log_retention,
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            for name in ("webserver", "daemon", "code-location", "runs")
        }

    # -- identity ---------------------------------------------------------------------------------

    def _roles(self) -> None:
        ecs_tasks = iam.ServicePrincipal("ecs-tasks.amazonaws.com")

        # The code location (its gRPC server, which evaluates sensors, and every run task): it reads
        # the inbox and writes artifacts (asset values, the model-response cache, compute logs).
        self.code_location_role = iam.Role(
            self, "CodeLocationTaskRole", assumed_by=ecs_tasks, description="ai-pipeline code location"
        )
        self.inbox.grant_read(self.code_location_role)
        self.artifacts.grant_read(self.code_location_role)
        self.artifacts.grant_put(self.code_location_role)

        # What ECS itself needs to start a run task: pull the image, write its logs, resolve its
        # secrets (granted where the run task definition is built, from what it uses).
        self.run_execution_role = iam.Role(
            self, "RunExecutionRole", assumed_by=ecs_tasks, description="starts ai-pipeline run tasks"
        )

        self.webserver_role = iam.Role(self, "WebserverTaskRole", assumed_by=ecs_tasks)
        # The UI shows step logs, which the run tasks upload under the compute-logs prefix.
        self.artifacts.grant_read(self.webserver_role, f"{COMPUTE_LOGS_PREFIX}/*")

        self.daemon_role = iam.Role(self, "DaemonTaskRole", assumed_by=ecs_tasks)

    def _grant_run_control(self, role: iam.IRole, cluster: ecs.ICluster) -> None:
        """Describe and stop run tasks in the cluster (terminating a run from the UI does this)."""
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadRunTaskDefinition",
                # Every process that builds the run launcher looks the task definition up; IAM has
                # no resource-level permission for this action.
                actions=["ecs:DescribeTaskDefinition"],
                resources=["*"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="InspectAndStopRunTasks",
                actions=["ecs:DescribeTasks", "ecs:StopTask"],
                resources=[
                    self.format_arn(service="ecs", resource="task", resource_name=f"{cluster.cluster_name}/*")
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadRunTaskLogs",
                actions=["logs:GetLogEvents"],
                resources=[f"{self.log_groups['runs'].log_group_arn}:log-stream:*"],
            )
        )

    def _grant_run_launch(self, role: iam.IRole, cluster: ecs.ICluster) -> None:
        """What the daemon's EcsRunLauncher calls to start one Fargate task per run."""
        run_task_definitions = self.format_arn(
            service="ecs", resource="task-definition", resource_name=f"{RUN_TASK_FAMILY}:*"
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="RunTasksInThisCluster",
                actions=["ecs:RunTask"],
                resources=[run_task_definitions],
                conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="TagRunTasksAtLaunch",
                actions=["ecs:TagResource"],
                resources=[
                    self.format_arn(service="ecs", resource="task", resource_name=f"{cluster.cluster_name}/*")
                ],
                conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}},
            )
        )
        # The launcher copies its own task's subnets and security groups; IAM has no
        # resource-level permission for this lookup.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="ReadOwnNetworkConfiguration",
                actions=["ec2:DescribeNetworkInterfaces"],
                resources=["*"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PassRunRoles",
                actions=["iam:PassRole"],
                resources=[self.code_location_role.role_arn, self.run_execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )

    # -- compute ----------------------------------------------------------------------------------

    def _instance_environment(self) -> dict[str, str]:
        """The variables infra/dagster/production.yaml reads (the password comes as a secret)."""
        return {
            "DAGSTER_PG_HOST": self.database.db_instance_endpoint_address,
            "DAGSTER_PG_PORT": self.database.db_instance_endpoint_port,
            "DAGSTER_PG_USER": DATABASE_USER,
            "DAGSTER_PG_DB": DATABASE_NAME,
            "DAGSTER_COMPUTE_LOGS_BUCKET": self.artifacts.bucket_name,
            "DAGSTER_COMPUTE_LOGS_PREFIX": COMPUTE_LOGS_PREFIX,
            # A family, not a revision's ARN: the run task definition gets this environment too.
            "DAGSTER_RUN_TASK_DEFINITION": RUN_TASK_FAMILY,
            "DAGSTER_CODE_LOCATION_HOST": f"{CODE_LOCATION_SERVICE_NAME}.{CLOUD_MAP_NAMESPACE}",
            "DAGSTER_CODE_LOCATION_PORT": str(CODE_LOCATION_PORT),
            # The pipeline reads AWS_REGION; boto3 in Dagster's launcher and log manager reads the other.
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "PIPELINE_INBOX": f"s3://{self.inbox.bucket_name}",
            "PIPELINE_ARTIFACTS": f"s3://{self.artifacts.bucket_name}",
        }

    def _task_definition(
        self,
        name: str,
        *,
        role: iam.IRole,
        cpu: int,
        memory_mib: int,
        app_secrets: bool,
        port: int | None = None,
        execution_role: iam.IRole | None = None,
        family: str | None = None,
        docker_labels: dict[str, str] | None = None,
    ) -> ecs.FargateTaskDefinition:
        task_definition = ecs.FargateTaskDefinition(
            self,
            f"{name.title().replace('-', '')}Task",
            family=family or f"ai-pipeline-{name}",
            cpu=cpu,
            memory_limit_mib=memory_mib,
            task_role=role,
            execution_role=execution_role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        secrets = {"DAGSTER_PG_PASSWORD": ecs.Secret.from_secrets_manager(self.database_secret, "password")}
        if app_secrets:
            secrets |= {
                variable: ecs.Secret.from_secrets_manager(secret)
                for variable, secret in self.app_secrets.items()
            }
        task_definition.add_container(
            name,
            container_name=name,
            image=self.image,
            # Runs have no command of their own: the launcher gives each task `dagster api execute_run`.
            command=SERVICE_COMMANDS.get(name),
            environment=self._instance_environment(),
            secrets=secrets,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=name, log_group=self.log_groups["runs" if name == RUN_CONTAINER else name]
            ),
            port_mappings=[ecs.PortMapping(container_port=port, name=name)] if port else None,
            docker_labels=docker_labels,
            health_check=(
                ecs.HealthCheck(
                    command=["CMD", "dagster", "api", "grpc-health-check", "-p", str(CODE_LOCATION_PORT)],
                    start_period=cdk.Duration.seconds(120),
                )
                if name == "code-location"
                else None
            ),
        )
        return task_definition

    def _cluster_and_services(self, settings: PipelineStackSettings) -> None:
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            default_cloud_map_namespace=ecs.CloudMapNamespaceOptions(name=CLOUD_MAP_NAMESPACE, vpc=self.vpc),
        )
        services_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        deployment = dict(circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True))

        # Runs: 1 vCPU and 2 GiB each (a run may ask for more with the tags ecs/cpu and ecs/memory).
        self.run_task_definition = self._task_definition(
            RUN_CONTAINER,
            family=RUN_TASK_FAMILY,
            role=self.code_location_role,
            execution_role=self.run_execution_role,
            cpu=1024,
            memory_mib=2048,
            app_secrets=True,
        )
        self._grant_run_launch(self.daemon_role, self.cluster)
        self._grant_run_control(self.daemon_role, self.cluster)
        self._grant_run_control(self.webserver_role, self.cluster)

        code_location = ecs.FargateService(
            self,
            "CodeLocationService",
            cluster=self.cluster,
            task_definition=self._task_definition(
                "code-location",
                role=self.code_location_role,
                cpu=1024,
                memory_mib=2048,
                app_secrets=True,
                port=CODE_LOCATION_PORT,
            ),
            desired_count=settings.code_location_count,
            min_healthy_percent=100,
            vpc_subnets=services_subnets,
            cloud_map_options=ecs.CloudMapOptions(name=CODE_LOCATION_SERVICE_NAME),
            **deployment,
        )
        # Exactly one daemon, also during deployments: two would dequeue the same runs.
        daemon = ecs.FargateService(
            self,
            "DaemonService",
            cluster=self.cluster,
            task_definition=self._task_definition(
                "daemon",
                role=self.daemon_role,
                cpu=512,
                memory_mib=1024,
                app_secrets=False,
                # The launcher resolves the run family's newest revision when the daemon starts;
                # naming the revision here restarts the daemon whenever the run definition changes.
                docker_labels={
                    "ai-pipeline.run-task-definition": self.run_task_definition.task_definition_arn
                },
            ),
            desired_count=1,
            min_healthy_percent=0,
            max_healthy_percent=100,
            vpc_subnets=services_subnets,
            **deployment,
        )
        webserver = ecs.FargateService(
            self,
            "WebserverService",
            cluster=self.cluster,
            task_definition=self._task_definition(
                "webserver",
                role=self.webserver_role,
                cpu=512,
                memory_mib=1024,
                app_secrets=False,
                port=WEBSERVER_PORT,
            ),
            desired_count=settings.webserver_count,
            min_healthy_percent=100,
            vpc_subnets=services_subnets,
            **deployment,
        )
        # Run tasks inherit the daemon's security groups, so they reach the database through it.
        for service in (code_location, daemon, webserver):
            self.database.connections.allow_default_port_from(service, "Dagster storage")
        for client in (daemon, webserver):
            code_location.connections.allow_from(client, ec2.Port.tcp(CODE_LOCATION_PORT), "code server gRPC")

        # The UI stays inside the VPC: reach it over a VPN or an SSM port forward (infra/README.md).
        load_balancer = elbv2.ApplicationLoadBalancer(
            self, "WebserverLoadBalancer", vpc=self.vpc, internet_facing=False
        )
        listener = load_balancer.add_listener("Http", port=80, open=False)
        load_balancer.connections.allow_from(
            ec2.Peer.ipv4(self.vpc.vpc_cidr_block), ec2.Port.tcp(80), "UI in the VPC"
        )
        listener.add_targets(
            "Webserver",
            port=WEBSERVER_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[webserver],
            health_check=elbv2.HealthCheck(path="/server_info"),
        )
        self.services = {"code-location": code_location, "daemon": daemon, "webserver": webserver}

        cdk.CfnOutput(self, "InboxBucket", value=self.inbox.bucket_name)
        cdk.CfnOutput(self, "ArtifactsBucket", value=self.artifacts.bucket_name)
        cdk.CfnOutput(self, "WebserverUrl", value=f"http://{load_balancer.load_balancer_dns_name}")
        cdk.CfnOutput(self, "ClusterName", value=self.cluster.cluster_name)
        for variable, secret in self.app_secrets.items():
            cdk.CfnOutput(self, f"{variable.title().replace('_', '')}SecretName", value=secret.secret_name)
