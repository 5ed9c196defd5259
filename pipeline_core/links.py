"""Links for people: a project's page of an asset in the Dagster UI, and its project page.

Asset pages of the UI ignore `?partition=X` alone; `?view=partitions&partition=X` opens one project.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import dagster as dg


def asset_partition_url(ui_url: str, asset: str, project: str) -> str:
    """The UI page of `asset` showing the partition `project`."""
    query = urlencode({"view": "partitions", "partition": project})
    return f"{ui_url.rstrip('/')}/assets/{quote(asset)}?{query}"


def project_page_url(page_url: str, project: str) -> str:
    """The project page served by `ai-pipeline page`."""
    return f"{page_url.rstrip('/')}/{quote(project)}/"


def project_page_key(project: str) -> str:
    """Where the project page lives in the artifact store."""
    return f"project_page/{project}/index.html"


class Links(dg.ConfigurableResource):
    """The base URLs of the Dagster UI and of the project pages, for stages that write links."""

    ui_url: str = "http://127.0.0.1:3000"
    page_url: str = "http://127.0.0.1:3001"

    def asset(self, asset: str, project: str) -> str:
        return asset_partition_url(self.ui_url, asset, project)

    def page(self, project: str) -> str:
        return project_page_url(self.page_url, project)
