"""Contract checks between components and the architecture's OpenAPI document.

`check_backend_contract` starts the generated backend from a fresh copy of the tree and drives it
from the document (an OpenAPI-driven check in the manner of schemathesis, but deterministic, so the
same tree always gives the same findings and data version). For every operation it sends:

- a valid request: a body built from the request schema, path ids taken from objects the API
  created, and the list's query parameters one at a time; the status must be a documented success
  and a JSON response must validate against the documented schema (openapi-schema-validator,
  OpenAPI 3.1 dialect, formats checked);
- for operations with a request schema, bodies that break it (a required field missing, a field of
  the wrong type, an empty update where one field is required): a documented 4xx is expected;
- for operations that document 404, an id nothing was created with: 404 is expected;
- for every documented path, each method the document does not list, and a path under `/api/` the
  document does not have: 404 or 405 is expected (the backend serves nothing undocumented).

The driver itself runs inside the sandbox (`run_tests_in_sandbox`): a subprocess with a minimal
environment, resource limits, a time limit, its own process group killed at the end, and no network
but its own loopback where the platform allows. The backend runs beside it on a free port of
127.0.0.1 with a database of its own in the sandbox's temporary folder.

`check_frontend_calls` reads the frontend's sources (the generated `resources.js` table and any
literal `fetch("/api/...")`, `api("METHOD", "/api/...")`, `axios.get("/api/...")` or
`<form action="/api/...">`) and reports every call whose path or method the document does not have.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS31Validator

from assets.validations.models import ContractMismatch, ContractResult, MismatchCheck
from assets.validations.sandbox import run_tests_in_sandbox

BACKEND_FOLDER = "backend"
BACKEND_ENTRY = "backend/app/__main__.py"
# Started in BACKEND_FOLDER; {port} and {db} are filled in by the driver.
BACKEND_COMMAND = (
    "{python}",
    "-m",
    "app",
    "--host",
    "127.0.0.1",
    "--port",
    "{port}",
    "--db",
    "{db}",
    "--no-static",
)
CHECK_FOLDER = ".ai-pipeline-contract-check"
FRONTEND_FOLDER = "frontend"
METHODS = ("get", "post", "put", "patch", "delete")
START_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 10.0
UNDOCUMENTED_PATH = "/api/__not-in-the-contract__"
MISSING_ID = 987654321
SHOWN = 300
REPO_ROOT = Path(__file__).resolve().parents[2]


class ContractDocumentError(ValueError):
    """The OpenAPI document cannot be used (a dangling `$ref`, a path item that is not an object, ...)."""


# ---------------------------------------------------------------------------------------------
# The document


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """`node` with local `$ref`s (`#/components/...`) followed; other nodes are returned as they are."""
    seen: set[str] = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise ContractDocumentError(f"cannot follow $ref {ref!r} (only local, non-circular refs)")
        seen.add(ref)
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise ContractDocumentError(f"dangling $ref {ref!r}")
            target = target[part]
        node = target
    return node


@dataclass
class Operation:
    """One documented operation with its parameters, request schema and responses resolved."""

    method: str  # upper case
    path: str
    spec: Mapping[str, Any]
    parameters: list[Mapping[str, Any]]
    request_schema: Mapping[str, Any] | None
    responses: dict[str, Mapping[str, Any]]
    story_ids: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"\{([^}/]+)\}", self.path)

    def query_parameters(self) -> list[Mapping[str, Any]]:
        return [parameter for parameter in self.parameters if parameter.get("in") == "query"]

    def parameter_schema(self, name: str, where: str) -> Mapping[str, Any]:
        for parameter in self.parameters:
            if parameter.get("name") == name and parameter.get("in") == where:
                return parameter.get("schema") or {}
        return {}

    def documented(self, status: int) -> str | None:
        """The response key that documents `status` ("404", "4XX" or "default"), or None."""
        keys = {key.upper(): key for key in self.responses}
        for candidate in (str(status), f"{status // 100}XX", "DEFAULT"):
            if candidate in keys:
                return keys[candidate]
        return None

    def statuses(self, family: int | None = None) -> list[str]:
        keys = sorted(self.responses)
        return [key for key in keys if family is None or key[:1] == str(family)]


def operations(document: Mapping[str, Any]) -> list[Operation]:
    """Every operation of the document, in document order."""
    out = []
    paths = document.get("paths") or {}
    if not isinstance(paths, Mapping):
        raise ContractDocumentError("`paths` is not an object")
    for path, item in paths.items():
        item = resolve(document, item)
        if not isinstance(item, Mapping):
            raise ContractDocumentError(f"path item {path!r} is not an object")
        shared = [resolve(document, parameter) for parameter in item.get("parameters") or []]
        for method in METHODS:
            spec = item.get(method)
            if not isinstance(spec, Mapping):
                continue
            own = [resolve(document, parameter) for parameter in spec.get("parameters") or []]
            keys = {(parameter.get("name"), parameter.get("in")) for parameter in own}
            parameters = [p for p in shared if (p.get("name"), p.get("in")) not in keys] + own
            request_schema = None
            body = resolve(document, spec.get("requestBody")) if spec.get("requestBody") else None
            if isinstance(body, Mapping):
                media = (body.get("content") or {}).get("application/json")
                if isinstance(media, Mapping) and isinstance(media.get("schema"), Mapping):
                    request_schema = media["schema"]
            responses = {
                str(status): resolve(document, response)
                for status, response in (spec.get("responses") or {}).items()
            }
            out.append(
                Operation(
                    method=method.upper(),
                    path=str(path),
                    spec=spec,
                    parameters=parameters,
                    request_schema=request_schema,
                    responses=responses,
                    story_ids=tuple(str(story) for story in spec.get("x-story-ids") or []),
                )
            )
    return out


def expected_operations(document: Mapping[str, Any], built: Collection[str]) -> set[str]:
    """The operations the backend must serve: those the built stories enabled ('METHOD /path'),
    and those no story is attributed to (`x-story-ids` empty: health, the skeleton's own)."""
    return {op.label for op in operations(document) if op.label in built or not op.story_ids}


def schema_validator(document: Mapping[str, Any], schema: Mapping[str, Any]) -> OAS31Validator:
    """A validator for `schema` whose local `#/components/...` refs resolve in `document`."""
    root = {**schema, "components": document.get("components") or {}}
    return OAS31Validator(root, format_checker=OAS31Validator.FORMAT_CHECKER)


def schema_problem(document: Mapping[str, Any], schema: Mapping[str, Any], instance: Any) -> str | None:
    error = best_match(schema_validator(document, schema).iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{error.message}" + (f" (at /{where})" if where else "")


# ---------------------------------------------------------------------------------------------
# Values from schemas


def _first_type(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((item for item in kind if item != "null"), kind[0] if kind else None)
    if kind is None and "properties" in schema:
        return "object"
    return kind


def sample_value(
    document: Mapping[str, Any], schema: Any, name: str = "value", variant: int = 1, depth: int = 0
) -> Any:
    """A deterministic value that satisfies `schema` (type, format, enum, bounds, required)."""
    schema = resolve(document, schema)
    if not isinstance(schema, Mapping) or depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    enum = [item for item in schema.get("enum") or [] if item is not None]
    if enum:
        return enum[(variant - 1) % len(enum)]
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = sample_value(document, part, name, variant, depth + 1)
            if not isinstance(value, dict):
                return value
            merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        options = [resolve(document, option) for option in schema.get(key) or []]
        options = [option for option in options if _first_type(option) != "null"] or options
        if options:
            return sample_value(document, options[0], name, variant, depth + 1)
    kind = _first_type(schema)
    if kind == "string":
        formats = {
            "date": f"2030-01-0{variant}",
            "date-time": f"2030-01-0{variant}T09:30:00Z",
            "time": "09:30:00Z",
            "email": f"person{variant}@example.com",
            "uri": f"https://example.com/{variant}",
            "uuid": f"00000000-0000-4000-8000-{variant:012d}",
        }
        text = formats.get(str(schema.get("format")), f"{name.replace('_', ' ')} {variant}")
        minimum, maximum = int(schema.get("minLength") or 0), schema.get("maxLength")
        text = text.ljust(minimum, "x")
        return text[: int(maximum)] if maximum is not None else text
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum"))
        base = variant if low is None else int(low) + variant
        high = schema.get("maximum")
        if high is not None and base > high:
            base = int(high)
        return base if kind == "integer" else base + 0.5
    if kind == "boolean":
        return variant % 2 == 1
    if kind == "array":
        count = max(int(schema.get("minItems") or 0), 1)
        return [
            sample_value(document, schema.get("items") or {}, name, variant + i, depth + 1)
            for i in range(count)
        ]
    if kind == "object":
        out = {}
        for key, child in (schema.get("properties") or {}).items():
            child = resolve(document, child)
            if isinstance(child, Mapping) and child.get("readOnly"):
                continue
            out[key] = sample_value(document, child, key, variant, depth + 1)
        return out
    if kind == "null":
        return None
    return f"{name} {variant}"


def _wrong_value(document: Mapping[str, Any], schema: Any) -> Any:
    """A value of a JSON type `schema` does not allow (a number where a string is wanted, ...)."""
    schema = resolve(document, schema)
    kinds = schema.get("type") if isinstance(schema, Mapping) else None
    allowed = set(kinds if isinstance(kinds, list) else [kinds] if kinds else [])
    candidates: list[tuple[Any, set[str]]] = [
        (12345, {"integer", "number"}),
        ("not a number", {"string"}),
        ({"not": "this"}, {"object"}),
        ([None], {"array"}),
    ]
    return next((value for value, types in candidates if not types & allowed), None)


def invalid_bodies(
    document: Mapping[str, Any], schema: Mapping[str, Any], valid: Any
) -> list[tuple[str, Any]]:
    """(what is wrong, body) pairs that break `schema`, each checked to really be invalid."""
    resolved = resolve(document, schema)
    candidates: list[tuple[str, Any]] = []
    if isinstance(valid, dict) and isinstance(resolved, Mapping):
        required = [name for name in resolved.get("required") or [] if name in valid]
        if required:
            candidates.append(
                (f"without the required {required[0]}", {k: v for k, v in valid.items() if k != required[0]})
            )
        elif int(resolved.get("minProperties") or 0) > 0:
            candidates.append(("an empty object", {}))
        properties = resolved.get("properties") or {}
        for name in valid:
            if name in properties:
                candidates.append(
                    (f"{name} of the wrong type", {**valid, name: _wrong_value(document, properties[name])})
                )
                break
    else:
        candidates.append(
            ("a JSON value of the wrong type", {"not": "this"} if not isinstance(valid, dict) else 1)
        )
    return [(what, body) for what, body in candidates if schema_problem(document, schema, body)]


# ---------------------------------------------------------------------------------------------
# Driving a started backend


class OutOfTime(Exception):
    """The check's deadline passed (a slow request is an OSError: socket.timeout)."""


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def shown(self) -> str:
        """The body as text, cut short for a report."""
        return _short(self.body.decode("utf-8", "replace"))


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."


def _fill(path: str, values: Mapping[str, Any]) -> str:
    return re.sub(r"\{([^}/]+)\}", lambda match: str(values[match.group(1)]), path)


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


@dataclass
class Driver:
    """Sends the document's requests to http://127.0.0.1:port and records every mismatch."""

    document: Mapping[str, Any]
    port: int
    deadline: float
    expected: Collection[str] | None = None
    component: str = BACKEND_FOLDER
    result: ContractResult = field(default_factory=ContractResult)
    created: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # collection path -> objects

    # --- requests and findings -------------------------------------------------------------

    def send(
        self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None
    ) -> Response:
        if time.monotonic() > self.deadline:
            raise OutOfTime
        target = path + ("?" + urlencode(query) if query else "")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S)
        try:
            data = None if body is None else json.dumps(body).encode("utf-8")
            headers = {"Content-Type": "application/json", "Accept": "application/json"} if data else {}
            connection.request(method, target, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            content_type = response.getheader("Content-Type") or ""
        finally:
            connection.close()
        self.result.requests += 1
        return Response(response.status, content_type, raw)

    def mismatch(
        self,
        operation: str,
        check: MismatchCheck,
        expected: str,
        got: str,
        request: str,
        detail: str = "",
    ) -> None:
        self.result.mismatches.append(
            ContractMismatch(
                component=self.component,
                operation=operation,
                check=check,
                expected=expected,
                got=got,
                request=request,
                detail=detail[:1000],
            )
        )

    @staticmethod
    def describe(method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None) -> str:
        text = f"{method} {path}" + ("?" + urlencode(query) if query else "")
        return text + (f" {_short(body)}" if body is not None else "")

    def check_response(self, op: Operation, response: Response, request: str) -> None:
        """The documented response for the status: a JSON body that validates against its schema."""
        key = op.documented(response.status)
        if key is None:
            return
        content = (op.responses.get(key) or {}).get("content") or {}
        media = content.get("application/json")
        if not isinstance(media, Mapping) or not isinstance(media.get("schema"), Mapping):
            return
        try:
            data = response.json()
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.mismatch(
                op.label,
                "response_not_json",
                f"a JSON body for {response.status}",
                f"{response.content_type or 'no content type'}: {response.shown()}",
                request,
            )
            return
        problem = schema_problem(self.document, media["schema"], data)
        if problem:
            self.mismatch(
                op.label,
                "response_schema",
                f"a {response.status} body matching the documented schema",
                problem,
                request,
                detail=_short(data),
            )

    def expect(
        self, op: Operation, response: Response, request: str, wanted: Sequence[str], what: str
    ) -> bool:
        """True if the status is documented (and one of `wanted`, when given); else a mismatch,
        unless the operation is not built yet (404/405 for an operation outside `expected`)."""
        key = op.documented(response.status)
        if key is not None and (not wanted or key in wanted):
            self.check_response(op, response, request)
            return True
        if key is None and self._unserved(op, response):
            return False
        self.mismatch(
            op.label,
            "status",
            f"{what} ({', '.join(wanted) or 'none documented'})",
            f"{response.status}: {response.shown()}",
            request,
        )
        return False

    # --- the plan ----------------------------------------------------------------------------

    def path_values(self, op: Operation) -> dict[str, Any] | None:
        """Values for the path's parameters from objects the API created; None if there are none."""
        values: dict[str, Any] = {}
        segments = _segments(op.path)
        for index, segment in enumerate(segments):
            match = re.fullmatch(r"\{([^}/]+)\}", segment)
            if not match:
                continue
            name = match.group(1)
            objects = [item for item in self.created.get("/" + "/".join(segments[:index]), []) if item]
            if not objects:
                return None
            item = objects[-1]
            values[name] = item.get(name, item.get("id"))
            if values[name] is None:
                return None
        return values

    def missing_values(self, op: Operation) -> dict[str, Any]:
        values = {}
        for name in op.path_parameters:
            kind = _first_type(resolve(self.document, op.parameter_schema(name, "path")))
            values[name] = MISSING_ID if kind in ("integer", "number", None) else f"missing-{MISSING_ID}"
        return values

    def probe_missing(self, op: Operation, variant: int) -> None:
        """An id nothing was created with gets the documented 404 (if the operation documents one)."""
        if not op.path_parameters or op.documented(404) != "404":
            return
        path = _fill(op.path, self.missing_values(op))
        body = sample_value(self.document, op.request_schema, "body", variant) if op.request_schema else None
        response = self.send(op.method, path, body)
        request = self.describe(op.method, path, body)
        if response.status == 404:
            self.check_response(op, response, request)
        elif not self._unserved(op, response):
            self.mismatch(
                op.label,
                "not_found",
                "404 for an id nothing was created with",
                f"{response.status}: {response.shown()}",
                request,
            )

    def exercise(self, op: Operation, variant: int) -> None:
        """The operation's valid request(s), its invalid bodies and its unknown-id probe."""
        values = self.path_values(op) if op.path_parameters else {}
        self.probe_missing(op, variant)
        if values is None:
            values = self.missing_values(op)  # nothing to address: any documented status will do
            wanted: list[str] = []
        else:
            wanted = op.statuses(2)
        path = _fill(op.path, values)
        body = None
        if op.request_schema is not None:
            body = sample_value(self.document, op.request_schema, "body", variant)
            problem = schema_problem(self.document, op.request_schema, body)
            if problem:
                self.result.notes.append(f"{op.label}: could not build a valid body ({problem})")
                return
        request = self.describe(op.method, path, body)
        response = self.send(op.method, path, body)
        if not self.expect(op, response, request, wanted, "a documented success status"):
            return
        if op.method == "POST" and 200 <= response.status < 300:
            try:
                created = response.json()
            except (UnicodeDecodeError, json.JSONDecodeError):
                created = None
            if isinstance(created, dict):
                self.created.setdefault(op.path, []).append(created)
        for parameter in op.query_parameters():
            name = str(parameter.get("name"))
            known = [item.get(name) for item in self.created.get(op.path, []) if item.get(name) is not None]
            value = known[-1] if known else sample_value(self.document, parameter.get("schema") or {}, name)
            value = str(value).lower() if isinstance(value, bool) else value
            query = {name: value}
            response = self.send(op.method, path, query=query)
            self.expect(
                op,
                response,
                self.describe(op.method, path, query=query),
                wanted,
                "a documented success status",
            )
        if op.request_schema is not None:
            for what, bad in invalid_bodies(self.document, op.request_schema, body):
                request = self.describe(op.method, path, bad)
                response = self.send(op.method, path, bad)
                if 200 <= response.status < 300:
                    self.mismatch(
                        op.label,
                        "invalid_body_accepted",
                        f"a documented 4xx for a body {what}",
                        f"{response.status}: {response.shown()}",
                        request,
                    )
                else:
                    self.expect(op, response, request, op.statuses(4), f"a documented 4xx for a body {what}")

    def _unserved(self, op: Operation, response: Response) -> bool:
        """Record `op` as not built yet if it is outside `expected` and answered 404/405."""
        if self.expected is None or op.label in self.expected or response.status not in (404, 405):
            return False
        if op.label not in self.result.unserved:
            self.result.unserved.append(op.label)
        return True

    def probe_undocumented(self, ops: Sequence[Operation]) -> None:
        """Each documented path with each method it does not list, and paths the document lacks."""
        by_path: dict[str, list[Operation]] = {}
        for op in ops:
            by_path.setdefault(op.path, []).append(op)
        for template, mine in by_path.items():
            values = (
                (self.path_values(mine[0]) or self.missing_values(mine[0])) if mine[0].path_parameters else {}
            )
            path = _fill(template, values)
            documented = {op.method for op in mine}
            for method in (m.upper() for m in METHODS):
                if method in documented:
                    continue
                body = {} if method in ("POST", "PUT", "PATCH") else None
                self._expect_absent(f"{method} {template}", method, path, body)
        templates = list(by_path)
        for template in templates:
            if "{" in template or not template.startswith("/api/"):
                continue
            child = template.rstrip("/") + f"/{MISSING_ID}"
            if not any(_matches(other, child) for other in templates):
                self._expect_absent(f"GET {template}/{{id}}", "GET", child, None)
        if not any(_matches(other, UNDOCUMENTED_PATH) for other in templates):
            self._expect_absent(f"GET {UNDOCUMENTED_PATH}", "GET", UNDOCUMENTED_PATH, None)

    def _expect_absent(self, label: str, method: str, path: str, body: Any) -> None:
        response = self.send(method, path, body)
        if response.status not in (404, 405, 501):
            self.mismatch(
                label,
                "undocumented_operation",
                "404 or 405 (not in the document)",
                f"{response.status}: {response.shown()}",
                self.describe(method, path, body),
            )

    def delete(self, op: Operation) -> None:
        """The documented delete on a created object, then (if the path documents GET and 404) gone."""
        self.probe_missing(op, 1)
        values = self.path_values(op)
        if values is None:
            values, wanted = self.missing_values(op), []
        else:
            wanted = op.statuses(2)
        path = _fill(op.path, values)
        request = self.describe(op.method, path)
        response = self.send(op.method, path)
        if not self.expect(op, response, request, wanted, "a documented success status") or not wanted:
            return
        reader = next(
            (other for other in operations(self.document) if other.path == op.path and other.method == "GET"),
            None,
        )
        if reader is not None and reader.documented(404) == "404":
            response = self.send("GET", path)
            if response.status != 404:
                self.mismatch(
                    reader.label,
                    "not_found",
                    "404 after the item was deleted",
                    f"{response.status}: {response.shown()}",
                    self.describe("GET", path),
                )

    def run(self) -> ContractResult:
        ops = operations(self.document)
        # Creates first, so lists and reads return objects whose schema is then checked.
        order = {"POST": 0, "GET": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}
        ordered = sorted(
            ops, key=lambda op: (len(op.path_parameters), len(_segments(op.path)), op.path, order[op.method])
        )
        try:
            for index, op in enumerate(op for op in ordered if op.method != "DELETE"):
                self.result.operations.append(op.label)
                self.exercise(op, index % 3 + 1)
            self.probe_undocumented(ops)
            for op in sorted(
                (op for op in ops if op.method == "DELETE"), key=lambda op: -len(_segments(op.path))
            ):
                self.result.operations.append(op.label)
                self.delete(op)
        except OutOfTime:
            self.result.timed_out = True
            self.mismatch(
                "(all)",
                "unreachable",
                "the contract check to finish within its time limit",
                f"it ran out of time after {self.result.requests} requests",
                "",
            )
        except (OSError, http.client.HTTPException) as error:
            self.mismatch(
                "(all)",
                "unreachable",
                "the backend answering every request",
                f"{type(error).__name__}: {error}",
                "",
            )
        self.result.operations = sorted(set(self.result.operations))
        return self.result


def _matches(template: str, path: str) -> bool:
    """True if the concrete `path` (or a template of it) fits the document's path `template`."""
    want, got = _segments(template), _segments(path.split("?", 1)[0])
    if len(want) != len(got):
        return False
    for expected, actual in zip(want, got, strict=True):
        if re.fullmatch(r"\{[^}/]+\}", expected):
            continue
        if expected != actual:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Starting the backend (inside the sandbox) and the check around it


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(process: subprocess.Popen[bytes], port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def drive_backend(
    backend_dir: Path,
    document: Mapping[str, Any],
    deadline: float,
    expected: Collection[str] | None = None,
    python: str = sys.executable,
) -> ContractResult:
    """Start the backend in `backend_dir` on a free port of 127.0.0.1 with a database of its own,
    drive it from `document` until `deadline` (time.monotonic()), stop it. Runs in the sandbox."""
    work = Path(tempfile.mkdtemp(prefix="contract-"))
    port = free_port()
    command = [
        part.format(python=python, port=port, db=work / "contract.sqlite3") for part in BACKEND_COMMAND
    ]
    log_path = work / "backend.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=backend_dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
    result = ContractResult()
    try:
        started = _wait_for_port(process, port, min(deadline, time.monotonic() + START_TIMEOUT_S))
        result.started = started
        if not started:
            state = f"exited with {process.returncode}" if process.poll() is not None else "did not listen"
            result.mismatches.append(
                ContractMismatch(
                    component=BACKEND_FOLDER,
                    operation="(all)",
                    check="unreachable",
                    expected="the backend listening on a free port of 127.0.0.1",
                    got=f"the backend {state}",
                    request=" ".join(["python", *BACKEND_COMMAND[1:]]),
                    detail=log_path.read_text(encoding="utf-8", errors="replace")[-1000:],
                )
            )
        else:
            result = Driver(document, port, deadline, expected, result=result).run()
    finally:
        _stop(process)
        result.log_tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        shutil.rmtree(work, ignore_errors=True)
    return result


def sandbox_main(argv: Sequence[str]) -> int:
    """Entry point inside the sandbox: `<check folder> <seconds>`; writes result.json there."""
    folder, seconds = Path(argv[0]), float(argv[1])
    deadline = time.monotonic() + seconds
    document = json.loads((folder / "openapi.json").read_text(encoding="utf-8"))
    expected_file = folder / "expected.json"
    expected = json.loads(expected_file.read_text(encoding="utf-8")) if expected_file.exists() else None
    try:
        result = drive_backend(folder.parent / BACKEND_FOLDER, document, deadline, expected)
    except ContractDocumentError as error:
        result = ContractResult(
            mismatches=[
                ContractMismatch(
                    component=BACKEND_FOLDER,
                    operation="(document)",
                    check="unreachable",
                    expected="a usable OpenAPI document",
                    got=str(error),
                )
            ]
        )
    (folder / "result.json").write_text(result.model_dump_json(), encoding="utf-8")
    return 0


_BOOT = (
    "import sys; sys.path.insert(0, {root!r}); "
    "from assets.validations.contract import sandbox_main; sys.exit(sandbox_main(sys.argv[1:]))"
)


def check_backend_contract(
    tree: Mapping[str, str],
    openapi: Mapping[str, Any],
    timeout_s: float = 120.0,
    *,
    expected: Collection[str] | None = None,
    workdir_parent: Path | None = None,
    isolate: bool = True,
) -> ContractResult:
    """Start the backend of `tree` (path -> text) in the sandbox and drive it from `openapi`.

    `expected` lists the operations ('METHOD /path') the backend must serve; a documented operation
    outside it that answers 404/405 is listed as `unserved`, not as a mismatch. None: all of them.
    """
    started = time.monotonic()
    if BACKEND_ENTRY not in tree:
        return ContractResult(
            mismatches=[
                ContractMismatch(
                    component=BACKEND_FOLDER,
                    operation="(all)",
                    check="unreachable",
                    expected=f"a backend entry point ({BACKEND_ENTRY})",
                    got="no such file in the tree",
                )
            ]
        )
    files = {**tree, f"{CHECK_FOLDER}/openapi.json": json.dumps(openapi)}
    if expected is not None:
        files[f"{CHECK_FOLDER}/expected.json"] = json.dumps(sorted(expected))
    # The driver's own deadline comes first, so it reports what it found before the sandbox kills it.
    inner = max(timeout_s - 5.0, timeout_s * 0.8)
    # -I: the tree's own files (a json.py, an `assets` folder) must not shadow the driver's imports.
    command = [sys.executable, "-I", "-c", _BOOT.format(root=str(REPO_ROOT)), CHECK_FOLDER, f"{inner:.1f}"]
    with tempfile.TemporaryDirectory(prefix="contract-check-", dir=workdir_parent) as parent:
        run = run_tests_in_sandbox(
            files, command, timeout_s=timeout_s, workdir_parent=Path(parent), isolate=isolate, keep=True
        )
        outputs = list(Path(parent).glob(f"sandbox-*/work/{CHECK_FOLDER}/result.json"))
        text = outputs[0].read_text(encoding="utf-8") if outputs else None
    if text is not None:
        result = ContractResult.model_validate_json(text)
    else:
        result = ContractResult(
            timed_out=run.timed_out,
            mismatches=[
                ContractMismatch(
                    component=BACKEND_FOLDER,
                    operation="(all)",
                    check="unreachable",
                    expected=f"the contract check to finish within {timeout_s:g} s",
                    got="it was killed at the time limit"
                    if run.timed_out
                    else f"it stopped with exit code {run.returncode}",
                    detail=(run.stderr_tail or run.stdout_tail)[-1000:],
                )
            ],
        )
    result.network_isolated = run.network_isolated
    result.isolation = run.isolation
    result.duration_s = round(time.monotonic() - started, 3)
    return result


# ---------------------------------------------------------------------------------------------
# The frontend's calls


@dataclass(frozen=True)
class ApiCall:
    """One API request the frontend makes: method, path (parameters as `{name}`), where it is made."""

    method: str
    path: str
    source: str
    query: tuple[str, ...] = ()


_QUOTED = r"(?P<q>['\"`])(?P<path>(?:\$\{[^}]*\})?/api(?:/[^'\"`]*)?)(?P=q)"
_BASE = r"(?:[A-Za-z_$][\w$.]*\s*\+\s*)?"
_CALL_PATTERNS = (
    # fetch("/api/x", { method: "POST" }) (the method, if any, follows within the call)
    re.compile(r"\bfetch\(\s*" + _BASE + _QUOTED + r"(?P<rest>[^)]{0,400})"),
    # api("POST", "/api/x") and similar helpers that take the method first
    re.compile(r"\(\s*['\"](?P<method>GET|POST|PUT|PATCH|DELETE)['\"]\s*,\s*" + _BASE + _QUOTED, re.I),
    # axios.get("/api/x"), http.post(`/api/x/${id}`)
    re.compile(r"\.(?P<method>get|post|put|patch|delete)\(\s*" + _BASE + _QUOTED),
)
_FORM = re.compile(r"<form\b[^>]*>", re.I)
_ATTRIBUTE = re.compile(r"""(\w[\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_METHOD_OPTION = re.compile(r"""\bmethod\s*:\s*['"](\w+)['"]""")
_RESOURCES = re.compile(r"^\s*window\.RESOURCES\s*=\s*(?P<data>.*?);?\s*$", re.S)


def _call_path(raw: str) -> tuple[str, tuple[str, ...]]:
    """A literal path with `${...}` as `{param}` and its query parameter names."""
    path = re.sub(r"^\$\{[^}]*\}", "", raw)  # a base URL prefix: ${API_BASE}/api/...
    path, _, query = path.partition("?")
    path = re.sub(r"\$\{[^}]*\}", "{param}", path)
    if path.endswith("/") and path.strip("/") != "api":  # "/api/tasks/" + id
        path += "{param}"
    names = tuple(part.split("=", 1)[0] for part in query.split("&") if part and not part.startswith("${"))
    return path, names


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def frontend_calls(tree: Mapping[str, str], folder: str = FRONTEND_FOLDER) -> list[ApiCall]:
    """The API calls of the frontend in `folder/` (its tests are not the frontend)."""
    calls: list[ApiCall] = []
    prefix = folder.rstrip("/") + "/"
    for path, text in sorted(tree.items()):
        if not path.startswith(prefix) or path.startswith(prefix + "tests/"):
            continue
        if path.endswith("resources.js"):
            calls += _resource_table_calls(path, text)
        if not path.endswith((".js", ".mjs", ".ts", ".jsx", ".tsx", ".html", ".htm", ".vue", ".svelte")):
            continue
        for pattern in _CALL_PATTERNS:
            for match in pattern.finditer(text):
                method = match.groupdict().get("method")
                if method is None:
                    option = _METHOD_OPTION.search(match.groupdict().get("rest") or "")
                    method = option.group(1) if option else "GET"
                api_path, query = _call_path(match.group("path"))
                calls.append(ApiCall(method.upper(), api_path, f"{path}:{_line(text, match.start())}", query))
        for match in _FORM.finditer(text):
            attributes = {
                m.group(1).lower(): m.group(2) or m.group(3) or ""
                for m in _ATTRIBUTE.finditer(match.group(0))
            }
            action = attributes.get("action", "")
            if action.startswith("/api"):
                api_path, query = _call_path(action)
                method = attributes.get("method", "get").upper()
                calls.append(ApiCall(method, api_path, f"{path}:{_line(text, match.start())}", query))
    return calls


def _resource_table_calls(path: str, text: str) -> list[ApiCall]:
    """The calls the generated frontend makes from its `window.RESOURCES = [...]` table."""
    match = _RESOURCES.match(text)
    if not match:
        return []
    try:
        resources = json.loads(match.group("data"))
    except json.JSONDecodeError:
        return [ApiCall("?", "?", f"{path}: not a JSON table")]
    calls = []
    for resource in resources if isinstance(resources, list) else []:
        name = resource.get("name", "?")
        for kind, method in (resource.get("operations") or {}).items():
            collection = kind in ("list", "create")
            target = resource.get("collection_path" if collection else "item_path") or ""
            query = tuple(resource.get("list_parameters") or []) if kind == "list" else ()
            calls.append(ApiCall(str(method).upper(), target, f"{path}: {name} {kind}", query))
    return calls


def check_frontend_calls(
    tree: Mapping[str, str], openapi: Mapping[str, Any], folder: str = FRONTEND_FOLDER
) -> list[ContractMismatch]:
    """Every frontend call whose path, method or query parameter the document does not have."""
    ops = operations(openapi)
    templates = sorted({op.path for op in ops})
    out: list[ContractMismatch] = []
    seen: set[tuple[str, str, str, str]] = set()
    for call in frontend_calls(tree, folder):
        label = f"{call.method} {call.path}"
        candidates = [template for template in templates if _matches(template, call.path)]
        # A literal segment beats a parameter: /api/tasks/search before /api/tasks/{id}.
        candidates.sort(key=lambda template: template.count("{"))
        found = next(
            (op for template in candidates for op in ops if op.path == template and op.method == call.method),
            None,
        )
        if found is None:
            got = (
                f"no {call.method} on {candidates[0]} (it has "
                + ", ".join(op.method for op in ops if op.path == candidates[0])
                + ")"
                if candidates
                else "no such path in the document"
            )
            finding = (label, "undocumented_call", got, call.source)
            if finding not in seen:
                seen.add(finding)
                out.append(
                    ContractMismatch(
                        component=folder,
                        operation=label,
                        check="undocumented_call",
                        expected="a documented path and method",
                        got=got,
                        source=call.source,
                    )
                )
            continue
        declared = {str(parameter.get("name")) for parameter in found.query_parameters()}
        for name in call.query:
            if name not in declared:
                out.append(
                    ContractMismatch(
                        component=folder,
                        operation=found.label,
                        check="undocumented_parameter",
                        expected="a query parameter the operation declares ("
                        + (", ".join(sorted(declared)) or "none")
                        + ")",
                        got=name,
                        source=call.source,
                    )
                )
    return out
