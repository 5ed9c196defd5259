"""Local hosting: release folders, the current release kept running on a stable 127.0.0.1 port.

Layout under the root (`PIPELINE_RELEASES_DIR`, default `$PIPELINE_DATA_DIR/releases`), one folder
per project, environment and component:

```
<project>/<environment>/<component>/
    state.json        stable port, the proxy's and the current release's processes, history
    upstream.json     the port the proxy forwards to (the current release's own port)
    current -> <release>/
    data/             the backend's database, kept across releases
    <release>/        app/ (the component's files, or a frontend's published files), release.json,
                      release.log, run/ (its HOME and TMPDIR)
```

A release id is its commit (with a suffix when the same commit is deployed again with another
backend URL or other app secrets). A new release is started on a port of its own and health-checked
(the manifest's `health` path, or a frontend's index page, then each of the request's `checks`);
only then does `upstream.json` point at it, `current` swap (an atomic symlink replace) and the old
release stop. The stable port is a small proxy (`proxy.py`) that reads `upstream.json` per
connection, so a switch drops nothing. If the new release fails, it is stopped and its folder
removed; the previous one stays current and running. A frontend is served as a static site of its
published files (`static_server.py`), the same set Netlify would get, with the backend URL set.

Every write is atomic (a temporary file renamed over the old one) and each component's folder is
locked while it is changed, so two runs never interleave a switch.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from assets.validations.backend_check import DATABASE_PATH_NAMES, start_plan
from assets.validations.install import ComponentEnvironment, install_component
from pipeline_core.hashing import content_hash
from pipeline_core.repository.manifest import ComponentKind, ComponentSpec, StartCommand
from resources.hosting.base import (
    DeploymentRecord,
    Environment,
    Hosting,
    HostingError,
    ReleaseRequest,
    Target,
    publish_files,
)
from resources.hosting.processes import (
    RunningProcess,
    answers,
    free_port,
    port_free,
    start_detached,
    stop,
    wait_healthy,
)

HERE = Path(__file__).resolve().parent
PROXY = HERE / "proxy.py"
STATIC_SERVER = HERE / "static_server.py"
KEEP_RELEASES = 3
STATE = "state.json"


class Release(BaseModel):
    """One release of a component: what it runs and how it is started again."""

    id: str
    commit: str
    key: str = Field(description="hash of what makes it this release: commit, backend URL, secrets")
    kind: ComponentKind
    argv: list[str] = Field(description="with {port}")
    cwd: str = Field(description="folder inside the release it starts in")
    env: dict[str, str] = Field(default_factory=dict)
    path_prefix: list[str] = Field(default_factory=list)
    links: dict[str, str] = Field(default_factory=dict, description="path in app/ -> installed folder")
    health: list[str] = Field(description="GET paths it must answer with 2xx, the health path first")
    stories: list[str] = Field(default_factory=list)
    api_url: str | None = None
    deployed_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    process: RunningProcess | None = None


class ComponentState(BaseModel):
    """`state.json` of one project, environment and component."""

    project: str
    environment: Environment
    component: str
    kind: ComponentKind
    port: int
    proxy: RunningProcess | None = None
    current: Release | None = None
    previous: Release | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def _write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _write_upstream(folder: Path, release: Release) -> None:
    """Point the stable port's proxy at the release (its port; its process, which the proxy stops if
    the component's folder is deleted)."""
    process = release.process
    assert process is not None
    _write_atomic(
        folder / "upstream.json",
        json.dumps({"port": process.port, "pid": process.pid, "started": process.started}),
    )


def _point(link: Path, target: str) -> None:
    """Make `link` a symbolic link to `target` (relative), replacing an old one atomically."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    temporary.symlink_to(target, target_is_directory=True)
    os.replace(temporary, link)


def _copy_component(source: Path, target: Path) -> None:
    """The component's regular files (no symbolic links, no installed node_modules, no .git)."""

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [
            name
            for name in names
            if name in (".git", "node_modules", "__pycache__") or os.path.islink(os.path.join(folder, name))
        ]

    shutil.copytree(source, target, symlinks=False, ignore=ignore)


def _source_tree(component: ComponentSpec, source_dir: Path) -> dict[str, str]:
    """The component's dependency-relevant text files as repository paths (for the install key)."""
    tree: dict[str, str] = {}
    for path in source_dir.rglob("*"):
        relative = path.relative_to(source_dir)
        if path.is_symlink() or not path.is_file() or {"node_modules", ".git"} & set(relative.parts):
            continue
        try:
            tree[component.file_path(relative.as_posix())] = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
    return tree


