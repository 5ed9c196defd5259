"""The hosting resource: runs generated components (local release folders, Netlify, ECS Fargate).

`make_hosting` is the one place that picks the implementation per component kind; the settings
feed it (`pipeline_defs/resources.py` calls it).
"""

from __future__ import annotations

import dagster as dg

from pipeline_core.settings import Settings
from resources.hosting.base import (
    ENVIRONMENTS,
    DeploymentRecord,
    Environment,
    Hosting,
    HostingError,
    ReleaseRequest,
    publish_files,
)
from resources.hosting.ecs import EcsHosting
from resources.hosting.local import LocalHosting
from resources.hosting.netlify import NetlifyHosting
from resources.hosting.router import HostingRouter

__all__ = [
    "ENVIRONMENTS",
    "DeploymentRecord",
    "EcsHosting",
    "Environment",
    "Hosting",
    "HostingError",
    "HostingRouter",
    "LocalHosting",
    "NetlifyHosting",
    "ReleaseRequest",
    "make_ecs_hosting",
    "make_hosting",
    "make_netlify_hosting",
    "publish_files",
]


def make_local_hosting(settings: Settings) -> LocalHosting:
    return LocalHosting(
        root=str(settings.releases_dir),
        install_cache_dir=str(settings.install_cache_dir),
        health_timeout_s=settings.pipeline_hosting_health_timeout_seconds,
    )


def make_netlify_hosting(settings: Settings) -> NetlifyHosting:
    return NetlifyHosting(
        token=dg.EnvVar("NETLIFY_AUTH_TOKEN"),
        api_url=settings.netlify_api_url,
        site_prefix=settings.netlify_site_prefix,
        account_slug=settings.netlify_account_slug,
        health_timeout_seconds=settings.pipeline_hosting_health_timeout_seconds,
    )


def make_ecs_hosting(settings: Settings) -> EcsHosting:
    """ECS from the PIPELINE_ECS_* settings; ValueError naming what is missing or invalid."""
    missing = [
        name
        for name, value in (
            ("PIPELINE_ECS_SUBNETS", settings.pipeline_ecs_subnets.strip()),
            ("PIPELINE_ECS_EXECUTION_ROLE_ARN", settings.pipeline_ecs_execution_role_arn),
        )
        if not value
    ]
    if missing:
        raise ValueError(
            f"PIPELINE_ECS_CLUSTER is set, so backends deploy to ECS: also set {', '.join(missing)}"
        )
    return EcsHosting(
        cluster=settings.pipeline_ecs_cluster or "",
        subnets=[part.strip() for part in settings.pipeline_ecs_subnets.split(",") if part.strip()],
        security_groups=[
            part.strip() for part in settings.pipeline_ecs_security_groups.split(",") if part.strip()
        ],
        execution_role_arn=settings.pipeline_ecs_execution_role_arn or "",
        task_role_arn=settings.pipeline_ecs_task_role_arn,
        assign_public_ip=settings.pipeline_ecs_assign_public_ip,
        cpu=settings.pipeline_ecs_cpu,
        memory=settings.pipeline_ecs_memory,
        container_port=settings.pipeline_ecs_container_port,
        desired_count=settings.pipeline_ecs_desired_count,
        log_group=settings.pipeline_ecs_log_group,
        region=settings.aws_region,
        url_template=settings.pipeline_ecs_url_template,
        image_wait_seconds=settings.pipeline_ecs_image_wait_seconds,
        health_timeout_seconds=settings.pipeline_hosting_health_timeout_seconds,
    )


def make_hosting(settings: Settings) -> HostingRouter:
    """Frontends on Netlify when `NETLIFY_AUTH_TOKEN` is set, backends on ECS when
    `PIPELINE_ECS_CLUSTER` is set, everything else local (`PIPELINE_HOSTING=local`: all local).

    Credentials are never passed around as values: the cloud implementations read them through
    `dg.EnvVar` (Netlify's token) or boto3's credential chain (AWS), so the UI shows no secret.
    """
    netlify: Hosting | None = None
    ecs: Hosting | None = None
    if settings.pipeline_hosting == "auto":
        if settings.netlify_auth_token:
            netlify = make_netlify_hosting(settings)
        if settings.pipeline_ecs_cluster:
            ecs = make_ecs_hosting(settings)
    return HostingRouter(local=make_local_hosting(settings), netlify=netlify, ecs=ecs)
