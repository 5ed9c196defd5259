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
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
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
BACKEND_COMMAND = ("{python}", "-m", "app", "--host", "127.0.0.1", "--port", "{port}", "--db", "{db}", "--no-static")
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


def sample_value(document: Mapping[str, Any], schema: Any, name: str = "value", variant: int = 1, depth: int = 0) -> Any:
    """A deterministic value that satisfies `schema` (type, format, enum, bounds, required)."""
    schema = resolve(document, schema)
    if not isinstance(schema, Mapping) or depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    enum = [item for item in schema.get("enum") or [] if item is not None]
    if enum:
        return enum[(variant - 1) % len(enum)]
    for key in ("allOf",):
        if schema.get(key):
            merged: dict[str, Any] = {}
            for part in schema[key]:
                value = sample_value(document, part, name, variant, depth + 1)
                if isinstance(value, dict):
                    merged.update(value)
                else:
                    return value
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
        return [sample_value(document, schema.get("items") or {}, name, variant + i, depth + 1) for i in range(count)]
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
    """A value of another JSON type than `schema` allows (an object where a string is wanted, ...)."""
    schema = resolve(document, schema)
    kinds = schema.get("type") if isinstance(schema, Mapping) else None
    kinds = set(kinds if isinstance(kinds, list) else [kinds] if kinds else [])
    for candidate, kind in ((12345, "integer"), ("not a number", "number"), ({"not": "this"}, "object")):
        if kind not in kinds and not (kind == "integer" and "number" in kinds):
            return candidate
    return [None]


def invalid_bodies(document: Mapping[str, Any], schema: Mapping[str, Any], valid: Any) -> list[tuple[str, Any]]:
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
        candidates.append(("a JSON value of the wrong type", {"not": "this"} if not isinstance(valid, dict) else 1))
    return [(what, body) for what, body in candidates if schema_problem(document, schema, body)]


# ---------------------------------------------------------------------------------------------
# Driving a started backend


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


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

    def send(self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None) -> Response:
        if time.monotonic() > self.deadline:
            raise TimeoutError("the contract check ran out of time")
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
                f"{response.content_type or 'no content type'}: {_short(response.body.decode('utf-8', 'replace'))}",
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
        """True if the status is documented and one of the `wanted` keys' families; else a mismatch."""
        key = op.documented(response.status)
        if key is not None and (not wanted or key in wanted):
            self.check_response(op, response, request)
            return True
        if key is None and response.status in (404, 405) and self.expected is not None:
            if op.label not in self.expected:  # an operation no built story enables yet
                if op.label not in self.result.unserved:
                    self.result.unserved.append(op.label)
                return False
        self.mismatch(
            op.label,
            "status",
            f"{what} ({', '.join(wanted) or 'none documented'})",
            f"{response.status}: {_short(response.body.decode('utf-8', 'replace'))}",
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

    def exercise(self, op: Operation, variant: int) -> None:
        """The operation's valid request(s), its invalid bodies and its unknown-id probe."""
        values = self.path_values(op) if op.path_parameters else {}
        if op.path_parameters and op.documented(404) == "404":
            path = _fill(op.path, self.missing_values(op))
            body = sample_value(self.document, op.request_schema, "body", variant) if op.request_schema else None
            response = self.send(op.method, path, body)
            request = self.describe(op.method, path, body)
            if response.status != 404 and not self._unserved(op, response):
                self.mismatch(op.label, "not_found", "404 for an id nothing was created with",
                              f"{response.status}: {_short(response.body.decode('utf-8', 'replace'))}", request)
            elif response.status == 404:
                self.check_response(op, response, request)
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
            self.expect(op, response, self.describe(op.method, path, query=query), wanted, "a documented success status")
        if op.request_schema is not None:
            for what, bad in invalid_bodies(self.document, op.request_schema, body):
                request = self.describe(op.method, path, bad)
                response = self.send(op.method, path, bad)
                if 200 <= response.status < 300:
                    self.mismatch(op.label, "invalid_body_accepted", f"a documented 4xx for a body {what}",
                                  f"{response.status}: {_short(response.body.decode('utf-8', 'replace'))}", request)
                else:
                    self.expect(op, response, request, op.statuses(4), f"a documented 4xx for a body {what}")

    def _unserved(self, op: Operation, response: Response) -> bool:
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
            values = (self.path_values(mine[0]) or self.missing_values(mine[0])) if mine[0].path_parameters else {}
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
            self.mismatch(label, "undocumented_operation", "404 or 405 (not in the document)",
                          f"{response.status}: {_short(response.body.decode('utf-8', 'replace'))}",
                          self.describe(method, path, body))

    def delete(self, op: Operation) -> None:
        """The documented delete on a created object, then (if the path documents GET and 404) gone."""
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
            (other for other in operations(self.document) if other.path == op.path and other.method == "GET"), None
        )
        if reader is not None and reader.documented(404) == "404":
            response = self.send("GET", path)
            if response.status != 404:
                self.mismatch(reader.label, "not_found", "404 after the item was deleted",
                              f"{response.status}: {_short(response.body.decode('utf-8', 'replace'))}",
                              self.describe("GET", path))

    def run(self) -> ContractResult:
        ops = operations(self.document)
        order = {method.upper(): index for index, method in enumerate(METHODS)}
        ordered = sorted(ops, key=lambda op: (len(op.path_parameters), len(_segments(op.path)), op.path, order[op.method]))
        try:
            for variant, op in enumerate((op for op in ordered if op.method != "DELETE"), start=1):
                self.result.operations.append(op.label)
                self.exercise(op, (variant % 3) + 1)
            self.probe_undocumented(ops)
            for op in sorted((op for op in ops if op.method == "DELETE"), key=lambda op: -len(_segments(op.path))):
                self.result.operations.append(op.label)
                self.delete(op)
        except TimeoutError:
            self.result.timed_out = True
        except (OSError, http.client.HTTPException) as error:
            self.mismatch("(all)", "unreachable", "the backend answering every request", f"{type(error).__name__}: {error}", "")
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