class LocalHosting(Hosting):
    """Release folders `<root>/<project>/<environment>/<component>/<release>/` with a `current`
    pointer, each component's current release running detached on a stable port of 127.0.0.1."""

    root: str
    install_cache_dir: str
    health_timeout_s: float = 60.0
    install_timeout_s: float = 600.0

    @property
    def target(self) -> Target:
        return "local"

    # ------------------------------------------------------------------ reading

    def folder(self, project: str, environment: Environment, component: str) -> Path:
        return Path(self.root) / project / environment / component

    def state(self, project: str, environment: Environment, component: str) -> ComponentState | None:
        path = self.folder(project, environment, component) / STATE
        if not path.is_file():
            return None
        return ComponentState.model_validate_json(path.read_text(encoding="utf-8"))

    def states(self, project: str | None = None) -> list[ComponentState]:
        """Every component's state (of one project, or of all), ordered backends first."""
        root = Path(self.root)
        pattern = f"{project}/*/*/{STATE}" if project else f"*/*/*/{STATE}"
        out = [ComponentState.model_validate_json(p.read_text(encoding="utf-8")) for p in root.glob(pattern)]
        return sorted(out, key=lambda s: (s.project, s.environment, s.kind != "backend", s.component))

    def _record(
        self,
        state: ComponentState,
        *,
        status: str,
        health: str,
        reason: str = "",
        commit: str | None = None,
        stories: list[str] | None = None,
    ) -> DeploymentRecord:
        current = state.current
        previous = state.previous
        return DeploymentRecord(
            project=state.project,
            environment=state.environment,
            component=state.component,
            kind=state.kind,
            target="local",
            commit=commit or (current.commit if current else ""),
            url=state.url if current is not None else None,
            version=current.id if current else None,
            health=health,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            reason=reason,
            deployed_at=current.deployed_at if current and status == "unchanged" else datetime.now(UTC),
            previous_commit=previous.commit if previous else None,
            previous_version=previous.id if previous else None,
            stories=stories if stories is not None else (current.stories if current else []),
            api_url=current.api_url if current else None,
        )

    def _health(self, state: ComponentState) -> str:
        current = state.current
        if current is None or current.process is None or not current.process.alive():
            return "unhealthy"
        if state.proxy is None or not state.proxy.alive():
            return "unhealthy"
        return "healthy" if answers(state.port, current.health[0]) else "unhealthy"

    def current(
        self, project: str, environment: Environment, component: ComponentSpec
    ) -> DeploymentRecord | None:
        state = self.state(project, environment, component.name)
        if state is None or state.current is None:
            return None
        return self._record(state, status="unchanged", health=self._health(state))

    def records(self, project: str | None = None) -> list[DeploymentRecord]:
        """What is current for every component (of one project, or all), its health read now."""
        out = []
        for state in self.states(project):
            if state.current is None:
                continue
            health = self._health(state)
            running = state.current.process is not None and state.current.process.alive()
            reason = "" if health == "healthy" else ("not answering" if running else "stopped")
            out.append(self._record(state, status="unchanged", health=health, reason=reason))
        return out

    # ------------------------------------------------------------------ changing

    @contextmanager
    def _locked(self, folder: Path) -> Iterator[None]:
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _taken_ports(self) -> list[int]:
        return [state.port for state in self.states()]

    def _save(self, folder: Path, state: ComponentState) -> None:
        _write_atomic(folder / STATE, state.model_dump_json(indent=2))

    def _ensure_proxy(self, folder: Path, state: ComponentState) -> str | None:
        """The stable port's proxy running (started if not); None, or why it cannot run."""
        if state.proxy is not None and state.proxy.alive():
            return None
        if not port_free(state.port):
            return f"the stable port {state.port} of 127.0.0.1 is used by another program"
        state.proxy = start_detached(
            [sys.executable, "-I", str(PROXY), str(state.port), str(folder / "upstream.json")],
            cwd=folder,
            port=state.port,
            home=folder / "proxy" / "home",
            log=folder / "proxy" / "proxy.log",
        )
        proxy = state.proxy
        for _ in range(100):
            if not proxy.alive() or not port_free(state.port):
                break
            time.sleep(0.05)
        return None if proxy.alive() else "the stable port's proxy did not start"

    def _start(self, folder: Path, release: Release) -> tuple[RunningProcess, str | None]:
        """Start `release` on a port of its own and health-check it: (process, None or why not)."""
        release_dir = folder / release.id
        app = release_dir / "app"
        for relative, target in release.links.items():
            link = app / relative
            if link.is_symlink() or link.exists():
                link.unlink()
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(target, target_is_directory=True)
        port = free_port(self._taken_ports())
        secrets_file = release_dir / "secrets.json"
        secrets = json.loads(secrets_file.read_text(encoding="utf-8")) if secrets_file.exists() else {}
        log = release_dir / "release.log"
        env = {name: value.replace("{port}", str(port)) for name, value in release.env.items()}
        process = start_detached(
            [part.replace("{port}", str(port)) for part in release.argv],
            cwd=app / release.cwd if release.cwd != "." else app,
            port=port,
            home=release_dir / "run" / "home",
            log=log,
            env=env,
            secrets=secrets,
            path_prefix=release.path_prefix,
            protect=[folder],
        )
        problem = wait_healthy(process, release.health, self.health_timeout_s, log)
        if problem is not None:
            stop(process)
            return process, f"release {release.id} failed its health check: {problem}"
        return process, None

    def _switch(self, folder: Path, state: ComponentState, release: Release) -> None:
        """Make the health-checked `release` current: the proxy forwards to it, `current` points at
        it, the release it replaces stops."""
        assert release.process is not None
        _write_upstream(folder, release)
        _point(folder / "current", release.id)
        old = state.current
        if old is not None and old.id != release.id:
            stop(old.process)
            old.process = None
            state.previous = old
        state.current = release
        self._save(folder, state)
        self._prune(folder, state)

    def _prune(self, folder: Path, state: ComponentState) -> None:
        keep = {r.id for r in (state.current, state.previous) if r is not None}
        releases = sorted(
            (path for path in folder.iterdir() if (path / "release.json").is_file()),
            key=lambda path: path.stat().st_mtime,
            reverse=True,
        )
        for path in releases[KEEP_RELEASES:]:
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)

    def _prepare(self, folder: Path, request: ReleaseRequest, key: str) -> Release:
        """The release's folder written (a new one) and how it starts."""
        component = request.component
        release_id = request.commit
        existing = folder / release_id / "release.json"
        if existing.is_file() and Release.model_validate_json(existing.read_text()).key != key:
            release_id = f"{request.commit}-{key[:8]}"
        release_dir = folder / release_id
        staging = folder / f".{release_id}.{os.getpid()}.staging"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        app = staging / "app"
        environment = ComponentEnvironment()
        if component.kind == "frontend":
            files = publish_files(request)
            for relative, data in files.items():
                target = app / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            argv = [sys.executable, "-I", str(STATIC_SERVER), "{port}", str(release_dir / "app")]
            cwd, health, env = ".", ["/", *request.checks], {}
        else:
            if component.start is None:
                raise HostingError(f"{component.name}: the manifest gives no start command to run it")
            if not request.source_dir.is_dir():
                raise HostingError(f"{component.name}: {request.source_dir} is not a folder")
            _copy_component(request.source_dir, app)
            installed, environment_or_none = install_component(
                _source_tree(component, request.source_dir),
                component,
                Path(self.install_cache_dir),
                timeout_s=self.install_timeout_s,
            )
            if environment_or_none is None:
                shutil.rmtree(staging, ignore_errors=True)
                raise HostingError(f"{component.name}: install failed: {installed.output_tail[-800:]}")
            environment = environment_or_none
            plan = start_plan(component)
            argv, cwd = plan.argv, "."
            health = [component.health, *request.checks]
            env = self._start_env(component.start, folder)
            env.update(environment.env)
        links = {
            relative.removeprefix(component.path + "/") if component.path != "." else relative: str(target)
            for relative, target in environment.links.items()
        }
        release = Release(
            id=release_id,
            commit=request.commit,
            key=key,
            kind=component.kind,
            argv=argv,
            cwd=cwd,
            env=env,
            path_prefix=environment.path_prefix,
            links=links,
            health=health,
            stories=request.stories,
            api_url=request.api_url,
        )
        (staging / "release.json").write_text(release.model_dump_json(indent=2), encoding="utf-8")
        if request.app_secrets:
            values = {name: secret.get_secret_value() for name, secret in request.app_secrets.items()}
            _write_atomic(staging / "secrets.json", json.dumps(values), mode=0o600)
        shutil.rmtree(release_dir, ignore_errors=True)
        os.replace(staging, release_dir)
        return release

    def _start_env(self, start: StartCommand, folder: Path) -> dict[str, str]:
        """The variables of `start.env` local hosting sets: where it listens and its database,
        kept in `data/` across releases. `{port}` is filled in when it starts."""
        data = folder / "data"
        data.mkdir(exist_ok=True)
        database = data / "app.sqlite3"
        known = {"PORT": "{port}", "HOST": "127.0.0.1", "DATABASE_URL": f"sqlite:///{database}"}
        known.update(dict.fromkeys(DATABASE_PATH_NAMES, str(database)))
        return {name: known[name] for name in start.env if name in known}

    def deploy(self, request: ReleaseRequest) -> DeploymentRecord:
        component = request.component
        folder = self.folder(request.project, request.environment, component.name)
        key = content_hash(
            {
                "commit": request.commit,
                "component": component.model_dump(mode="json"),
                "api_url": request.api_url,
                "checks": request.checks,
                "secrets": {n: content_hash(s.get_secret_value()) for n, s in request.app_secrets.items()},
            }
        )
        with self._locked(folder):
            state = self.state(request.project, request.environment, component.name) or ComponentState(
                project=request.project,
                environment=request.environment,
                component=component.name,
                kind=component.kind,
                port=free_port(self._taken_ports()),
            )
            current = state.current
            if current is not None and current.key == key and self._health(state) == "healthy":
                return self._record(state, status="unchanged", health="healthy")
            if current is not None and current.key == key and (folder / current.id).is_dir():
                release = current  # the same release, not answering: start it again
                running = release.process is not None and release.process.alive()
                if running and self._ensure_proxy(folder, state) is None:
                    _write_upstream(folder, release)  # only the stable port's proxy was gone
                    self._save(folder, state)
                    if answers(state.port, release.health[0]):
                        return self._record(
                            state, status="deployed", health="healthy", reason="the stable port was restarted"
                        )
                stop(release.process)  # running but not answering: replaced by a fresh start
                release.process = None
            else:
                release = self._prepare(folder, request, key)
            problem = self._ensure_proxy(folder, state)
            if problem is None:
                process, problem = self._start(folder, release)
            if problem is not None:
                if release is not current:
                    shutil.rmtree(folder / release.id, ignore_errors=True)
                if state.current is None:
                    stop(state.proxy)  # nothing to serve: the stable port is not kept open
                    state.proxy = None
                self._save(folder, state)
                return self._failed(state, request, problem)
            release.process = process
            release.deployed_at = datetime.now(UTC)
            self._switch(folder, state, release)
            health = "healthy" if answers(state.port, release.health[0]) else "unhealthy"
            reason = "" if health == "healthy" else f"the stable port {state.port} does not answer"
            return self._record(state, status="deployed", health=health, reason=reason)

    def _failed(self, state: ComponentState, request: ReleaseRequest, reason: str) -> DeploymentRecord:
        """The record of a release that did not become current: the previous one (if any) still is."""
        rolled_back = state.current is not None and self._health(state) == "healthy"
        record = self._record(
            state,
            status="rolled_back" if rolled_back else "failed",
            health="unhealthy",
            reason=reason
            + (
                f"; {state.current.id} is still current and answering"
                if rolled_back and state.current
                else ""
            ),
            commit=request.commit,
            stories=request.stories,
        )
        if rolled_back and state.current is not None:
            # The URL still answers, with the previous release: say which one runs.
            record.previous_commit, record.previous_version = state.current.commit, state.current.id
        return record

    # ------------------------------------------------------------------ serve / stop

    def serve(self, project: str | None = None) -> list[DeploymentRecord]:
        """Start every current release that is not running (after a reboot, or `stop`)."""
        out = []
        for state in self.states(project):
            if state.current is None:
                continue
            folder = self.folder(state.project, state.environment, state.component)
            with self._locked(folder):
                state = self.state(state.project, state.environment, state.component) or state
                if self._health(state) == "healthy":
                    out.append(self._record(state, status="unchanged", health="healthy"))
                    continue
                release = state.current
                assert release is not None
                problem = self._ensure_proxy(folder, state)
                if problem is None and (release.process is None or not release.process.alive()):
                    process, problem = self._start(folder, release)
                    if problem is None:
                        release.process = process
                if problem is None:
                    _write_upstream(folder, release)
                self._save(folder, state)
                health = self._health(state)
                out.append(
                    self._record(
                        state,
                        status="deployed" if problem is None else "failed",
                        health=health,
                        reason=problem or "",
                    )
                )
        return out

    def stop(self, project: str | None = None) -> list[DeploymentRecord]:
        """Stop every release and proxy (of one project, or all); they stay current for `serve`."""
        out = []
        for state in self.states(project):
            folder = self.folder(state.project, state.environment, state.component)
            with self._locked(folder):
                state = self.state(state.project, state.environment, state.component) or state
                if state.current is not None:
                    stop(state.current.process)
                    state.current.process = None
                stop(state.proxy)
                state.proxy = None
                self._save(folder, state)
                if state.current is not None:
                    out.append(self._record(state, status="unchanged", health="unhealthy", reason="stopped"))
        return out


def stop_releases_under(folder: Path, depth: int = 4) -> int:
    """Stop every local release whose releases folder is at most `depth` levels below `folder`
    (tests: whatever a test's pipeline run left running); the number of components stopped."""
    stopped = 0
    for level in range(depth + 1):
        for releases in Path(folder).glob("/".join(["*"] * level + ["releases"])):
            if releases.is_dir():
                stopped += len(LocalHosting(root=str(releases), install_cache_dir="").stop())
    return stopped
