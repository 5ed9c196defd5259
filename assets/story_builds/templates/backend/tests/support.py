"""Test helpers: the backend started as a real process, on a free port, with a database of its own."""

from __future__ import annotations

import http.client
import json
import re
import selectors
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import Any

BACKEND = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0


class Backend:
    """`python -m app` on 127.0.0.1 with its database at `db_path`; restartable on the same database."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.log_path = db_path.with_suffix(".log")
        self.process: subprocess.Popen[str] | None = None
        self.port = 0

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app", "--port", "0", "--db", str(self.db_path), "--no-static"],
                cwd=BACKEND,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        line = self._first_line()
        match = re.search(r"http://[^:]+:(\d+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the backend did not start: {line!r}\n{self.log()}")
        self.port = int(match.group(1))

    def _first_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if selector.select(timeout=0.5):
                    return self.process.stdout.readline()
                if self.process.poll() is not None:
                    break
        return ""

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """(status, decoded JSON body or None) of one request."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            data = None if body is None else json.dumps(body).encode("utf-8")
            headers = {"Content-Type": "application/json"} if data is not None else {}
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        return response.status, (json.loads(raw) if raw else None)


class ApiTestCase(unittest.TestCase):
    """Each test gets a fresh backend and database; `self.api(...)` sends one request."""

    def setUp(self) -> None:
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.backend = Backend(Path(folder.name) / "app.sqlite3")
        self.backend.start()
        self.addCleanup(self.backend.stop)

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return self.backend.request(method, path, body)

    def created(self, method: str, path: str, body: Any) -> dict[str, Any]:
        """Create one record (set-up for a test), asserting the API accepted it."""
        status, item = self.api(method, path, body)
        self.assertEqual(status, 201, item)
        return item

    def moved(self, method: str, path: str) -> dict[str, Any]:
        """Apply one transition (set-up for a test), asserting the API allowed it."""
        status, item = self.api(method, path)
        self.assertEqual(status, 200, item)
        return item

    def refused(self, status: int, method: str, path: str, body: Any = None, names: str = "") -> str:
        """Send a request the API must refuse with `status`; its detail must name `names`."""
        got, error = self.api(method, path, body)
        self.assertEqual(got, status, error)
        detail = str(error["detail"])
        if names:
            self.assertIn(names, detail)
        return detail

    @staticmethod
    def path_of(template: str, item_id: int) -> str:
        """ "/api/tasks/{id}" with the id filled in."""
        return re.sub(r"\{[^}]*\}", str(item_id), template)

    def shortDescription(self) -> None:  # one line per test in `unittest -v` output
        return None
