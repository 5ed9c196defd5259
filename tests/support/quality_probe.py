"""Drives a started generated backend over HTTP: CRUD and refusals per entity (runs in the sandbox).

Standard library only, started as a script inside the sandbox beside the generated tree:
`python quality_probe.py plan.json result.json`. The plan (written by `tests/support/quality.py`)
says how to start the backend (argv with `{port}`, folder, health path, environment) and, per entity,
its paths and the request bodies to send; a body value `{"$id_of": "Pet"}` is replaced by the id of
a record of that entity created first. The result names, per entity, each check and whether it held.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

MISSING_ID = 987654321
TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def send(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
        try:
            data = None if body is None else json.dumps(body).encode()
            headers = {"Accept": "application/json"}
            if data is not None:
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode("utf-8", "replace")[:200]
            return response.status, parsed
        except OSError as error:
            return 0, f"{type(error).__name__}: {error}"
        finally:
            connection.close()


class Prober:
    def __init__(self, client: Client, entities: dict[str, Any]) -> None:
        self.client = client
        self.entities = entities
        self.ids: dict[str, Any] = {}
        self.notes: list[str] = []

    def fill(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, dict) and set(value) == {"$id_of"}:
            return self.id_of(value["$id_of"], depth + 1)
        if isinstance(value, dict):
            return {key: self.fill(item, depth) for key, item in value.items()}
        if isinstance(value, list):
            return [self.fill(item, depth) for item in value]
        return value

    def id_of(self, entity: str, depth: int = 0) -> Any:
        """The id of a record of `entity`, creating one (and what it refers to) when there is none."""
        if entity in self.ids:
            return self.ids[entity]
        plan = self.entities.get(entity)
        if plan is None or depth > 6 or not plan.get("create"):
            self.notes.append(f"no way to create a {entity} to refer to")
            return 1
        status, body = self.client.send("POST", plan["collection"], self.fill(plan["parent_body"], depth))
        if 200 <= status < 300 and isinstance(body, dict) and "id" in body:
            self.ids[entity] = body["id"]
            return body["id"]
        self.notes.append(f"creating the {entity} referred to answered {status}: {str(body)[:200]}")
        return 1

    def probe(self, name: str) -> dict[str, Any]:
        plan = self.entities[name]
        checks: dict[str, bool | None] = {}
        detail: dict[str, str] = {}
        counts: dict[str, list[int]] = {}
        send = self.client.send
        collection, item = plan["collection"], plan.get("item")
        record_id: Any = None
        sent: dict[str, Any] = {}
        if plan.get("create"):
            sent = self.fill(plan["body"])
            status, body = send("POST", collection, sent)
            checks["create"] = 200 <= status < 300 and isinstance(body, dict) and "id" in body
            if checks["create"]:
                record_id = body["id"]
                self.ids.setdefault(name, record_id)
            else:
                detail["create"] = f"POST {collection} {json.dumps(sent)[:200]} -> {status} {str(body)[:200]}"
        else:
            checks["create"] = False
            detail["create"] = "the contract has no create operation"
        path = item.replace("{id}", str(record_id)) if item and record_id is not None else None
        if plan.get("read") and path:
            status, body = send("GET", path)
            # Free strings must come back as sent; formatted values (dates, times) may be normalised.
            same = (
                isinstance(body, dict)
                and body.get("id") == record_id
                and all(key in body for key in sent)
                and all(body.get(key) == sent[key] for key in plan.get("compare", []))
            )
            checks["read"] = status == 200 and same
            if not checks["read"]:
                detail["read"] = f"GET {path} -> {status} {str(body)[:200]}"
        else:
            checks["read"] = False
        if plan.get("list"):
            status, body = send("GET", collection)
            items = (
                body
                if isinstance(body, list)
                else (body or {}).get("items")
                if isinstance(body, dict)
                else None
            )
            checks["list"] = (
                status == 200
                and isinstance(items, list)
                and (
                    record_id is None
                    or any(isinstance(row, dict) and row.get("id") == record_id for row in items)
                )
            )
            if not checks["list"]:
                detail["list"] = f"GET {collection} -> {status} {str(body)[:200]}"
        else:
            checks["list"] = False
        if plan.get("update") and path and plan.get("update_body"):
            method = plan["update"]
            change = self.fill(plan["update_body"])
            status, body = send(method, path, change)
            ok = 200 <= status < 300
            if ok:
                status2, after = send("GET", path)
                ok = (
                    status2 == 200
                    and isinstance(after, dict)
                    and all(after.get(k) == v for k, v in change.items())
                )
            checks["update"] = ok
            if not ok:
                detail["update"] = f"{method} {path} {json.dumps(change)[:200]} -> {status} {str(body)[:200]}"
        else:
            checks["update"] = False
        if plan.get("create") and plan.get("missing_field"):
            body = {key: value for key, value in sent.items() if key != plan["missing_field"]}
            status, answer = send("POST", collection, body)
            checks["refuses_missing_field"] = 400 <= status < 500
            if not checks["refuses_missing_field"]:
                detail["refuses_missing_field"] = f"POST without {plan['missing_field']} -> {status}"
        else:
            checks["refuses_missing_field"] = None
            detail["refuses_missing_field"] = "no required field to leave out"
        if item and plan.get("read"):
            status, _ = send("GET", item.replace("{id}", str(MISSING_ID)))
            checks["missing_id_404"] = status == 404
            if status != 404:
                detail["missing_id_404"] = f"GET {item} with an unknown id -> {status}"
        else:
            checks["missing_id_404"] = False
        if path and plan.get("read"):
            self.behaviour(plan, path, record_id, checks, detail, counts)
        if plan.get("delete") and path:
            status, _ = send("DELETE", path)
            ok = 200 <= status < 300
            if ok:
                ok = send("GET", path)[0] == 404
            checks["delete"] = ok
            if not ok:
                detail["delete"] = f"DELETE {path} -> {status}"
            if self.ids.get(name) == record_id:
                self.ids.pop(name)
        else:
            checks["delete"] = False
        return {"checks": checks, "detail": detail, "counts": counts}

    def _route(
        self, transitions: list[dict[str, Any]], record: dict[str, Any], goal: dict[str, Any]
    ) -> list[dict[str, Any]] | None:
        """The shortest list of other transitions that brings `record` to a state `goal` starts from."""
        field = goal["field"]
        start = record.get(field)
        frontier: list[tuple[Any, list[dict[str, Any]]]] = [(start, [])]
        seen = {start}
        while frontier:
            state, route = frontier.pop(0)
            if state in self._allowed(goal):
                return route
            for transition in transitions:
                if transition is goal or transition["field"] != field:
                    continue
                if state in self._allowed(transition) and transition["to"] not in seen:
                    seen.add(transition["to"])
                    frontier.append((transition["to"], [*route, transition]))
        return None

    def _walk(
        self, route: list[dict[str, Any]], record: dict[str, Any], path: str, problems: list[str]
    ) -> tuple[bool, dict[str, Any]]:
        """Apply each transition of `route` to the record; True if the last one moved it too."""
        for transition in route:
            target = transition["path"].replace("{id}", str(record["id"]))
            status, body = self.client.send("POST", target)
            moved = isinstance(body, dict) and body.get(transition["field"]) == transition["to"]
            if status != 200 or not moved:
                problems.append(f"POST {target} -> {status} {str(body)[:150]}")
                return False, record
            record = body
        return True, record

    # -- beyond CRUD: transitions, search and filters, summaries ------------------------------

    def behaviour(
        self,
        plan: dict[str, Any],
        path: str,
        record_id: Any,
        checks: dict[str, bool | None],
        detail: dict[str, str],
        counts: dict[str, list[int]],
    ) -> None:
        for check in ("transitions", "transition_refused", "search", "summaries"):
            checks[check] = None
        status, record = self.client.send("GET", path)
        if status != 200 or not isinstance(record, dict):
            return
        if plan.get("filters"):
            self.search(plan, record, checks, detail, counts)
        if plan.get("summaries"):
            self.summaries(plan, checks, detail, counts)
        if plan.get("transitions"):
            self.transitions(plan, path, record_id, record, checks, detail, counts)

    @staticmethod
    def _ids(body: Any) -> list[Any] | None:
        items = body.get("items") if isinstance(body, dict) else body
        if not isinstance(items, list):
            return None
        return [row.get("id") for row in items if isinstance(row, dict)]

    def _query(self, collection: str, name: str, value: Any) -> tuple[int, list[Any] | None]:
        text = "true" if value is True else "false" if value is False else str(value)
        status, body = self.client.send("GET", f"{collection}?{urlencode({name: text})}")
        return status, self._ids(body)

    @staticmethod
    def _other_value(spec: dict[str, Any], value: Any) -> Any:
        """A value of the parameter's type that the record does not have."""
        if spec.get("enum"):
            return next((item for item in spec["enum"] if item != value), None)
        if isinstance(value, bool) or spec.get("type") == "boolean":
            return not value
        if isinstance(value, int | float):
            return value + 1000
        formatted = {"date": "1999-12-31", "date-time": "1999-12-31T23:59:00Z", "time": "23:59"}
        if spec.get("format") in formatted:
            other = formatted[spec["format"]]
            return other if other != value else None
        if spec.get("format") == "email":
            return "nobody-else@example.org"
        if spec.get("format") == "uri":
            return "https://example.org/no-such-page"
        return None if value is None else f"{value}-no-such-value"

    def search(
        self,
        plan: dict[str, Any],
        record: dict[str, Any],
        checks: dict[str, bool | None],
        detail: dict[str, str],
        counts: dict[str, list[int]],
    ) -> None:
        """Each filter finds the record by its own value and leaves it out for another value; `q`
        finds it by part of one of its texts and leaves it out for a text nobody wrote."""
        collection, record_id = plan["collection"], record.get("id")
        held = tried = 0
        problems = []
        for spec in plan["filters"]:
            name = spec["name"]
            if name == "q":
                texts = [
                    record[field]
                    for field in plan.get("q_fields", [])
                    if isinstance(record.get(field), str) and len(record[field]) >= 3
                ]
                if not texts:
                    continue
                probes = [(texts[0][1:].upper(), True), ("zq-nothing-matches-zq", False)]
            else:
                value = record.get(name)
                if value is None:
                    continue
                other = self._other_value(spec, value)
                probes = [(value, True)] + ([(other, False)] if other is not None else [])
            tried += 1
            ok = True
            for value, wanted in probes:
                status, ids = self._query(collection, name, value)
                found = ids is not None and record_id in ids
                if status != 200 or found != wanted:
                    ok = False
                    where = "found" if found else "missing"
                    problems.append(f"?{name}={value!r} -> {status}, record {where}")
            held += ok
        if tried:
            checks["search"] = held == tried
            counts["search"] = [held, tried]
            if problems:
                detail["search"] = "; ".join(problems)[:400]

    def summaries(
        self,
        plan: dict[str, Any],
        checks: dict[str, bool | None],
        detail: dict[str, str],
        counts: dict[str, list[int]],
    ) -> None:
        """Every summary answers 200 with rows of {group, value}; a plain count counts the record."""
        held, problems = 0, []
        for summary in plan["summaries"]:
            status, body = self.client.send("GET", summary["path"])
            rows_ok = (
                status == 200
                and isinstance(body, list)
                and all(
                    isinstance(row, dict)
                    and "group" in row
                    and isinstance(row.get("value"), int | float)
                    and not isinstance(row.get("value"), bool)
                    for row in body
                )
            )
            if rows_ok and summary.get("counts_every_record"):
                rows_ok = sum(row["value"] for row in body) >= 1
            held += rows_ok
            if not rows_ok:
                problems.append(f"GET {summary['path']} -> {status} {str(body)[:150]}")
        checks["summaries"] = held == len(plan["summaries"])
        counts["summaries"] = [held, len(plan["summaries"])]
        if problems:
            detail["summaries"] = "; ".join(problems)[:400]

    @staticmethod
    def _allowed(transition: dict[str, Any]) -> list[Any]:
        return transition["from"] or [s for s in transition["states"] if s != transition["to"]]

    def transitions(
        self,
        plan: dict[str, Any],
        path: str,
        record_id: Any,
        record: dict[str, Any],
        checks: dict[str, bool | None],
        detail: dict[str, str],
        counts: dict[str, list[int]],
    ) -> None:
        """From the record's state, every transition allowed there moves it to its target (200),
        walking on until none is left; then one not allowed from the state it ended in is refused
        (409) and leaves the state as it was. Transitions never reachable are counted as not tried."""
        send = self.client.send
        pending = list(plan["transitions"])
        state = {t["field"]: record.get(t["field"]) for t in pending}
        held, problems = 0, []
        moved = True
        while moved and pending:
            moved = False
            for transition in list(pending):
                if state.get(transition["field"]) not in self._allowed(transition):
                    continue
                pending.remove(transition)
                target = transition["path"].replace("{id}", str(record_id))
                status, body = send("POST", target)
                field, to_state = transition["field"], transition["to"]
                ok = status == 200 and isinstance(body, dict) and body.get(field) == to_state
                if ok:
                    after_status, after = send("GET", path)
                    ok = after_status == 200 and isinstance(after, dict) and after.get(field) == to_state
                if ok:
                    held += 1
                    state[transition["field"]] = transition["to"]
                    moved = True
                else:
                    start = state.get(transition["field"])
                    problems.append(f"POST {target} from {start!r} -> {status} {str(body)[:150]}")
        # A transition on another branch ("cancel" or "complete" from open) starts on a fresh record,
        # walked there by the shortest path of transitions already seen to work.
        for body in plan.get("fresh_bodies", []):
            if not pending:
                break
            status, fresh = send("POST", plan["collection"], self.fill(body))
            if not (200 <= status < 300 and isinstance(fresh, dict) and "id" in fresh):
                break
            fresh_path = path.rsplit("/", 1)[0] + f"/{fresh['id']}"
            for transition in list(pending):
                route = self._route(plan["transitions"], fresh, transition)
                if route is None:
                    continue
                pending.remove(transition)
                ok, fresh = self._walk([*route, transition], fresh, fresh_path, problems)
                held += ok
                break
            send("DELETE", fresh_path)
        tried = len(plan["transitions"]) - len(pending)
        checks["transitions"] = bool(tried) and held == tried
        counts["transitions"] = [held, len(plan["transitions"])]
        refusable = [t for t in plan["transitions"] if state.get(t["field"]) not in self._allowed(t)]
        if refusable:
            transition = refusable[0]
            target = transition["path"].replace("{id}", str(record_id))
            before = state.get(transition["field"])
            status, body = send("POST", target)
            after_status, after = send("GET", path)
            unchanged = (
                after_status == 200 and isinstance(after, dict) and after.get(transition["field"]) == before
            )
            checks["transition_refused"] = status == 409 and unchanged
            if not checks["transition_refused"]:
                problems.append(f"POST {target} from {before!r} (not allowed) -> {status} {str(body)[:150]}")
        if pending:
            problems.append("never reachable from the start: " + ", ".join(t["name"] for t in pending))
        if problems:
            detail["transitions"] = "; ".join(problems)[:500]


