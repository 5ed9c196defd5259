"""The hosting resource the stages use: each component goes to the implementation that runs its kind.

Frontends go to Netlify when it is configured, backends to ECS when it is configured, everything
else (and everything without cloud settings) to local hosting. `make_hosting` in
`resources/hosting/__init__.py` builds it from the settings.
"""

from __future__ import annotations

from pipeline_core.repository.manifest import ComponentSpec
from resources.hosting.base import DeploymentRecord, Environment, Hosting, ReleaseRequest, Target


class HostingRouter(Hosting):
    """Sends each component to `netlify` (frontends), `ecs` (backends) or `local`."""

    local: Hosting
    netlify: Hosting | None = None
    ecs: Hosting | None = None

    @property
    def target(self) -> Target:
        return "local"

    def implementation(self, component: ComponentSpec) -> Hosting:
        """The implementation that deploys `component`."""
        if component.kind == "frontend" and self.netlify is not None and self.netlify.handles(component):
            return self.netlify
        if component.kind == "backend" and self.ecs is not None and self.ecs.handles(component):
            return self.ecs
        return self.local

    def target_of(self, component: ComponentSpec) -> Target:
        return self.implementation(component).target

    def current(
        self, project: str, environment: Environment, component: ComponentSpec
    ) -> DeploymentRecord | None:
        return self.implementation(component).current(project, environment, component)

    def deploy(self, request: ReleaseRequest) -> DeploymentRecord:
        return self.implementation(request.component).deploy(request)
