"""`dagster dev` (the UI, its GraphQL API and the daemon) started by a test on a temporary home.

The server runs the real code location with the embedded instance profile, a fresh data folder and
the offline provider; it is always stopped (with its code server, daemon and run workers) when the
context exits. Processes start in their own session with SIGINT at its default, so SIGTERM stops
them (ENVIRONMENT.md, "Shutdown trap").
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from tests.support.dagster_daemon import (
    BIN,
    CODE_LOCATION,
    ROOT,
    _default_sigint,
    process_env,
    stop,
    wait_for,
)

EMBEDDED_PROFILE = ROOT / "infra" / "dagster" / "embedded.yaml"
TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class GraphQLError(AssertionError):
    pass


@dataclass
class DagsterDev:
    """A running `dagster dev`: its URL, home, data folder and log, and a GraphQL client."""

    url: str
    home: Path
    data_dir: Path
    env: dict[str, str]
    log_file: Path
    process: subprocess.Popen = field(repr=False)

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None, timeout: float = 120) -> dict:
        """The `data` of a GraphQL answer; an error (with the server's message) if it has errors."""
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                payload = json.loads(answer.read())
        except urllib.error.HTTPError as error:  # a malformed query: the server says why in the body
            raise GraphQLError(
                f"GraphQL HTTP {error.code}: {error.read().decode(errors='replace')}"
            ) from None
        if payload.get("errors"):
            raise GraphQLError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def wait_for(self, probe: Any, *, what: str, timeout: float, interval: float = 1.0) -> Any:
        """Poll `probe` until truthy; fails with the server log's tail, or if the server exits."""
        return wait_for(
            probe, what=what, timeout=timeout, process=self.process, log_file=self.log_file, interval=interval
        )

    def runs(self, tags: Mapping[str, str] | None = None) -> list[dict]:
        """Runs (newest first) with their id, status, partition and tags, optionally filtered by tags."""
        filter_tags = [{"key": key, "value": value} for key, value in (tags or {}).items()]
        data = self.graphql(
            """query Runs($tags: [ExecutionTag!]) {
                 runsOrError(filter: {tags: $tags}) {
                   __typename
                   ... on Runs { results { runId status jobName tags { key value } } }
                   ... on PythonError { message }
                 }
               }""",
            {"tags": filter_tags},
        )["runsOrError"]
        if data["__typename"] != "Runs":
            raise GraphQLError(f"runsOrError: {data}")
        return [{**run, "tags": {tag["key"]: tag["value"] for tag in run["tags"]}} for run in data["results"]]

    def latest_metadata(self, asset: str, partition: str) -> dict[str, Any]:
        """The metadata of the newest materialisation of `asset` for `partition`, as plain values."""
        data = self.graphql(
            """query Meta($key: AssetKeyInput!, $partitions: [String!]) {
                 assetOrError(assetKey: $key) {
                   __typename
                   ... on Asset {
                     assetMaterializations(partitions: $partitions, limit: 1) {
                       runId partition timestamp
                       metadataEntries {
                         label
                         ... on IntMetadataEntry { intValue }
                         ... on FloatMetadataEntry { floatValue }
                         ... on TextMetadataEntry { text }
                         ... on MarkdownMetadataEntry { mdStr }
                         ... on UrlMetadataEntry { url }
                       }
                     }
                   }
                 }
               }""",
            {"key": {"path": [asset]}, "partitions": [partition]},
        )["assetOrError"]
        if data["__typename"] != "Asset" or not data["assetMaterializations"]:
            return {}
        [event] = data["assetMaterializations"]
        values: dict[str, Any] = {"__run_id__": event["runId"], "__timestamp__": event["timestamp"]}
        for entry in event["metadataEntries"]:
            value = next(
                (entry[k] for k in ("intValue", "floatValue", "text", "mdStr", "url") if k in entry), None
            )
            values[entry["label"]] = value
        return values

    def sensor_state(self, name: str) -> dict:
        """A sensor's state id, status and its latest ticks (timestamp, status)."""
        data = self.graphql(
            """query Sensor($selector: SensorSelector!) {
                 sensorOrError(sensorSelector: $selector) {
                   __typename
                   ... on Sensor { sensorState { id status ticks(limit: 10) { timestamp status } } }
                 }
               }""",
            {"selector": {**self._location_selector(), "sensorName": name}},
        )["sensorOrError"]
        assert data["__typename"] == "Sensor", data
        return data["sensorState"]

    def stop_sensor(self, name: str, settle: float = 6.0, timeout: float = 300) -> None:
        """Turn a sensor off, as the UI's toggle does, and wait until it stays off.

        A tick the daemon was evaluating when the sensor was stopped writes the sensor's state back
        when it ends (with its cursor), which can turn it on again; so the sensor is stopped again
        until, `settle` seconds later, it is still stopped and no tick is in progress or newer."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.sensor_state(name)
            stopped_at = time.time()
            if state["status"] != "STOPPED":
                answer = self.graphql(
                    """mutation Stop($id: String!) {
                         stopSensor(id: $id) {
                           __typename ... on StopSensorMutationResult { instigationState { status } }
                           ... on Error { message }
                         }
                       }""",
                    {"id": state["id"]},
                )["stopSensor"]
                assert answer["__typename"] == "StopSensorMutationResult", answer
            time.sleep(settle)
            state = self.sensor_state(name)
            busy = [t for t in state["ticks"] if t["status"] == "STARTED" or t["timestamp"] > stopped_at]
            if state["status"] == "STOPPED" and not busy:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} would not stay stopped: {state}" + _log_tail(self.log_file))

    def start_sensor(self, name: str) -> None:
        """Turn a sensor on, as the UI's toggle does."""
        answer = self.graphql(
            """mutation Start($selector: SensorSelector!) {
                 startSensor(sensorSelector: $selector) {
                   __typename ... on Sensor { sensorState { status } }
                   ... on Error { message }
                 }
               }""",
            {"selector": {**self._location_selector(), "sensorName": name}},
        )["startSensor"]
        assert answer["__typename"] == "Sensor", answer
        assert answer["sensorState"]["status"] == "RUNNING", answer

    def _location_selector(self) -> dict[str, str]:
        data = self.graphql(
            """{ repositoriesOrError { ... on RepositoryConnection {
                   nodes { name location { name } } } } }"""
        )
        [repository] = data["repositoriesOrError"]["nodes"]
        return {
            "repositoryName": repository["name"],
            "repositoryLocationName": repository["location"]["name"],
        }


def _log_tail(log_file: Path, lines: int = 40) -> str:
    if not log_file.exists():
        return ""
    return "\n--- server log (tail) ---\n" + "\n".join(
        log_file.read_text(errors="replace").splitlines()[-lines:]
    )


def _answers(url: str) -> bool:
    with contextlib.suppress(OSError, urllib.error.URLError):
        with urllib.request.urlopen(f"{url}/server_info", timeout=5) as answer:
            return answer.status == 200
    return False


def _location_loaded(server: DagsterDev) -> bool:
    data = server.graphql(
        """{ workspaceOrError { __typename ... on Workspace { locationEntries {
               name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
    )["workspaceOrError"]
    entries = data.get("locationEntries") or []
    for entry in entries:
        error = entry["locationOrLoadError"]
        if error and error["__typename"] == "PythonError":
            raise AssertionError(f"the code location failed to load: {error['message']}")
    return bool(entries) and all(
        entry["loadStatus"] == "LOADED" and entry["locationOrLoadError"] for entry in entries
    )


@contextlib.contextmanager
def running_dagster_dev(
    folder: Path, env: Mapping[str, str] | None = None, startup_timeout: float = 300
) -> Iterator[DagsterDev]:
    """`dagster dev` on 127.0.0.1 with DAGSTER_HOME and PIPELINE_DATA_DIR under `folder`.

    The embedded profile is the instance's dagster.yaml; the offline provider and the local forge
    are forced (no ambient credentials reach it). Yields once the code location has loaded."""
    home = folder / "dagster_home"
    data_dir = folder / "var"
    home.mkdir(parents=True, exist_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(EMBEDDED_PROFILE, home / "dagster.yaml")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings_env = {
        "PIPELINE_DATA_DIR": str(data_dir),
        "PIPELINE_LLM_PROVIDER": "offline",
        "PIPELINE_FORGE": "local",
        "PIPELINE_UI_URL": url,
        **(env or {}),
    }
    environment = process_env(home, settings_env)
    for secret in (
        "ANTHROPIC_API_KEY",
        "GITHUB_TOKEN",
        "NETLIFY_AUTH_TOKEN",
        "PIPELINE_INBOX",
        "PIPELINE_ARTIFACTS",
    ):
        environment.pop(secret, None)
    log_file = folder / "dagster-dev.log"
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [str(BIN / "dagster"), "dev", *CODE_LOCATION, "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )
    server = DagsterDev(
        url=url, home=home, data_dir=data_dir, env=settings_env, log_file=log_file, process=process
    )
    try:
        server.wait_for(lambda: _answers(url), what="dagster dev's /server_info", timeout=startup_timeout)
        server.wait_for(lambda: _location_loaded(server), what="the code location", timeout=startup_timeout)
        with contextlib.suppress(GraphQLError):
            server.graphql("mutation { setNuxSeen }")  # the first-visit pop-up would cover the UI
        yield server
    finally:
        stop(process)
        # Local hosting keeps the previews running after their runs (and after the server).
        from resources.hosting.local import stop_releases_under

        stop_releases_under(data_dir, depth=1)


def wait_for_runs(
    server: DagsterDev, runs: Any, *, what: str, timeout: float, interval: float = 2.0
) -> list[dict]:
    """Poll `runs()` (a list of run dicts) until it is non-empty and every run has ended."""

    def ended() -> list[dict] | None:
        found = runs()
        if found and all(run["status"] in TERMINAL_RUN_STATUSES for run in found):
            return found
        return None

    started = time.monotonic()
    result = server.wait_for(ended, what=what, timeout=timeout, interval=interval)
    print(f"{what}: {time.monotonic() - started:.0f} s")
    return result


# --- one server shared by the GraphQL backfill and UI screenshot tests ----------------------------

EXAMPLE = ROOT / "examples" / "acme-tasks"
SECOND = ROOT / "tests" / "quality_corpus" / "recipe-box"
SENSOR_ENV = {
    # Ticks every 2 s; a dropped project is requested once its files have been still for 1 s.
    "PIPELINE_SENSOR_INTERVAL_SECONDS": "2",
    "PIPELINE_SENSOR_SETTLE_SECONDS": "1",
}
# A run through the daemon on a loaded 2-core machine: a code server and a run worker start, every
# stage runs, components are installed (cold cache) and tested. Generous, polled with a deadline.
RUN_TIMEOUT = 900
# pytest-timeout counts a test's fixture setup too: the first test to use `served_projects` starts the
# server and waits for two runs (about 2 min on a quiet machine, 6 min when 8 agents share 2 cores).
SESSION_SERVER_TIMEOUT = 3 * RUN_TIMEOUT


@dataclass
class ServedProjects:
    """A `dagster dev` whose bucket sensor has built two dropped projects (the example and a second)."""

    server: DagsterDev
    projects: dict[str, Path]  # project -> the folder dropped

    @property
    def inbox(self) -> Any:
        from resources.object_store import object_store_from_url

        return object_store_from_url((self.server.data_dir / "inbox").as_uri())

    @property
    def artifacts(self) -> Any:
        from resources.object_store import object_store_from_url

        return object_store_from_url((self.server.data_dir / "artifacts").as_uri())

    def value(self, asset: str, project: str, model: type[Any]) -> Any:
        from resources.io_manager import asset_value_key

        return model.model_validate_json(
            self.artifacts.get_text(asset_value_key(dg.AssetKey(asset), project))
        )


def sensor_runs(server: DagsterDev, project: str) -> list[dict]:
    return server.runs({"dagster/sensor_name": "bucket_sensor", "dagster/partition": project})


def drop_and_wait(server: DagsterDev, projects: Mapping[str, Path]) -> dict[str, list[dict]]:
    """Drop each folder as its project; wait for the bucket sensor's run of each to end (and pass)."""
    from pipeline_defs.cli import drop_folder
    from resources.object_store import object_store_from_url

    inbox = object_store_from_url((server.data_dir / "inbox").as_uri())
    for project, folder in projects.items():
        assert drop_folder(inbox, folder, project), f"nothing dropped from {folder}"
    found = {
        project: wait_for_runs(
            server,
            lambda p=project: sensor_runs(server, p),
            what=f"the sensor's run of {project}",
            timeout=RUN_TIMEOUT,
        )
        for project in projects
    }
    for project, runs in found.items():
        assert [run["status"] for run in runs] == ["SUCCESS"], (project, runs)
    return found


@pytest.fixture(scope="session")
def served_projects(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedProjects]:
    """One `dagster dev` for the session, with the example and a second project built by its sensor."""
    folder = tmp_path_factory.mktemp("dagster-dev")
    with running_dagster_dev(folder, SENSOR_ENV) as server:
        projects = {"acme-tasks": EXAMPLE, "recipe-box": SECOND}
        drop_and_wait(server, projects)
        yield ServedProjects(server=server, projects=projects)
