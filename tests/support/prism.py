"""Prism (Stoplight's OpenAPI mock server) as a contract check, with a recording proxy in front of it.

Prism answers every request from an OpenAPI document and rejects one that the document does not allow
with 422 and the reasons in its `sl-violations` header. Tests talk to a small proxy on 127.0.0.1 that
forwards everything to Prism and records each exchange, so a test can:

- fail on any request Prism rejected (`PrismProxy.assert_contract_clean`; the `github_api` fixture does
  it after every test),
- look at what was sent (`exchanges`), e.g. to decrypt a sealed secret,
- play state that a stateless mock cannot (`override`): the request still goes to Prism and is checked,
  then the proxy answers with the scripted status/body instead of Prism's fixed example.

Prism's examples carry `Link` headers pointing at a placeholder on api.github.com; the proxy drops them
so a client never tries to follow pagination to the internet.

Start Prism yourself with `prism_server(spec)` (any document, e.g. Netlify's) or use the session-wide
`github_prism` fixture and the per-test `github_api` fixture.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PRISM_BIN = REPO_ROOT / "node_modules" / ".bin" / "prism"
GITHUB_SPEC = REPO_ROOT / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "link", "date", "server"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_violations(headers: Any) -> list[dict[str, Any]]:
    """Prism's `sl-violations` header (request and response problems) as a list of dicts."""
    raw = headers.get("sl-violations") if headers is not None else None
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return [{"location": ["unknown"], "severity": "Error", "message": raw}]
    return value if isinstance(value, list) else [value]


def request_violations(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the problems with what the client sent (Prism also reports flaws of its own examples)."""
    return [v for v in violations if (v.get("location") or [""])[0] == "request"]


@dataclass
class PrismServer:
    url: str
    port: int
    log_path: Path


@contextmanager
def prism_server(spec: Path, startup_timeout: float = 120.0) -> Iterator[PrismServer]:
    """Run `prism mock` on `spec` on a free port of 127.0.0.1 until the block ends."""
    if not PRISM_BIN.exists() or not spec.exists():
        pytest.fail(
            f"Prism or the OpenAPI document is missing ({PRISM_BIN}, {spec}): run `npm ci` at the repo root"
        )
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="prism-"))
    log_path = log_dir / "prism.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"Prism exited with {process.returncode}: {log_path.read_text(errors='replace')[-2000:]}"
                )
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/__prism_ready_probe")
                connection.getresponse().read()
                connection.close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"Prism did not answer within {startup_timeout} s")
                time.sleep(0.2)
        yield PrismServer(url=f"http://127.0.0.1:{port}", port=port, log_path=log_path)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(log_dir, ignore_errors=True)


@dataclass
class Exchange:
    """One request through the proxy and Prism's verdict on it."""

    method: str
    path: str
    request_headers: dict[str, str]
    request_body: bytes
    upstream_status: int
    violations: list[dict[str, Any]]
    status: int
    response_body: bytes

    def json(self) -> Any:
        return json.loads(self.request_body) if self.request_body else None

    def response_json(self) -> Any:
        return json.loads(self.response_body) if self.response_body else None


@dataclass
class _Override:
    method: str
    pattern: re.Pattern[str]
    status: int | None
    body: Any
    times: int | None
    used: int = 0


@dataclass
class PrismProxy:
    """A recording, scriptable proxy in front of a Prism server."""

    upstream: PrismServer
    exchanges: list[Exchange] = field(default_factory=list)
    _overrides: list[_Override] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def override(
        self,
        method: str,
        path_regex: str,
        *,
        status: int | None = None,
        body: Any = None,
        times: int | None = None,
    ) -> None:
        """Answer matching requests (full match on the path without query) with `status`/`body` instead.

        The request still goes to Prism first, so it is still contract-checked. `times=None` means always.
        """
        with self._lock:
            self._overrides.append(_Override(method.upper(), re.compile(path_regex), status, body, times))

    def _take_override(self, method: str, path: str) -> _Override | None:
        bare_path = path.split("?", 1)[0]
        with self._lock:
            for item in self._overrides:
                if item.method == method and item.pattern.fullmatch(bare_path):
                    if item.times is not None and item.used >= item.times:
                        continue
                    item.used += 1
                    return item
        return None

    def requests(self, method: str | None = None, path_regex: str | None = None) -> list[Exchange]:
        with self._lock:
            found = list(self.exchanges)
        if method:
            found = [e for e in found if e.method == method.upper()]
        if path_regex:
            found = [e for e in found if re.fullmatch(path_regex, e.path.split("?", 1)[0])]
        return found

    def contract_problems(self) -> list[str]:
        problems = []
        for exchange in self.requests():
            wrong = request_violations(exchange.violations)
            if exchange.upstream_status == 422 or wrong:
                problems.append(f"{exchange.method} {exchange.path} -> {exchange.upstream_status}: {wrong}")
        return problems

    def assert_contract_clean(self) -> None:
        problems = self.contract_problems()
        assert not problems, "requests GitHub's OpenAPI document does not allow:\n" + "\n".join(problems)

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
        upstream = http.client.HTTPConnection("127.0.0.1", self.upstream.port, timeout=60)
        upstream.request(handler.command, handler.path, body=body or None, headers=headers)
        response = upstream.getresponse()
        response_body = response.read()
        violations = read_violations(response.headers)
        response_headers = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
        upstream.close()
        status = response.status
        override = self._take_override(handler.command, handler.path)
        if override is not None:
            if override.status is not None:
                status = override.status
            if override.body is not None:
                response_body = json.dumps(override.body).encode()
                response_headers = [(k, v) for k, v in response_headers if k.lower() != "content-type"]
                response_headers.append(("Content-Type", "application/json; charset=utf-8"))
        with self._lock:
            self.exchanges.append(
                Exchange(
                    method=handler.command,
                    path=handler.path,
                    request_headers=headers,
                    request_body=body,
                    upstream_status=response.status,
                    violations=violations,
                    status=status,
                    response_body=response_body,
                )
            )
        handler.send_response(status)
        for key, value in response_headers:
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(response_body)))
        handler.end_headers()
        handler.wfile.write(response_body)


@contextmanager
def prism_proxy(upstream: PrismServer) -> Iterator[PrismProxy]:
    proxy = PrismProxy(upstream=upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            try:
                proxy.handle(self)
            except Exception as error:  # answer instead of hanging up, so the test shows the reason
                message = f"proxy error: {type(error).__name__}: {error}".encode()
                self.send_response(502)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(message)))
                self.end_headers()
                self.wfile.write(message)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    proxy.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def github_prism() -> Iterator[PrismServer]:
    """One Prism on GitHub's official REST document for the whole session (it takes seconds to start)."""
    with prism_server(GITHUB_SPEC) as server:
        yield server


@pytest.fixture
def github_api(github_prism: PrismServer) -> Iterator[PrismProxy]:
    """A fresh recording proxy to the GitHub Prism; the test fails if any request broke the contract."""
    with prism_proxy(github_prism) as proxy:
        yield proxy
        proxy.assert_contract_clean()
