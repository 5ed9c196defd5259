"""A private PostgreSQL cluster for tests: initdb in a temporary folder, one port on 127.0.0.1.

The server binaries (PostgreSQL 15 on these machines) are found in `PG_BIN`, in
`/usr/lib/postgresql/<version>/bin`, or through `pg_config --bindir`. Where they are missing the tests
that need them are skipped with the reason, except under CI (`CI=true`), where `make test` installs
them, so a missing server there is a failure. PostgreSQL refuses to run as root: when the tests run
as root the cluster belongs to the `postgres` user and is driven through `runuser`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

_PREFERRED_VERSIONS = ("15", "16", "17", "14")


@dataclass(frozen=True)
class PostgresServer:
    """A running cluster; the superuser `postgres` connects without a password (trust on 127.0.0.1)."""

    host: str
    port: int
    user: str
    data_dir: Path

    def connect(self, database: str = "postgres"):
        return psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=database)

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database with a unique name, so tests never share Dagster storage."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        connection = self.connect()
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            connection.close()
        return name

    def dagster_env(self, database: str) -> dict[str, str]:
        """The DAGSTER_PG_* variables that infra/dagster/production.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": "",
            "DAGSTER_PG_DB": database,
        }

    def storage_config(self, database: str) -> dict:
        """A dagster.yaml `storage` block for `database`, with the psycopg2 scheme."""
        return {
            "postgres": {
                "postgres_db": {
                    "hostname": self.host,
                    "port": self.port,
                    "username": self.user,
                    "password": "",
                    "db_name": database,
                    "scheme": "postgresql+psycopg2",
                }
            }
        }


def find_postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    candidates: list[Path] = []
    if os.environ.get("PG_BIN"):
        candidates.append(Path(os.environ["PG_BIN"]))
    candidates += [Path(f"/usr/lib/postgresql/{version}/bin") for version in _PREFERRED_VERSIONS]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            candidates.append(Path(subprocess.check_output([pg_config, "--bindir"], text=True).strip()))
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def require_postgres_bin() -> Path:
    """The binaries' folder; skips the test where they are missing, fails under CI."""
    folder = find_postgres_bin()
    if folder is not None:
        return folder
    reason = (
        "PostgreSQL server binaries (initdb, pg_ctl) not found; install them with "
        "`apt-get install postgresql` (make test does) or set PG_BIN"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_cluster_owner(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _chown_to_cluster_owner(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, user="postgres", group="postgres")


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start a private cluster, yield it, stop it and delete its folder."""
    bin_dir = require_postgres_bin()
    # Not under pytest's tmp_path: that folder is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="pipeline-pg-"))
    data_dir, socket_dir = root / "data", root / "socket"
    socket_dir.mkdir()
    _chown_to_cluster_owner(root)
    _chown_to_cluster_owner(socket_dir)
    log_file = root / "server.log"
    started = False
    try:
        subprocess.run(
            _as_cluster_owner(
                [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        last_error = ""
        for _attempt in range(3):  # another process may take the chosen port before the server does
            port = _free_port()
            options = f"-p {port} -k {socket_dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
            result = subprocess.run(
                _as_cluster_owner(
                    [str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(log_file), "-w"]
                    + ["start"]
                ),
                capture_output=True,
                text=True,
            )
            if result.returncode == 0:
                started = True
                break
            last_error = result.stderr + (log_file.read_text() if log_file.exists() else "")
        if not started:
            raise RuntimeError(f"PostgreSQL did not start: {last_error}")
        yield PostgresServer(host="127.0.0.1", port=port, user="postgres", data_dir=data_dir)
    finally:
        if started:
            subprocess.run(
                _as_cluster_owner([str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "stop"]),
                capture_output=True,
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One private PostgreSQL cluster for the test session; each test creates its own database."""
    with running_postgres() as server:
        yield server
