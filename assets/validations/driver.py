"""The deterministic contract driver: sends the document's requests to a started backend.

For every operation it sends:

- a valid request: a body built from the request schema, path ids taken from objects the API
  created, and the list's query parameters one at a time; the status must be a documented success
  and a JSON response must validate against the documented schema;
- for operations with a request schema, bodies that break it (a required field missing, a field of
  the wrong type, an empty update where one field is required): a documented 4xx is expected;
- for operations that document 404, an id nothing was created with: 404 is expected;
- for every documented path, each method the document does not list, and a path under `/api/` the
  document does not have: 404 or 405 is expected (the backend serves nothing undocumented);
- references (`x-references`): a body field naming another entity gets the id of a record of it,
  created first by its own create operation (recursively); the same body with an id nothing has
  gets a documented 4xx;
- transitions (`x-transition` with `x-state-field`, `x-from-states`, `x-to-state`): on a fresh
  record, one transition its state does not allow gets the documented 409 and leaves the state as
  it was; then every transition is called from a state that allows it (walking the state machine),
  answering its documented success with the target state;
- deletes: a record something else still refers to gets the documented 409 (where one is
  documented); a fresh record is deleted and then reads 404.

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

from assets.validations.contract_model import (
    creators,
    next_step,
    references,
    refusal,
    transition_rules,
)
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
    made: int = 0  # records the driver created for references, walks and deletes (their variants)
    _creators: dict[str, Operation] | None = None

    # --- records the requests need -----------------------------------------------------------

    def creator(self, entity: str) -> Operation | None:
        if self._creators is None:
            self._creators = creators(operations(self.document))
        return self._creators.get(entity)

    def entity_at(self, collection: str) -> str | None:
        """The entity whose create operation is `POST collection`."""
        if self._creators is None:
            self._creators = creators(operations(self.document))
        return next((name for name, op in self._creators.items() if op.path == collection), None)

    def record_id(self, entity: str, chain: frozenset[str] = frozenset()) -> Any:
        """The id of a record of `entity`: the last one created, else a new one (None if neither)."""
        op = self.creator(entity)
        if op is None:
            return None
        known = [item["id"] for item in self.created.get(op.path, []) if item.get("id") is not None]
        if known:
            return known[-1]
        if entity in chain:
            return None
        made = self.create_record(entity, chain | {entity})
        return None if made is None else made.get("id")

    def fill_references(self, schema: Any, body: Any, chain: frozenset[str] = frozenset()) -> bool:
        """Point the body's reference fields at existing records; False if a required one has none."""
        if not isinstance(body, dict):
            return True
        for reference in references(self.document, schema):
            if reference.field not in body and not reference.required:
                continue
            value = self.record_id(reference.entity, chain)
            if value is not None:
                body[reference.field] = reference.value(value)
            elif reference.required:
                return False
            else:
                body.pop(reference.field, None)
        return True

    def create_record(self, entity: str, chain: frozenset[str] = frozenset()) -> dict[str, Any] | None:
        """A new record of `entity` made by its create operation (its references' records first)."""
        op = self.creator(entity)
        if op is None or op.request_schema is None:
            return None
        self.made += 1
        body = sample_value(self.document, op.request_schema, "body", 3 + self.made)
        if not self.fill_references(op.request_schema, body, chain | {entity}):
            return None
        if schema_problem(self.document, op.request_schema, body):
            return None
        response = self.send("POST", op.path, body)
        if not 200 <= response.status < 300:
            return None
        try:
            made = response.json()
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(made, dict) or made.get("id") is None:
            return None
        self.created.setdefault(op.path, []).append(made)
        return made

    def remember(self, collection: str, item: dict[str, Any]) -> None:
        """A record as the API last answered it (after an update or a transition)."""
        items = self.created.get(collection, [])
        for index, known in enumerate(items):
            if known.get("id") is not None and known.get("id") == item.get("id"):
                items[index] = item

    def referrers(self, entity: str, item_id: Any) -> list[str]:
        """'<collection>/<id>' of the created records whose reference fields point at the item."""
        found = []
        for collection, items in sorted(self.created.items()):
            source = self.entity_at(collection)
            if source is None:
                continue
            schema = {"$ref": f"#/components/schemas/{source}"}
            fields = [ref.field for ref in references(self.document, schema) if ref.entity == entity]
            for item in items:
                if any(item.get(name) == item_id for name in fields):
                    found.append(f"{collection}/{item.get('id')}")
        return found

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
            if not self.fill_references(op.request_schema, body):
                self.result.notes.append(
                    f"{op.label}: no record to refer to could be created; any documented status is accepted"
                )
                wanted = []
            problem = schema_problem(self.document, op.request_schema, body)
            if problem:
                self.result.notes.append(f"{op.label}: could not build a valid body ({problem})")
                return
        request = self.describe(op.method, path, body)
        response = self.send(op.method, path, body)
        if not self.expect(op, response, request, wanted, "a documented success status"):
            return
        if op.method in ("POST", "PUT", "PATCH") and 200 <= response.status < 300:
            try:
                created = response.json()
            except (UnicodeDecodeError, json.JSONDecodeError):
                created = None
            if isinstance(created, dict) and op.method == "POST" and not op.path_parameters:
                self.created.setdefault(op.path, []).append(created)
            elif isinstance(created, dict):
                self.remember(op.path.rsplit("/", 1)[0], created)
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
                self.expect_refused(op, path, bad, what)
            if wanted:
                self.probe_missing_reference(op, path, body)

    def probe_missing_reference(self, op: Operation, path: str, body: Any) -> None:
        """The valid body with its first reference pointing at no record gets a documented 4xx."""
        fields = [ref for ref in references(self.document, op.request_schema) if ref.field in (body or {})]
        if not fields:
            return
        reference = fields[0]
        bad = {**body, reference.field: MISSING_ID}
        self.expect_refused(op, path, bad, f"whose {reference.field} refers to no {reference.entity}")

    def expect_refused(self, op: Operation, path: str, bad: Any, what: str) -> None:
        """Send a body that must be refused: a 2xx is `invalid_body_accepted`, else a documented 4xx."""
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

    # --- transitions ---------------------------------------------------------------------------

    def walk(self, ops: Sequence[Operation]) -> None:
        """One entity's transitions on a fresh record: a refusal first, then each one allowed."""
        rules = transition_rules(ops)
        for op in ops:
            self.result.operations.append(op.label)
            self.probe_missing(op, 1)
        collection = ops[0].path.rsplit("/", 2)[0]
        entity = self.entity_at(collection)
        item = self.create_record(entity) if entity is not None else None
        if item is None:
            objects = [obj for obj in self.created.get(collection, []) if obj.get("id") is not None]
            item = objects[-1] if objects else None
        if rules is None or item is None or item.get(rules[0].field) is None:
            why = "the document names no states" if rules is None else "no record with a state to move"
            self.result.notes.append(f"transitions of {collection}: {why}; any documented status is accepted")
            for op in ops:
                self.call_transition(op, item, None, [], "a documented status")
            return
        state = item.get(rules[0].field)
        refused = refusal(rules, state)
        if refused is not None:
            wanted = ["409"] if refused.op.documented(409) == "409" else refused.op.statuses(4)
            what = f"a documented refusal: {refused.name} is not allowed from {state!r}"
            if self.call_transition(refused.op, item, None, wanted, what) is not None:
                self.check_state(refused.op, collection, item, refused.field, state)
        untested = list(rules)
        fresh_tried = False
        for _ in range(4 * len(rules) + 4):
            if not untested:
                break
            step = next_step(rules, state, untested)
            if step is None and not fresh_tried and entity is not None:
                fresh_tried = True  # states left behind may be reachable again from a new record
                made = self.create_record(entity)
                if made is not None and made.get(rules[0].field) is not None:
                    item, state = made, made.get(rules[0].field)
                    continue
            if step is None:
                for rule in untested:
                    self.result.notes.append(
                        f"{rule.op.label}: no walk from the created records' states reaches "
                        f"{', '.join(rule.from_states) or 'a state it allows'}"
                    )
                break
            what = f"a documented success: {step.name} is allowed from {state!r}"
            data = self.call_transition(step.op, item, step.to_state, step.op.statuses(2), what)
            if step.op.label in self.result.unserved:
                rules = [rule for rule in rules if rule is not step]
                untested = [rule for rule in untested if rule is not step]
                continue
            if data is None:
                break  # a mismatch is recorded; the record's state is not known any more
            untested = [rule for rule in untested if rule is not step]
            state = step.to_state

    def call_transition(
        self, op: Operation, item: Mapping[str, Any] | None, target: str | None, wanted: list[str], what: str
    ) -> dict[str, Any] | None:
        """POST the transition on `item`; the response body if the status was one of `wanted`."""
        path = _fill(op.path, {name: (item or {}).get("id", MISSING_ID) for name in op.path_parameters})
        request = self.describe(op.method, path)
        response = self.send(op.method, path)
        if self._unserved(op, response):  # a transition no built story enables yet
            return None
        if not self.expect(op, response, request, wanted, what):
            return None
        try:
            data = response.json()
        except (UnicodeDecodeError, json.JSONDecodeError):
            return {}
        if isinstance(data, dict) and data.get("id") is not None:
            self.remember(op.path.rsplit("/", 2)[0], data)
        if target is not None and isinstance(data, dict):
            field_name = str(op.spec.get("x-state-field"))
            if data.get(field_name) != target:
                self.mismatch(
                    op.label,
                    "transition_state",
                    f"{field_name} {target!r} after {op.spec.get('x-transition')}",
                    f"{field_name} {data.get(field_name)!r}",
                    request,
                )
        return data if isinstance(data, dict) else {}

    def check_state(
        self, op: Operation, collection: str, item: Mapping[str, Any], field_name: str, state: Any
    ) -> None:
        """After a refused transition the record still has its state (where a read is documented)."""
        reader = next(
            (
                other
                for other in operations(self.document)
                if other.method == "GET" and other.path == collection + "/{id}"
            ),
            None,
        )
        if reader is None:
            return
        path = _fill(reader.path, {name: item.get("id") for name in reader.path_parameters})
        response = self.send("GET", path)
        try:
            now = response.json().get(field_name) if response.status == 200 else state
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            return
        if now != state:
            self.mismatch(
                op.label,
                "transition_state",
                f"{field_name} still {state!r} after a refused {op.spec.get('x-transition')}",
                f"{field_name} {now!r}",
                self.describe("GET", path),
            )

    # --- deletes -----------------------------------------------------------------------------

    def delete(self, op: Operation) -> None:
        """A record still referred to gets the documented 409; a fresh record is deleted (the
        documented success), then reads 404 where the path documents GET and 404."""
        self.probe_missing(op, 1)
        collection = op.path.rsplit("/", 1)[0]
        entity = self.entity_at(collection)
        if entity is not None and op.documented(409) == "409":
            for item in reversed(self.created.get(collection, [])):
                if self.referrers(entity, item.get("id")):
                    path = _fill(op.path, {name: item.get("id") for name in op.path_parameters})
                    response = self.send(op.method, path)
                    self.expect(
                        op,
                        response,
                        self.describe(op.method, path),
                        ["409"],
                        f"a documented 409: {', '.join(self.referrers(entity, item.get('id')))} refer to it",
                    )
                    break
        fresh = self.create_record(entity) if entity is not None else None
        if fresh is not None:
            values: dict[str, Any] | None = {name: fresh["id"] for name in op.path_parameters}
        else:
            values = self.path_values(op)
        if values is None:
            values, wanted = self.missing_values(op), []
        else:
            wanted = op.statuses(2)
            item_id = next(iter(values.values()), None)
            if entity is not None and self.referrers(entity, item_id) and op.documented(409) == "409":
                wanted = [*wanted, "409"]  # only records others refer to are left
        path = _fill(op.path, values)
        request = self.describe(op.method, path)
        response = self.send(op.method, path)
        if not self.expect(op, response, request, wanted, "a documented success status") or not wanted:
            return
        if response.status >= 300:
            return
        ids = set(values.values())
        self.created[collection] = [
            item for item in self.created.get(collection, []) if item.get("id") not in ids
        ]
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
        moves: dict[str, list[Operation]] = {}
        for op in ordered:
            if op.method == "POST" and op.spec.get("x-transition") and op.path_parameters:
                moves.setdefault(op.path.rsplit("/", 1)[0], []).append(op)
        walked = {id(op) for group in moves.values() for op in group}
        try:
            plain = [op for op in ordered if op.method != "DELETE" and id(op) not in walked]
            for index, op in enumerate(plain):
                self.result.operations.append(op.label)
                self.exercise(op, index % 3 + 1)
            for _, group in sorted(moves.items()):
                self.walk(group)
            self.probe_undocumented(ops)
            # Records that refer to others go first, so each delete meets the fewest references.
            for op in sorted(
                (op for op in ops if op.method == "DELETE"),
                key=lambda op: (-len(_segments(op.path)), -self.reference_depth(op), op.path),
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

    def reference_depth(self, op: Operation) -> int:
        """How many references deep the entity of the item path is (a comment of a task of a project: 2)."""
        entity = self.entity_at(op.path.rsplit("/", 1)[0])
        depth, seen = 0, set()
        while entity is not None and entity not in seen:
            seen.add(entity)
            refs = references(self.document, {"$ref": f"#/components/schemas/{entity}"})
            entity = refs[0].entity if refs else None
            depth += 1 if refs else 0
        return depth


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
