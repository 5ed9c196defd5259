"""The deterministic contract driver: sends the document's requests to a started backend.

For every operation it sends:

- a valid request: a body built from the request schema, path ids taken from objects the API
  created, and the list's query parameters one at a time; the status must be a documented success
  and a JSON response must validate against the documented schema;
- for operations with a request schema, bodies that break it (a required field missing, a field of
  the wrong type, an empty update where one field is required): a documented 4xx is expected;
- for operations that document 404, an id nothing was created with: 404 is expected;
- for every documented path, each method the document does not list, and a path under `/api/` the
  document does not have: 404 or 405 is expected (the backend serves nothing undocumented).

The same backend and document always give the same requests, findings and data version.
"""

from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from assets.validations.models import ContractMismatch, ContractResult, MismatchCheck
from assets.validations.openapi_schemas import (
    METHODS,
    Operation,
    first_type,
    invalid_bodies,
    operations,
    resolve,
    sample_value,
    schema_problem,
)

REQUEST_TIMEOUT_S = 10.0
UNDOCUMENTED_PATH = "/api/__not-in-the-contract__"
MISSING_ID = 987654321
SHOWN = 300


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
    component: str = "backend"
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
            kind = first_type(resolve(self.document, op.parameter_schema(name, "path")))
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
            if not any(matches(other, child) for other in templates):
                self._expect_absent(f"GET {template}/{{id}}", "GET", child, None)
        if not any(matches(other, UNDOCUMENTED_PATH) for other in templates):
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


def matches(template: str, path: str) -> bool:
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
