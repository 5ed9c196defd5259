"""The HTTP API: JSON over the standard library's `http.server`, routed from the resources in app/resources/.

Statuses follow the API contract (backend/openapi.json): 200 and 201 with the item, 204 after a delete,
404 for an unknown item or path, 405 for an operation not built yet, 422 for a body or query that does
not match the schema. The static frontend is served from `static_dir` when one is given.
"""

from __future__ import annotations

import json
import mimetypes
import re
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from app.resource import Resource
from app.store import Store
from app.validation import ValidationError, parse_query_value, validate_body

CONTRACT = Path(__file__).resolve().parents[1] / "openapi.json"
MAX_BODY = 1_000_000


class ApiError(Exception):
    def __init__(self, status: HTTPStatus, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def match_item(template: str, path: str) -> int | None:
    """The id in `path` if it matches `template` ("/api/tasks/{id}"), else None."""
    expected, actual = _segments(template), _segments(path)
    if len(expected) != len(actual):
        return None
    item_id = None
    for want, got in zip(expected, actual, strict=True):
        if want.startswith("{") and want.endswith("}"):
            if not got.isdigit():
                return None
            item_id = int(got)
        elif want != got:
            return None
    return item_id


class Api:
    """The application without the socket: `handle` maps a request to (status, headers, body)."""

    def __init__(
        self, db_path: str | Path, resources: Sequence[Resource], static_dir: Path | None = None
    ) -> None:
        self.resources = [resource for resource in resources if resource.operations]
        self.store = Store(db_path, self.resources)
        self.static_dir = static_dir.resolve() if static_dir else None

    def handle(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            status, payload, headers = self._route(method, target, body)
        except ApiError as error:
            status, payload, headers = error.status, {"detail": error.detail}, error.headers
        if isinstance(payload, bytes):
            return status, headers, payload
        if payload is None:
            return status, headers, b""
        data = json.dumps(payload).encode("utf-8")
        return status, {"Content-Type": "application/json", **headers}, data

    def _route(self, method: str, target: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        url = urlsplit(target)
        path = unquote(url.path)
        if path.rstrip("/") == "/api/health" and method == "GET":
            return HTTPStatus.OK, {"status": "ok"}, {}
        if path == "/openapi.json" and method == "GET":
            return HTTPStatus.OK, CONTRACT.read_bytes(), {"Content-Type": "application/json"}
        for resource in self.resources:
            if path.rstrip("/") == resource.collection_path:
                return self._collection(resource, method, url.query, body)
            item_id = match_item(resource.item_path, path)
            if item_id is not None:
                return self._item(resource, method, item_id, body)
        if method == "GET" and self.static_dir and not path.startswith("/api/"):
            return self._static(path)
        raise ApiError(HTTPStatus.NOT_FOUND, f"no such path: {path}")

    def _allowed(self, resource: Resource, kinds: tuple[str, ...], method: str) -> str:
        operations = [resource.operation(kind) for kind in kinds]
        for operation in operations:
            if operation and operation.method == method:
                return operation.kind
        allow = ", ".join(operation.method for operation in operations if operation)
        raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not available here", {"Allow": allow})

    def _collection(self, resource: Resource, method: str, query: str, body: bytes) -> tuple[int, Any, dict]:
        kind = self._allowed(resource, ("list", "create"), method)
        if kind == "list":
            equal, text = {}, None
            for name, value in parse_qsl(query, keep_blank_values=False):
                if name not in resource.list_parameters:
                    continue
                if name == "q":
                    text = value
                    continue
                field = resource.field(name)
                if field is not None:
                    try:
                        equal[name] = parse_query_value(field, value)
                    except ValidationError as error:
                        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, "; ".join(error.problems)) from error
            return HTTPStatus.OK, self.store.find(resource, equal, text), {}
        values = self._valid(resource, body, partial=False)
        item = self.store.insert(resource, values)
        location = re.sub(r"\{[^}]*\}", str(item["id"]), resource.item_path)
        return HTTPStatus.CREATED, item, {"Location": location}

    def _item(self, resource: Resource, method: str, item_id: int, body: bytes) -> tuple[int, Any, dict]:
        kind = self._allowed(resource, ("read", "update", "delete"), method)
        if kind == "read":
            item = self.store.get(resource, item_id)
        elif kind == "update":
            values = self._valid(resource, body, partial=method == "PATCH")
            item = self.store.update(resource, item_id, values)
        else:
            if not self.store.delete(resource, item_id):
                raise ApiError(HTTPStatus.NOT_FOUND, f"no {resource.name} with id {item_id}")
            return HTTPStatus.NO_CONTENT, None, {}
        if item is None:
            raise ApiError(HTTPStatus.NOT_FOUND, f"no {resource.name} with id {item_id}")
        return HTTPStatus.OK, item, {}

    @staticmethod
    def _valid(resource: Resource, body: bytes, *, partial: bool) -> dict[str, Any]:
        try:
            data = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, f"the body is not JSON: {error}") from error
        try:
            return validate_body(resource, data, partial=partial)
        except ValidationError as error:
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, "; ".join(error.problems)) from error

    def _static(self, path: str) -> tuple[int, bytes, dict[str, str]]:
        assert self.static_dir is not None
        relative = path.lstrip("/") or "index.html"
        target = (self.static_dir / relative).resolve()
        if not target.is_relative_to(self.static_dir) or not target.is_file():
            raise ApiError(HTTPStatus.NOT_FOUND, f"no such file: {path}")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return HTTPStatus.OK, target.read_bytes(), {"Content-Type": content_type}


class Handler(BaseHTTPRequestHandler):
    api: Api  # set by make_server
    protocol_version = "HTTP/1.1"

    def _respond(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            status, headers, data = 413, {"Content-Type": "application/json"}, b'{"detail": "body too large"}'
            self.close_connection = True
        else:
            body = self.rfile.read(length) if length else b""
            status, headers, data = self.api.handle(self.command, self.path, body)
        self.send_response(status)
        for name, value in {"Access-Control-Allow-Origin": "*", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _respond

    def do_OPTIONS(self) -> None:  # CORS preflight, for a frontend served from another origin
        self.send_response(HTTPStatus.NO_CONTENT)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def make_server(
    host: str, port: int, db_path: str | Path, resources: Sequence[Resource], static_dir: Path | None = None
) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"api": Api(db_path, resources, static_dir)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
