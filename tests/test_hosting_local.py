"""Local hosting with real processes: the offline example application's backend and frontend deployed
into release folders, served on stable ports of 127.0.0.1, health-checked, rolled back, restarted.

Every test deploys the components of a real generated tree (the offline templates' build of the
example project) and talks to them over HTTP; teardown stops every process the test started.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from pipeline_core.repository.manifest import ComponentSpec, Manifest, read_manifest
from resources.hosting import LocalHosting, ReleaseRequest
from resources.hosting.processes import http_get, start_time
from tests.test_codegen_offline import acme_inputs, build_all

PROJECT = "acme-tasks"


@pytest.fixture(scope="module")
def app_tree() -> dict[str, str]:
    return build_all(*acme_inputs()).tree


@pytest.fixture(scope="module")
def manifest(app_tree: dict[str, str]) -> Manifest:
    found = read_manifest(app_tree)
    assert found is not None
    return found


@pytest.fixture(scope="module")
def install_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("install-cache")


@pytest.fixture
def hosting(tmp_path: Path, install_cache: Path) -> Iterator[LocalHosting]:
    local = LocalHosting(
        root=str(tmp_path / "releases"), install_cache_dir=str(install_cache), health_timeout_s=30
    )
    yield local
    local.stop()


def checkout(tree: dict[str, str], target: Path, changes: dict[str, str] | None = None) -> Path:
    for path, text in {**tree, **(changes or {})}.items():
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
    return target


def request(manifest: Manifest, name: str, commit: str, source: Path, **extra: object) -> ReleaseRequest:
    component = manifest.component(name)
    assert component is not None
    return ReleaseRequest(
        project=PROJECT,
        environment="preview",
        component=component,
        commit=commit,
        source_dir=source / component.path,
        **extra,  # type: ignore[arg-type]
    )


def port_of(url: str | None) -> int:
    assert url is not None and url.startswith("http://127.0.0.1:")
    return int(url.rstrip("/").rsplit(":", 1)[1])


def state(hosting: LocalHosting, component: str) -> dict:
    return json.loads((Path(hosting.root) / PROJECT / "preview" / component / "state.json").read_text())


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def test_backend_and_frontend_answer_on_their_stable_ports(
    hosting: LocalHosting, manifest: Manifest, app_tree: dict[str, str], tmp_path: Path
) -> None:
    source = checkout(app_tree, tmp_path / "c1")
    backend = hosting.deploy(request(manifest, "backend", "c1", source, checks=["/api/projects"]))
    assert backend.status == "deployed" and backend.health == "healthy", backend.reason
    api = port_of(backend.url)
    assert http_get(api, "/api/health")[0] == 200
    status, body = http_get(api, "/api/projects")
    assert status == 200 and json.loads(body) == []

    frontend = hosting.deploy(
        request(manifest, "frontend", "c1", source, api_url=backend.url.rstrip("/"))  # type: ignore[union-attr]
    )
    assert frontend.status == "deployed" and frontend.health == "healthy", frontend.reason
    web = port_of(frontend.url)
    assert web != api
    status, page = http_get(web, "/")
    assert status == 200 and b"<title>acme-tasks</title>" in page
    status, config = http_get(web, "/config.js")
    assert status == 200 and f'window.API_BASE = "http://127.0.0.1:{api}"'.encode() in config
    assert http_get(web, "/")[0] == 200 and http_get(web, "/tests/")[0] == 404  # only published files

    release = Path(hosting.root) / PROJECT / "preview" / "backend"
    assert (release / "current").resolve() == (release / "c1").resolve()
    assert state(hosting, "backend")["port"] == api
    [record] = [r for r in hosting.records(PROJECT) if r.component == "backend"]
    assert record.url == backend.url and record.health == "healthy" and record.version == "c1"


def test_deploying_the_same_commit_again_is_unchanged_and_makes_no_release(
    hosting: LocalHosting, manifest: Manifest, app_tree: dict[str, str], tmp_path: Path
) -> None:
    source = checkout(app_tree, tmp_path / "c1")
    first = hosting.deploy(request(manifest, "backend", "c1", source))
    assert first.status == "deployed", first.reason
    folder = Path(hosting.root) / PROJECT / "preview" / "backend"
    before = sorted(path.name for path in folder.iterdir())
    pid = state(hosting, "backend")["current"]["process"]["pid"]

    again = hosting.deploy(request(manifest, "backend", "c1", source))

    assert again.status == "unchanged" and again.health == "healthy"
    assert again.url == first.url and again.version == first.version
    assert sorted(path.name for path in folder.iterdir()) == before
    assert state(hosting, "backend")["current"]["process"]["pid"] == pid


def test_a_release_failing_its_health_check_is_rolled_back_and_the_old_one_still_answers(
    hosting: LocalHosting, manifest: Manifest, app_tree: dict[str, str], tmp_path: Path
) -> None:
    good = checkout(app_tree, tmp_path / "c1")
    first = hosting.deploy(request(manifest, "backend", "c1", good))
    assert first.ok, first.reason
    api = port_of(first.url)
    created = http_get(api, "/api/projects")  # the old release's data must survive the failed attempt
    assert created[0] == 200
    broken = checkout(
        app_tree,
        tmp_path / "c2",
        {"backend/app/__main__.py": "import sys\nprint('cannot start: no configuration')\nsys.exit(3)\n"},
    )

    second = hosting.deploy(request(manifest, "backend", "c2", broken))

    assert second.status == "rolled_back" and second.health == "unhealthy"
    assert "health check" in second.reason and "cannot start: no configuration" in second.reason
    assert second.url == first.url and second.version == "c1" and second.previous_version == "c1"
    folder = Path(hosting.root) / PROJECT / "preview" / "backend"
    assert (folder / "current").resolve().name == "c1" and not (folder / "c2").exists()
    assert http_get(api, "/api/health")[0] == 200  # the previous release answers on the stable port
    assert state(hosting, "backend")["current"]["commit"] == "c1"


def test_a_new_release_replaces_the_old_on_the_same_port_and_the_old_process_stops(
    hosting: LocalHosting, manifest: Manifest, app_tree: dict[str, str], tmp_path: Path
) -> None:
    first = hosting.deploy(request(manifest, "backend", "c1", checkout(app_tree, tmp_path / "c1")))
    assert first.ok, first.reason
    old = state(hosting, "backend")["current"]["process"]
    source = checkout(app_tree, tmp_path / "c2")
    second = hosting.deploy(request(manifest, "backend", "c2", source))
    assert second.status == "deployed" and second.ok, second.reason
    assert second.url == first.url and second.previous_commit == "c1" and second.version == "c2"
    assert start_time(old["pid"]) != old["started"]  # the replaced release no longer runs
    assert http_get(port_of(second.url), "/api/health")[0] == 200


def test_stop_and_serve_restart_the_current_releases_with_their_data(
    hosting: LocalHosting, manifest: Manifest, app_tree: dict[str, str], tmp_path: Path
) -> None:
    source = checkout(app_tree, tmp_path / "c1")
    backend = hosting.deploy(request(manifest, "backend", "c1", source))
    assert backend.ok, backend.reason
    api = port_of(backend.url)
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", api, timeout=5)
    connection.request(
        "POST", "/api/projects", json.dumps({"name": "Launch"}), {"Content-Type": "application/json"}
    )
    assert connection.getresponse().status == 201
    connection.close()

    # A reboot, as far as the processes know: every one of them killed.
    current = state(hosting, "backend")
    for process in (current["current"]["process"], current["proxy"]):
        os.killpg(process["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and start_time(current["proxy"]["pid"]) is not None:
        time.sleep(0.05)
    assert [r.health for r in hosting.records(PROJECT)] == ["unhealthy"]

    [served] = hosting.serve(PROJECT)
    assert served.health == "healthy" and served.url == backend.url, served.reason
    status, body = http_get(api, "/api/projects")
    assert status == 200 and [item["name"] for item in json.loads(body)] == ["Launch"]

    [stopped] = hosting.stop(PROJECT)
    assert stopped.health == "unhealthy"
    with pytest.raises(OSError):
        http_get(api, "/api/health", timeout_s=2)
    [again] = hosting.serve(PROJECT)
    assert again.health == "healthy" and http_get(api, "/api/health")[0] == 200


def test_no_pipeline_credential_reaches_a_release_only_the_apps_own_secrets(
    hosting: LocalHosting,
    manifest: Manifest,
    app_tree: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline_secrets = {
        "ANTHROPIC_API_KEY": "sk-ant-pipeline-secret",
        "GITHUB_TOKEN": "ghp_pipeline_secret",
        "AWS_SECRET_ACCESS_KEY": "aws-pipeline-secret",
        "NETLIFY_AUTH_TOKEN": "netlify-pipeline-secret",
        "DAGSTER_HOME": "/somewhere/dagster",
    }
    for name, value in pipeline_secrets.items():
        monkeypatch.setenv(name, value)
    source = checkout(app_tree, tmp_path / "c1")
    record = hosting.deploy(
        request(manifest, "backend", "c1", source, app_secrets={"APP_SIGNING_KEY": SecretStr("app-own-key")})
    )
    assert record.ok, record.reason
    current = state(hosting, "backend")
    for pid in (current["current"]["process"]["pid"], current["proxy"]["pid"]):
        variables = environ(pid)
        assert not set(pipeline_secrets) & set(variables)
        assert not any(value in text for value in pipeline_secrets.values() for text in variables.values())
        assert Path(variables["HOME"]).is_relative_to(Path(hosting.root))
    release_env = environ(current["current"]["process"]["pid"])
    assert release_env["APP_SIGNING_KEY"] == "app-own-key"
    assert (
        Path(f"/proc/{current['current']['process']['pid']}/cwd")
        .resolve()
        .is_relative_to((Path(hosting.root) / PROJECT / "preview" / "backend" / "c1").resolve())
    )
    assert "app-own-key" not in record.model_dump_json()


def test_a_frontend_without_an_index_page_is_refused_and_nothing_becomes_current(
    hosting: LocalHosting, manifest: Manifest, app_tree: dict[str, str], tmp_path: Path
) -> None:
    tree = {path: text for path, text in app_tree.items() if path != "frontend/index.html"}
    source = checkout(tree, tmp_path / "c1")
    frontend: ComponentSpec | None = manifest.component("frontend")
    assert frontend is not None
    from resources.hosting import HostingError

    with pytest.raises(HostingError, match="index.html"):
        hosting.deploy(request(manifest, "frontend", "c1", source))
    assert hosting.records(PROJECT) == []


def test_deleting_a_deployment_folder_stops_its_processes(
    manifest: Manifest, app_tree: dict[str, str], tmp_path: Path, install_cache: Path
) -> None:
    """A test's or a user's deleted data folder leaves nothing running: the proxy watches it."""
    import shutil

    local = LocalHosting(
        root=str(tmp_path / "gone"), install_cache_dir=str(install_cache), health_timeout_s=30
    )
    record = local.deploy(request(manifest, "backend", "c1", checkout(app_tree, tmp_path / "c1")))
    assert record.ok, record.reason
    current = json.loads((tmp_path / "gone" / PROJECT / "preview" / "backend" / "state.json").read_text())
    processes = [current["current"]["process"], current["proxy"]]
    try:
        shutil.rmtree(tmp_path / "gone")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(start_time(p["pid"]) == p["started"] for p in processes):
            time.sleep(0.1)
        assert all(start_time(p["pid"]) != p["started"] for p in processes)
    finally:
        for process in processes:
            if start_time(process["pid"]) == process["started"]:
                os.killpg(process["pid"], signal.SIGKILL)


def test_a_dead_stable_port_is_restarted_without_a_second_copy_of_the_release(
    hosting: LocalHosting, manifest: Manifest, app_tree: dict[str, str], tmp_path: Path
) -> None:
    source = checkout(app_tree, tmp_path / "c1")
    first = hosting.deploy(request(manifest, "backend", "c1", source))
    assert first.ok, first.reason
    before = state(hosting, "backend")
    os.killpg(before["proxy"]["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and start_time(before["proxy"]["pid"]) == before["proxy"]["started"]:
        time.sleep(0.05)

    again = hosting.deploy(request(manifest, "backend", "c1", source))

    assert again.status == "deployed" and again.health == "healthy" and again.url == first.url
    after = state(hosting, "backend")
    assert after["current"]["process"] == before["current"]["process"]  # the same release process
    assert after["proxy"]["pid"] != before["proxy"]["pid"]
    assert http_get(port_of(first.url), "/api/health")[0] == 200
