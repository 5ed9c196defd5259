"""The hosting resource: runs generated components (local release folders, Netlify, ECS Fargate).

`make_hosting` is the one place that picks the implementation per component kind; the settings
feed it (`pipeline_defs/resources.py` calls it).
"""

from __future__ import annotations

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
from resources.hosting.local import LocalHosting
from resources.hosting.router import HostingRouter

__all__ = [
    "ENVIRONMENTS",
    "DeploymentRecord",
    "Environment",
    "Hosting",
    "HostingError",
    "HostingRouter",
    "LocalHosting",
    "ReleaseRequest",
    "make_hosting",
    "publish_files",
]


def make_local_hosting(settings: Settings) -> LocalHosting:
    return LocalHosting(
        root=str(settings.releases_dir),
        install_cache_dir=str(settings.install_cache_dir),
        health_timeout_s=settings.pipeline_hosting_health_timeout_seconds,
    )


def make_hosting(settings: Settings) -> HostingRouter:
    """Frontends on Netlify when `NETLIFY_AUTH_TOKEN` is set, backends on ECS when
    `PIPELINE_ECS_CLUSTER` is set, everything else local (`PIPELINE_HOSTING=local`: all local).

    Credentials are never passed around as values: the cloud implementations read them through
    `dg.EnvVar`, so the UI shows the variable's name only.
    """
    netlify: Hosting | None = None
    ecs: Hosting | None = None
    if settings.pipeline_hosting == "auto":
        if settings.netlify_auth_token:
            netlify = None  # cloud plugs in here: NetlifyHosting(token=dg.EnvVar("NETLIFY_AUTH_TOKEN"), ...)
        if settings.pipeline_ecs_cluster:
            ecs = None  # cloud plugs in here: EcsHosting(cluster=settings.pipeline_ecs_cluster, ...)
    return HostingRouter(local=make_local_hosting(settings), netlify=netlify, ecs=ecs)
