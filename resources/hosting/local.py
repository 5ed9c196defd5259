"""Local hosting: release folders, the current release kept running on a stable 127.0.0.1 port.

(Being built: the interface is landed first so the cloud implementations can be written beside it.)
"""

from __future__ import annotations

from pipeline_core.repository.manifest import ComponentSpec
from resources.hosting.base import (
    DeploymentRecord,
    Environment,
    Hosting,
    HostingError,
    ReleaseRequest,
    Target,
)


class LocalHosting(Hosting):
    """Release folders `<root>/<project>/<environment>/<component>/<release>/` with a `current`
    pointer, each component's current release running detached on a stable port of 127.0.0.1."""

    root: str
    install_cache_dir: str
    health_timeout_s: float = 60.0

    @property
    def target(self) -> Target:
        return "local"

    def current(
        self, project: str, environment: Environment, component: ComponentSpec
    ) -> DeploymentRecord | None:
        return None

    def deploy(self, request: ReleaseRequest) -> DeploymentRecord:
        raise HostingError("local hosting is not available yet")
