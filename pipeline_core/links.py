"""Links for people: a project's page of an asset in the Dagster UI, its project page, and its
repository (an http page, or for the local forge the `git clone` and review commands).

Asset pages of the UI ignore `?partition=X` alone; `?view=partitions&partition=X` opens one project.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlencode, urlparse

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


def review_hint(project: str) -> str:
    """The commands a person reviews a project's pull requests with (any forge)."""
    return (
        f"ai-pipeline review list --project {project}; ai-pipeline review show {project} <number>; "
        f"ai-pipeline review approve|request-changes {project} <number>"
    )


def repository_links(url: str, clone_url: str, project: str) -> dict[str, dg.MetadataValue]:
    """Metadata for a generated repository that a browser can use: its http page where it has one,
    else (the local forge's bare repository) the `git clone` command and the review command."""
    if url.startswith(("http://", "https://")):
        return {"repository": dg.MetadataValue.url(url)}
    path = unquote(urlparse(clone_url).path) if clone_url.startswith("file://") else clone_url
    return {
        "repository_clone": dg.MetadataValue.text(f"git clone {path}"),
        "review_with": dg.MetadataValue.text(review_hint(project)),
    }


def markdown_link(label: str, url: str | None) -> str:
    """`[label](url)` for an http(s) URL; just the label otherwise (a file:// link opens nothing)."""
    return f"[{label}]({url})" if url and url.startswith(("http://", "https://")) else label
