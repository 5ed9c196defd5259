"""ECS Fargate hosting for backends: the CI-built image, a task-definition revision, a guarded rollout.

The generated repository's CI workflow builds the backend's `dockerfile` and pushes it to ECR as
`<project>/<component>:<commit>`. A deploy waits (bounded) for that image, registers a revision of the
task definition `<project>-<component>-<environment>` (Fargate, awsvpc, the configured cpu/memory and
execution role, the app's secrets as `secrets` whose `valueFrom` are Secrets Manager or SSM ARNs, never
plain values, and no credential of the pipeline), points the service at it with the deployment
circuit breaker and rollback on, and waits with the `services_stable` waiter. A circuit-breaker
rollback ends "stable" too, so the outcome is read from the service afterwards: the task definition it
runs and the `rolloutState` of the deployment of the new revision.

An app secret whose value is already a Secrets Manager or SSM ARN is referenced as it is; any other
value is stored by the pipeline in Secrets Manager under `ai-pipeline/<project>/<environment>/<NAME>`
(written only when it changed) and referenced by ARN.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError, WaiterError
from pydantic import BaseModel, Field, PrivateAttr, SecretStr, field_validator, model_validator

from pipeline_core.repository.manifest import ComponentSpec
from resources.hosting.base import (
    DeploymentRecord,
    Environment,
    Hosting,
    HostingError,
    ReleaseRequest,
    Target,
)
from resources.hosting.http_check import http_health, join_url

# Valid Fargate task sizes: cpu units -> allowed memory (MiB).
FARGATE_SIZES: dict[int, range] = {
    256: range(512, 2049, 512),
    512: range(1024, 4097, 1024),
    1024: range(2048, 8193, 1024),
    2048: range(4096, 16385, 1024),
    4096: range(8192, 30721, 1024),
    8192: range(16384, 61441, 4096),
    16384: range(32768, 122881, 8192),
}
_ARN_SECRET = re.compile(r"^arn:aws[a-z-]*:(secretsmanager|ssm):")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# Credentials of the pipeline itself: never given to a deployed application, under any name we know.
PIPELINE_CREDENTIALS = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "GITHUB_TOKEN",
        "NETLIFY_AUTH_TOKEN",
        "ANTHROPIC_API_KEY",
        "DAGSTER_PG_PASSWORD",
    }
)


def resource_name(project: str, component: str, environment: Environment) -> str:
    """The service and task-definition family: letters, digits, '-' and '_' (at most 255)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{project}-{component}-{environment}")[:255]


def ecr_repository(project: str, component: str) -> str:
    """The ECR repository the generated CI workflow pushes to (`<repository name>/<component>`)."""
    return f"{project}/{component}"


def secret_name(project: str, environment: Environment, name: str) -> str:
    return f"ai-pipeline/{project}/{environment}/{name}"


def image_tag(image: str | None) -> str | None:
    if not image or ":" not in image.rsplit("/", 1)[-1]:
        return None
    return image.rsplit(":", 1)[1]


class Rollout(BaseModel):
    """What the service shows after the waiter: the decision of `read_rollout`."""

    status: Literal["deployed", "rolled_back", "failed"]
    running: str | None
    reason: str


def read_rollout(service: Mapping[str, Any], new_arn: str, since: datetime | None = None) -> Rollout:
    """Decide how a rollout of `new_arn` ended from a `describe_services` service.

    The circuit breaker's rollback leaves the service on the earlier revision and the new revision's
    deployment `FAILED`; both end "stable" for the waiter, so neither stability nor the PRIMARY flag
    alone says the new revision runs. Only events from `since` on explain a rollback.
    """
    running = service.get("taskDefinition")
    deployments = service.get("deployments") or []
    ours = next((d for d in deployments if d.get("taskDefinition") == new_arn), None)
    state = (ours or {}).get("rolloutState")
    why = (ours or {}).get("rolloutStateReason") or ""
    if not why and running != new_arn:
        # Once the rollback is done ECS drops the failed deployment: its events say why (newest first).
        messages = [
            str(event.get("message") or "")
            for event in service.get("events") or []
            if since is None
            or not isinstance(event.get("createdAt"), datetime)
            or event["createdAt"] >= since
        ]
        why = next((m for m in messages if re.search(r"fail", m, re.I)), "") or next(
            (m for m in messages if re.search(r"roll", m, re.I)), ""
        )
    if running != new_arn:
        return Rollout(
            status="rolled_back",
            running=running,
            reason=f"the deployment of {new_arn} was rolled back to {running}" + (f": {why}" if why else ""),
        )
    if state == "FAILED":
        return Rollout(status="failed", running=running, reason=f"the rollout of {new_arn} failed: {why}")
    if state == "COMPLETED":
        return Rollout(status="deployed", running=running, reason=why or "rollout completed")
    return Rollout(
        status="failed",
        running=running,
        reason=f"the rollout of {new_arn} did not complete (rolloutState {state or 'unknown'})",
    )


