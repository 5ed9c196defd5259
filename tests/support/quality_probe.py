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
        return {"checks": checks, "detail": detail}


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
