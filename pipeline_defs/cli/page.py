"""`ai-pipeline page`: serve the project pages from the artifact store on 127.0.0.1 (http, no files).

The `project_page` stage writes `project_page/<project>/index.html` into the artifacts (local or S3);
this server reads them at each request, so a re-run shows up on reload. The address is
`PIPELINE_PAGE_URL` (default http://127.0.0.1:3001), the one the assets' metadata links to.
"""

from __future__ import annotations

import html
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

import click

from pipeline_core.links import project_page_key, project_page_url
from pipeline_core.partitions import InvalidProjectName, check_project_name
from pipeline_core.settings import Settings
from pipeline_defs.cli.app import CliError
from resources.object_store import ObjectStore, object_store_from_url


def pages(artifacts: ObjectStore) -> list[str]:
    """The projects that have a page."""
    return sorted(
        info.key.split("/")[1]
        for info in artifacts.iter_objects(prefix="project_page/")
        if info.key.endswith("/index.html") and info.key.count("/") == 2
    )


def _handler(artifacts: ObjectStore) -> type[BaseHTTPRequestHandler]:
    class PageHandler(BaseHTTPRequestHandler):
        server_version = "ai-pipeline-page"

        def _send(self, status: HTTPStatus, body: str, location: str | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            if location:
                self.send_header("Location", location)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_HEAD(self) -> None:  # noqa: N802 (the http.server naming)
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            parts = [unquote(part) for part in urlsplit(self.path).path.split("/") if part]
            if not parts:
                items = "".join(
                    f'<li><a href="/{html.escape(name)}/">{html.escape(name)}</a></li>'
                    for name in pages(artifacts)
                )
                self._send(
                    HTTPStatus.OK, f"<!doctype html><title>projects</title><h1>Projects</h1><ul>{items}</ul>"
                )
                return
            try:
                project = check_project_name(parts[0])
            except InvalidProjectName:
                self._send(HTTPStatus.NOT_FOUND, "<p>no such project</p>")
                return
            if len(parts) > 1 and parts[1:] != ["index.html"]:
                self._send(HTTPStatus.NOT_FOUND, "<p>not found</p>")
                return
            if not self.path.split("?")[0].endswith("/") and len(parts) == 1:
                self._send(HTTPStatus.MOVED_PERMANENTLY, "", location=f"/{project}/")
                return
            try:
                page = artifacts.get_text(project_page_key(project))
            except FileNotFoundError:
                self._send(
                    HTTPStatus.NOT_FOUND, f"<p>no page for {html.escape(project)} yet: run its pipeline</p>"
                )
                return
            self._send(HTTPStatus.OK, page)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base class's name)
            pass

    return PageHandler


def make_server(artifacts: ObjectStore, host: str, port: int) -> ThreadingHTTPServer:
    """A server of the project pages (port 0: any free port); call `serve_forever` on it."""
    return ThreadingHTTPServer((host, port), _handler(artifacts))


@click.command()
@click.argument("project", required=False)
@click.option("--port", type=click.IntRange(0, 65535), help="default: the port of PIPELINE_PAGE_URL")
@click.pass_obj
def page(settings: Settings, project: str | None, port: int | None) -> int:
    """Serve the project pages over http on 127.0.0.1 until Ctrl-C; PROJECT: check it has one first."""
    artifacts = object_store_from_url(settings.artifacts_url, region_name=settings.aws_region)
    address = urlsplit(settings.pipeline_page_url)
    host = address.hostname or "127.0.0.1"
    port = (address.port or 80) if port is None else port
    if project is not None:
        check_project_name(project)
        if not artifacts.exists(project_page_key(project)):
            known = ", ".join(pages(artifacts)) or "none yet (a project gets one when its pipeline has run)"
            raise CliError(f"no project page for {project}; projects with a page: {known}")
    try:
        server = make_server(artifacts, host, port)
    except OSError as error:
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    base = f"http://{host}:{server.server_address[1]}"
    click.echo(f"serving project pages from {artifacts.url()}/project_page/ on {base}/ (Ctrl-C stops)")
    if project is not None:
        click.echo(project_page_url(base, project))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