class EcsHosting(Hosting):
    """Backends on ECS Fargate through boto3 (credentials and region from boto3's usual chain)."""

    cluster: str = Field(min_length=1, description="ECS cluster the services run in.")
    subnets: list[str] = Field(min_length=1, description="awsvpc subnets of the tasks.")
    security_groups: list[str] = Field(default_factory=list)
    execution_role_arn: str = Field(
        min_length=1, description="Role ECS uses to pull the image, read the secrets and write logs."
    )
    task_role_arn: str | None = Field(default=None, description="Role of the app itself, if it calls AWS.")
    assign_public_ip: bool = False
    cpu: int = Field(default=256, description="Fargate cpu units.")
    memory: int = Field(default=512, description="Fargate memory (MiB), valid for `cpu`.")
    container_port: int = Field(default=8000, ge=1, le=65535)
    desired_count: int = Field(default=1, ge=1)
    log_group: str | None = Field(default=None, description="awslogs group; unset: no log configuration.")
    region: str | None = Field(default=None, description="AWS region; unset: boto3's default.")
    url_template: str | None = Field(
        default=None,
        description="Public URL of a service, e.g. https://{project}-{environment}.example.com "
        "({project}, {component}, {environment}); unset: no URL, ECS's own health decides.",
    )
    image_wait_seconds: float = Field(default=900.0, ge=0, description="Most time to wait for CI's image.")
    image_poll_seconds: float = Field(default=15.0, gt=0)
    stable_delay_seconds: int = Field(default=15, ge=1, description="services_stable waiter delay.")
    stable_max_attempts: int = Field(default=60, ge=1, description="services_stable waiter attempts.")
    health_timeout_seconds: float = Field(default=60.0, ge=0)

    _clients: dict[str, Any] = PrivateAttr(default_factory=dict)
    _client_factory: Callable[[str], Any] | None = PrivateAttr(default=None)
    _probe: Callable[[str, float], tuple[bool, str]] | None = PrivateAttr(default=None)

    @field_validator("subnets", "security_groups", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _fargate_size(self) -> EcsHosting:
        allowed = FARGATE_SIZES.get(self.cpu)
        if allowed is None:
            raise ValueError(f"ECS cpu {self.cpu} is not a Fargate size: one of {sorted(FARGATE_SIZES)}")
        if self.memory not in allowed:
            raise ValueError(
                f"ECS memory {self.memory} does not fit cpu {self.cpu}: "
                f"{allowed.start}-{allowed.stop - 1} MiB in steps of {allowed.step}"
            )
        return self

    @property
    def target(self) -> Target:
        return "ecs"

    def handles(self, component: ComponentSpec) -> bool:
        return component.kind == "backend" and component.dockerfile is not None

    def use_clients(self, factory: Callable[[str], Any]) -> EcsHosting:
        """Build AWS clients with `factory(service_name)` (tests hook events on them)."""
        self._client_factory = factory
        self._clients = {}
        return self

    def use_probe(self, probe: Callable[[str, float], tuple[bool, str]]) -> EcsHosting:
        """Check URLs with `probe(url, timeout)` instead of HTTP GET (tests: a public URL of no server)."""
        self._probe = probe
        return self

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            if self._client_factory is None:
                import boto3

                self._client_factory = boto3.session.Session(region_name=self.region).client
            self._clients[service] = self._client_factory(service)
        return self._clients[service]

    # --- reading -------------------------------------------------------------------------------

    def _service(self, name: str) -> dict[str, Any] | None:
        answer = self._call("ecs", "describe_services", cluster=self.cluster, services=[name])
        services = [s for s in answer.get("services") or [] if s.get("status") != "INACTIVE"]
        return services[0] if services else None

    def _task_definition(self, arn: str) -> dict[str, Any]:
        return self._call("ecs", "describe_task_definition", taskDefinition=arn)["taskDefinition"]

    def _url(self, project: str, component: str, environment: Environment) -> str | None:
        template = self.url_template
        if not template:
            return None
        return template.format(project=project, component=component, environment=environment)

    def current(
        self, project: str, environment: Environment, component: ComponentSpec
    ) -> DeploymentRecord | None:
        service = self._service(resource_name(project, component.name, environment))
        if service is None or not service.get("taskDefinition"):
            return None
        arn = service["taskDefinition"]
        url = self._url(project, component.name, environment)
        steady = _steady(service)
        healthy, seen = self._check(url, component, []) if steady else (False, "rollout not completed")
        return DeploymentRecord(
            project=project,
            environment=environment,
            component=component.name,
            kind=component.kind,
            target="ecs",
            commit=_commit_of(self._task_definition(arn), component.name) or "",
            url=url,
            version=arn,
            health="healthy" if healthy else "unhealthy",
            status="deployed",
            reason=seen,
            deployed_at=_when(service),
        )

    # --- deploying -----------------------------------------------------------------------------

    def deploy(self, request: ReleaseRequest) -> DeploymentRecord:
        component = request.component
        if not component.dockerfile:
            raise HostingError(f"{component.name}: ECS runs containers; the manifest names no dockerfile")
        _check_secret_names(request.app_secrets)
        name = resource_name(request.project, component.name, request.environment)
        url = self._url(request.project, component.name, request.environment)
        service = self._service(name)
        previous_arn = (service or {}).get("taskDefinition")
        previous = self._task_definition(previous_arn) if previous_arn else None
        previous_commit = _commit_of(previous, component.name) if previous else None
        record = DeploymentRecord.for_release(
            request, "ecs", url=url, previous_commit=previous_commit, previous_version=previous_arn
        )

        if service is not None and previous is not None and self._unchanged(service, previous, request):
            healthy, seen = self._check(url, component, request.checks)
            if healthy:
                return record.model_copy(
                    update={
                        "version": previous_arn,
                        "health": "healthy",
                        "status": "unchanged",
                        "reason": f"{previous_arn} runs commit {request.commit}; {seen}",
                        "deployed_at": _when(service),
                        "previous_commit": None,
                        "previous_version": None,
                    }
                )

        image = self._wait_for_image(request.project, component.name, request.commit)
        if image is None:  # nothing was changed: an earlier revision, if any, still runs
            return record.model_copy(
                update={
                    "status": "rolled_back" if previous_arn else "failed",
                    "version": previous_arn,
                    "commit": (previous_commit or "") if previous_arn else request.commit,
                    "reason": (
                        f"the image {ecr_repository(request.project, component.name)}:{request.commit} "
                        f"was not in ECR after {self.image_wait_seconds:.0f} s (does the CI workflow's "
                        "image job have its AWS secrets?)"
                    ),
                }
            )
        secrets = self._secret_refs(request)
        new_arn = self._register(name, component.name, image, secrets, request)
        started = datetime.now(UTC) - timedelta(seconds=30)  # room for clock skew with AWS
        self._roll_out(name, new_arn, service is None)
        rollout = read_rollout(self._service(name) or {}, new_arn, since=started)
        if rollout.status != "deployed":
            return record.model_copy(
                update={
                    "version": rollout.running if rollout.status == "rolled_back" else new_arn,
                    "commit": (previous_commit or "") if rollout.status == "rolled_back" else request.commit,
                    "health": "unhealthy",
                    "status": rollout.status,
                    "reason": rollout.reason,
                }
            )
        healthy, seen = self._check(url, component, request.checks)
        if not healthy and previous_arn:
            # ECS saw the tasks run but the app does not answer: put the earlier revision back.
            self._roll_out(name, previous_arn, False)
            return record.model_copy(
                update={
                    "version": previous_arn,
                    "commit": previous_commit or "",
                    "health": "unhealthy",
                    "status": "rolled_back",
                    "reason": f"{new_arn} failed its health check ({seen}); {previous_arn} runs again",
                }
            )
        return record.model_copy(
            update={
                "version": new_arn,
                "health": "healthy" if healthy else "unhealthy",
                "status": "deployed" if healthy else "failed",
                "reason": seen,
            }
        )

    def _unchanged(
        self, service: Mapping[str, Any], definition: Mapping[str, Any], request: ReleaseRequest
    ) -> bool:
        """Same commit, same secret references, a completed rollout with every task running."""
        if _commit_of(definition, request.component.name) != request.commit:
            return False
        container = _container(definition, request.component.name) or {}
        if {s["name"] for s in container.get("secrets") or []} != set(request.app_secrets):
            return False
        if self._secrets_changed(request):
            return False
        return _steady(service)

    def _wait_for_image(self, project: str, component: str, commit: str) -> str | None:
        """The image URI `<repository uri>:<commit>` once ECR has it; None after the bounded wait."""
        repository = ecr_repository(project, component)
        deadline = time.monotonic() + self.image_wait_seconds
        uri: str | None = None
        while True:
            try:
                if uri is None:
                    found = self._call("ecr", "describe_repositories", repositoryNames=[repository])
                    uri = found["repositories"][0]["repositoryUri"]
                self._call(
                    "ecr", "describe_images", repositoryName=repository, imageIds=[{"imageTag": commit}]
                )
                return f"{uri}:{commit}"
            except _Missing:
                pass
            if time.monotonic() >= deadline:
                return None
            time.sleep(self.image_poll_seconds)

    def _secrets_changed(self, request: ReleaseRequest) -> bool:
        for key, value in request.app_secrets.items():
            plain = value.get_secret_value()
            if _ARN_SECRET.match(plain):
                continue
            try:
                stored = self._call(
                    "secretsmanager",
                    "get_secret_value",
                    SecretId=secret_name(request.project, request.environment, key),
                )
            except _Missing:
                return True
            if stored.get("SecretString") != plain:
                return True
        return False

    def _secret_refs(self, request: ReleaseRequest) -> list[dict[str, str]]:
        """`secrets` entries of the container: the app's secrets by ARN, stored first where needed."""
        refs = []
        for key in sorted(request.app_secrets):
            plain = request.app_secrets[key].get_secret_value()
            if _ARN_SECRET.match(plain):
                refs.append({"name": key, "valueFrom": plain})
                continue
            secret_id = secret_name(request.project, request.environment, key)
            try:
                stored = self._call("secretsmanager", "get_secret_value", SecretId=secret_id)
                arn = stored["ARN"]
                if stored.get("SecretString") != plain:
                    self._call("secretsmanager", "put_secret_value", SecretId=arn, SecretString=plain)
            except _Missing:
                created = self._call(
                    "secretsmanager",
                    "create_secret",
                    Name=secret_id,
                    SecretString=plain,
                    Description=f"{key} of {request.project} ({request.environment}), set by ai-pipeline",
                    Tags=[{"Key": "managed-by", "Value": "ai-pipeline"}],
                )
                arn = created["ARN"]
            refs.append({"name": key, "valueFrom": arn})
        return refs

    def _register(
        self,
        family: str,
        container_name: str,
        image: str,
        secrets: list[dict[str, str]],
        request: ReleaseRequest,
    ) -> str:

        container: dict[str, Any] = {
            "name": container_name,
            "image": image,
            "essential": True,
            "memory": self.memory,
            "portMappings": [{"containerPort": self.container_port, "protocol": "tcp"}],
            # Only what the app must know to listen; everything sensitive comes in through `secrets`.
            "environment": [{"name": "PORT", "value": str(self.container_port)}],
            "secrets": secrets,
        }
        if self.log_group:
            container["logConfiguration"] = {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": self.log_group,
                    "awslogs-region": self.region or self._client("ecs").meta.region_name,
                    "awslogs-stream-prefix": family,
                },
            }
        arguments: dict[str, Any] = {
            "family": family,
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": str(self.cpu),
            "memory": str(self.memory),
            "executionRoleArn": self.execution_role_arn,
            "containerDefinitions": [container],
            "tags": [
                {"key": "ai-pipeline:project", "value": request.project},
                {"key": "ai-pipeline:commit", "value": request.commit},
            ],
        }
        if self.task_role_arn:
            arguments["taskRoleArn"] = self.task_role_arn
        answer = self._call("ecs", "register_task_definition", **arguments)
        return answer["taskDefinition"]["taskDefinitionArn"]

    def _roll_out(self, name: str, arn: str, create: bool) -> None:

        deployment = {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        }
        if create:
            self._call(
                "ecs",
                "create_service",
                cluster=self.cluster,
                serviceName=name,
                taskDefinition=arn,
                desiredCount=self.desired_count,
                launchType="FARGATE",
                deploymentController={"type": "ECS"},
                deploymentConfiguration=deployment,
                networkConfiguration={
                    "awsvpcConfiguration": {
                        "subnets": self.subnets,
                        "securityGroups": self.security_groups,
                        "assignPublicIp": "ENABLED" if self.assign_public_ip else "DISABLED",
                    }
                },
            )
        else:
            self._call(
                "ecs",
                "update_service",
                cluster=self.cluster,
                service=name,
                taskDefinition=arn,
                deploymentConfiguration=deployment,
            )
        waiter = self._client("ecs").get_waiter("services_stable")
        try:
            waiter.wait(
                cluster=self.cluster,
                services=[name],
                WaiterConfig={"Delay": self.stable_delay_seconds, "MaxAttempts": self.stable_max_attempts},
            )
        except WaiterError as error:
            raise HostingError(
                f"ECS service {name} did not become stable: {error.kwargs.get('reason') or error}"
            ) from None

    def _check(self, url: str | None, component: ComponentSpec, extra: list[str]) -> tuple[bool, str]:
        if not url:
            return True, "rollout completed, every task running (no URL set: ECS's own health decides)"
        seen = []
        for path in dict.fromkeys([component.health, *extra]):
            healthy, what = (self._probe or http_health)(join_url(url, path), self.health_timeout_seconds)
            seen.append(what)
            if not healthy:
                return False, what
        return True, "; ".join(seen)

    def _call(self, aws_service: str, operation: str, /, **arguments: Any) -> Any:
        service = aws_service
        try:
            return getattr(self._client(service), operation)(**arguments)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in {"ImageNotFoundException", "RepositoryNotFoundException", "ResourceNotFoundException"}:
                raise _Missing(code) from None
            message = error.response.get("Error", {}).get("Message", "")
            raise HostingError(f"AWS {service} {operation}: {code}: {message}") from None
        except BotoCoreError as error:
            raise HostingError(f"AWS {service} {operation}: {type(error).__name__}: {error}") from None


