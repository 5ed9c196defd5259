"""Netlify's official OpenAPI document for Prism, and a stand-in for a published site.

Prism ignores Swagger 2.0's `basePath`, so `netlify_spec` writes the document of `@netlify/open-api`
with every path under `/api/v1`, where Netlify's API and its clients have them. The fixtures
`netlify_prism` and `netlify_api` (import them into a test module) run Prism on it and a recording
proxy that fails the test on any request the document refuses. `StandInSite` is a small HTTP server
on 127.0.0.1 that answers every GET with `status` and records the paths, playing the deployed site
(or a backend's public URL) for health checks.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.prism import REPO_ROOT, PrismProxy, PrismServer, prism_proxy, prism_server

NETLIFY_SPEC = REPO_ROOT / "node_modules" / "@netlify" / "open-api" / "dist" / "swagger.json"


def netlify_spec(folder: Path) -> Path:
    """The document with its paths under `/api/v1`, written into `folder`."""
    if not NETLIFY_SPEC.exists():
        pytest.fail(f"{NETLIFY_SPEC} is missing: run `npm ci` at the repo root")
    document = json.loads(NETLIFY_SPEC.read_text())
    base = document.pop("basePath")
    document["paths"] = {base + path: item for path, item in document["paths"].items()}
    spec = folder / "netlify.json"
    spec.write_text(json.dumps(document))
    return spec


@pytest.fixture(scope="module")
def netlify_prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismServer]:
    """Prism on the document, one per test module."""
    with prism_server(netlify_spec(tmp_path_factory.mktemp("netlify-spec"))) as server:
        yield server


@pytest.fixture
def netlify_api(netlify_prism: PrismServer) -> Iterator[PrismProxy]:
    """A recording proxy to the Netlify Prism; fails the test on any request the document refuses."""
    with prism_proxy(netlify_prism) as proxy:
        yield proxy
        proxy.assert_contract_clean()
        # 401 (no token), 404 (no such route, e.g. an unencoded nested path) and 415 (wrong media type)
        # are contract failures too, which Prism reports without a 422.
        wrong = [
            f"{e.method} {e.path} -> {e.upstream_status}" for e in proxy.exchanges if e.upstream_status >= 400
        ]
        assert not wrong, wrong


class StandInSite:
    """Answers `status` to every GET on a free port of 127.0.0.1; `paths` lists what was asked."""

    def __init__(self) -> None:
        self.status = 200
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                outer.paths.append(self.path)
                body = b"<!doctype html><title>app</title>"
                self.send_response(outer.status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