def wait_until_up(process: subprocess.Popen[bytes], client: Client, health: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        status, _ = client.send("GET", health)
        if status and status < 500:
            return True
        time.sleep(0.15)
    return False


def main(plan_path: str, result_path: str) -> int:
    plan = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    work = Path(tempfile.mkdtemp(prefix="probe-"))
    port = free_port()
    # `python` first means the component's own environment: first on PATH in the sandbox.
    first = plan["argv"][0]
    if first == "python":
        first = shutil.which("python") or sys.executable
    argv = [first, *(part.replace("{port}", str(port)) for part in plan["argv"][1:])]
    argv = [part.replace("{db}", str(work / "app.sqlite3")) for part in argv]
    env = dict(os.environ)
    database = work / "app.sqlite3"
    env.update({"PORT": str(port), "DATABASE_PATH": str(database), "HOST": "127.0.0.1"})
    if "DATABASE_URL" in plan.get("env", []):
        env["DATABASE_URL"] = f"sqlite:///{database}"
    log = (work / "app.log").open("wb")
    process = subprocess.Popen(
        argv, cwd=plan["cwd"], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
    )
    result: dict[str, Any] = {"started": False, "entities": {}, "notes": []}
    client = Client(port)
    try:
        result["started"] = wait_until_up(process, client, plan["health"], time.monotonic() + 30)
        if result["started"]:
            prober = Prober(client, plan["entities"])
            for name in plan["order"]:
                result["entities"][name] = prober.probe(name)
            result["notes"] = prober.notes
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
        result["log_tail"] = (work / "app.log").read_text(encoding="utf-8", errors="replace")[-1500:]
    Path(result_path).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