class _Missing(Exception):
    """A resource AWS says does not exist (yet)."""


def _check_secret_names(secrets: Mapping[str, SecretStr]) -> None:
    """App secrets are UPPER_CASE variables and never a credential of the pipeline, by name or value."""
    bad = sorted(name for name in secrets if not _ENV_NAME.match(name))
    if bad:
        raise HostingError(f"app secret names must be UPPER_CASE environment variable names: {bad}")
    leaked = sorted(set(secrets) & PIPELINE_CREDENTIALS)
    own = {value for name in PIPELINE_CREDENTIALS if len(value := os.environ.get(name, "")) >= 8}
    leaked += sorted(name for name, value in secrets.items() if value.get_secret_value() in own)
    if leaked:
        raise HostingError(f"the pipeline's own credentials are never given to an app: {sorted(set(leaked))}")


def _container(definition: Mapping[str, Any] | None, name: str) -> dict[str, Any] | None:
    containers = (definition or {}).get("containerDefinitions") or []
    return next((c for c in containers if c.get("name") == name), containers[0] if containers else None)


def _commit_of(definition: Mapping[str, Any] | None, name: str) -> str | None:
    return image_tag((_container(definition, name) or {}).get("image"))


def _steady(service: Mapping[str, Any]) -> bool:
    """One deployment, of the task definition the service runs, completed, every task running."""
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), {})
    return (
        len(deployments) == 1
        and primary.get("taskDefinition") == service.get("taskDefinition")
        and primary.get("rolloutState") == "COMPLETED"
        and service.get("runningCount") == service.get("desiredCount")
    )


def _when(service: Mapping[str, Any]) -> datetime:
    primary = next((d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), {})
    value = primary.get("updatedAt") or primary.get("createdAt")
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.now(UTC)
