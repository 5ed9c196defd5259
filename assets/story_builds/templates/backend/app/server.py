"""The HTTP API: JSON over the standard library's `http.server`, routed from the resources in app/resources/.

Statuses follow the API contract (backend/openapi.json): 200 and 201 with the item, 204 after a delete,
404 for an unknown item or path, 405 for an operation not built yet, 422 for a body or query that does
not match the schema (a missing or empty required field, a wrong type, a value outside its allowed
values or range, a reference to a record that does not exist), 409 for a rule of the stored records
(a unique value already used, a count limit reached, a state change not allowed from the current
state, deleting a record others still refer to). The static frontend is served from `static_dir`.
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

from app.resource import Field, Operation, Resource
from app.store import Store
from app.summaries import summarize
from app.validation import ValidationError, parse_query_value, validate_body

CONTRACT = Path(__file__).resolve().parents[1] / "openapi.json"
MAX_BODY = 1_000_000
COLLECTION_KINDS = ("list", "create")
ITEM_KINDS = ("read", "update", "delete")


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
    if len(expected) != len(actual) or not any(want.startswith("{") for want in expected):
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


def _invalid(error: ValidationError) -> ApiError:
    return ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, "; ".join(error.problems))


class Api:
    """The application without the socket: `handle` maps a request to (status, headers, body)."""

    def __init__(
        self, db_path: str | Path, resources: Sequence[Resource], static_dir: Path | None = None
    ) -> None:
        self.all_resources = list(resources)  # referenced ones too: their tables must exist
        self.resources = [resource for resource in resources if resource.operations]
        self.by_name = {resource.name: resource for resource in self.all_resources}
        self.store = Store(db_path, self.all_resources)
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
        path = unquote(url.path).rstrip("/") or "/"
        if path == "/api/health" and method == "GET":
            return HTTPStatus.OK, {"status": "ok"}, {}
        if path == "/openapi.json" and method == "GET":
            return HTTPStatus.OK, CONTRACT.read_bytes(), {"Content-Type": "application/json"}
        for resource in self.resources:
            if path == resource.collection_path:
                return self._collection(resource, method, url.query, body)
            routed = self._extra(resource, method, path, body)
            if routed is not None:
                return routed
            item_id = match_item(resource.item_path, path)
            if item_id is not None:
                return self._item(resource, method, item_id, body)
        if method == "GET" and self.static_dir and not path.startswith("/api/"):
            return self._static(path)
        raise ApiError(HTTPStatus.NOT_FOUND, f"no such path: {path}")

    # -- routing -------------------------------------------------------------------------------

    def _allowed(self, resource: Resource, kinds: tuple[str, ...], method: str) -> str:
        operations = [resource.operation(kind) for kind in kinds]
        for operation in operations:
            if operation and operation.method == method:
                return operation.kind
        allow = ", ".join(operation.method for operation in operations if operation)
        raise ApiError(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not available here", {"Allow": allow})

    def _extra(self, resource: Resource, method: str, path: str, body: bytes) -> tuple[int, Any, dict] | None:
        """Transitions (`<item>/<name>`) and summaries (`<collection>/summaries/<name>`)."""
        for operation in resource.operations:
            if operation.kind == "summary" and path == operation.path:
                self._method(operation, method)
                return HTTPStatus.OK, summarize(self.store, resource, resource.summary(operation.name)), {}
            if operation.kind == "transition":
                item_id = match_item(operation.path, path)
                if item_id is not None:
                    self._method(operation, method)
                    return HTTPStatus.OK, self._transition(resource, operation, item_id), {}
        return None

    @staticmethod
    def _method(operation: Operation, method: str) -> None:
        if method != operation.method:
            raise ApiError(
                HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not available here", {"Allow": operation.method}
            )

    def _collection(self, resource: Resource, method: str, query: str, body: bytes) -> tuple[int, Any, dict]:
        kind = self._allowed(resource, COLLECTION_KINDS, method)
        if kind == "list":
            return HTTPStatus.OK, self._list(resource, query), {}
        values = self._valid(resource, body, partial=False)
        self._check_rules(resource, values, None)
        item = self.store.insert(resource, values)
        location = re.sub(r"\{[^}]*\}", str(item["id"]), resource.item_path)
        return HTTPStatus.CREATED, item, {"Location": location}

    def _list(self, resource: Resource, query: str) -> list[dict[str, Any]]:
        equal: dict[str, Any] = {}
        text, sort = None, None
        for name, value in parse_qsl(query, keep_blank_values=False):
            if name not in resource.list_parameters:
                continue
            if name == "q":
                text = value
            elif name == "sort":
                wanted = value.removeprefix("-")
                field = resource.field(wanted) or (Field("id", "integer") if wanted == "id" else None)
                if field is None:
                    fields = ", ".join(field.name for field in resource.fields)
                    raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, f"sort: {value!r} is not one of {fields}")
                sort = (field.name, value.startswith("-"))
            elif (field := resource.field(name)) is not None:
                try:
                    equal[name] = parse_query_value(field, value)
                except ValidationError as error:
                    raise _invalid(error) from error
        return self.store.find(resource, equal, text, sort)

    def _item(self, resource: Resource, method: str, item_id: int, body: bytes) -> tuple[int, Any, dict]:
        kind = self._allowed(resource, ITEM_KINDS, method)
        if kind == "read":
            return HTTPStatus.OK, self._get(resource, item_id), {}
        if kind == "update":
            current = self._get(resource, item_id)
            values = self._valid(resource, body, partial=method == "PATCH")
            self._check_rules(resource, {**current, **values} if method == "PATCH" else values, item_id)
            return HTTPStatus.OK, self.store.update(resource, item_id, values), {}
        self._get(resource, item_id)
        self._check_not_referenced(resource, item_id)
        self.store.delete(resource, item_id)
        return HTTPStatus.NO_CONTENT, None, {}

    def _get(self, resource: Resource, item_id: int) -> dict[str, Any]:
        item = self.store.get(resource, item_id)
        if item is None:
            raise ApiError(HTTPStatus.NOT_FOUND, f"no {resource.name} with id {item_id}")
        return item

    def _transition(self, resource: Resource, operation: Operation, item_id: int) -> dict[str, Any]:
        transition = resource.transition(operation.name)
        assert transition is not None, operation.name
        item = self._get(resource, item_id)
        current = item.get(transition.field)
        allowed = transition.allowed_from(resource.field(transition.field))
        if current not in allowed:
            raise ApiError(
                HTTPStatus.CONFLICT,
                f"cannot {transition.name.replace('_', ' ')} {resource.name} {item_id}: its "
                f"{transition.field} is {current!r}; allowed from "
                f"{', '.join(map(repr, allowed)) or 'no state'}",
            )
        changed = {**item, transition.field: transition.to_state}
        self._check_limits(resource, changed, item_id)
        return self.store.update(resource, item_id, {transition.field: transition.to_state}) or changed

    # -- rules that need the stored records ----------------------------------------------------

    def _check_rules(self, resource: Resource, values: dict[str, Any], item_id: int | None) -> None:
        for field in resource.fields:
            value = values.get(field.name)
            if value is None:
                continue
            if field.type == "reference":
                target = self.by_name.get(field.references or "")
                if target is None or self.store.get(target, value) is None:
                    raise ApiError(
                        HTTPStatus.UNPROCESSABLE_ENTITY,
                        f"{field.name}: no {field.references} with id {value}",
                    )
            if field.unique and self.store.count(resource, {field.name: value}, exclude_id=item_id):
                raise ApiError(
                    HTTPStatus.CONFLICT, f"{field.name}: {value!r} is already used by another {resource.name}"
                )
        self._check_limits(resource, values, item_id)

    def _check_limits(self, resource: Resource, values: dict[str, Any], item_id: int | None) -> None:
        for limit in resource.limits:
            if limit.field is not None and values.get(limit.field) not in limit.values:
                continue  # this record does not count towards the limit
            equal = {}
            if limit.per is not None:
                if values.get(limit.per) is None:
                    continue
                equal[limit.per] = values[limit.per]
            within = (limit.field, limit.values) if limit.field is not None else None
            if self.store.count(resource, equal, within, item_id) >= limit.maximum:
                which = f" with {limit.field} {'/'.join(limit.values)}" if limit.field else ""
                per = (
                    f" per {limit.per} ({limit.per} {values[limit.per]!r} has them all)" if limit.per else ""
                )
                raise ApiError(
                    HTTPStatus.CONFLICT, f"at most {limit.maximum} {resource.name} records{which}{per}"
                )

    def _check_not_referenced(self, resource: Resource, item_id: int) -> None:
        for other in self.all_resources:
            for field in other.fields:
                if field.type == "reference" and field.references == resource.name:
                    count = self.store.count(other, {field.name: item_id})
                    if count:
                        raise ApiError(
                            HTTPStatus.CONFLICT,
                            f"cannot delete {resource.name} {item_id}: {count} {other.name} record(s) "
                            f"refer to it ({field.name})",
                        )

    @staticmethod
    def _valid(resource: Resource, body: bytes, *, partial: bool) -> dict[str, Any]:
        try:
            data = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, f"the body is not JSON: {error}") from error
        try:
            return validate_body(resource, data, partial=partial)
        except ValidationError as error:
            raise _invalid(error) from error

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
