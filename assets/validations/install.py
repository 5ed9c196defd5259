"""Install a generated component's dependencies as CI would, once per set of dependency files.

Each component gets an environment of its own, chosen by its manifest runtime:

- `python`: a virtualenv made for it (from the pipeline's base interpreter, never the pipeline's
  own environment); its `bin/` comes first on PATH, so `python` and `pip` in the manifest's argv
  are the component's;
- `node` and `static`: the component's `node_modules`, which the install writes in the
  component's folder and the test run finds there (a link to the cached copy); its `.bin/`
  comes first on PATH.

The `install` argv runs in the sandbox (a fresh copy of the tree, minimal environment, credential
files hidden, time limit) with the package registries reachable: the machine's pip index and
npm registry settings are passed in (credentials in their URLs are dropped), nothing else of
the pipeline's environment. The tests then run in another sandbox without network.

The environment is cached under the install cache folder by a key over the component's
dependency files (requirements*.txt, constraints*.txt, pyproject.toml, setup.py, setup.cfg,
package.json, package-lock.json, npm-shrinkwrap.json), its install argv and the runtime's version,
so an unchanged component installs once. A failed install is reported with its output and is not
cached. Caveat: `pip install .` (or `-e .`) of the component itself is cached with the source it
was installed from; tests that import the component from the installed copy rather than their
working folder see that source until a dependency file changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from assets.validations.sandbox import run_tests_in_sandbox
from pipeline_core.hashing import content_hash
from pipeline_core.repository.manifest import ComponentSpec

INSTALL_CACHE_VERSION = "install-1"
DEPENDENCY_FILE = re.compile(
    r"^(?:requirements[^/]*\.txt|constraints[^/]*\.txt|pyproject\.toml|setup\.py|setup\.cfg"
    r"|package\.json|package-lock\.json|npm-shrinkwrap\.json)$"
)
DEPENDENCY_DEPTH = 2  # `requirements/dev.txt` counts; files deeper in the component do not
COMPLETE = ".ai-pipeline-complete.json"
TAIL = 4000
# The machine's pip settings that say where packages come from (never user names or passwords).
PIP_SETTINGS = ("index-url", "extra-index-url", "find-links", "trusted-host", "cert", "timeout")
PIP_ENV = ("PIP_DEFAULT_TIMEOUT", "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_NO_INPUT")
PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")

InstallStatus = Literal["installed", "cached", "nothing_to_install", "failed"]


class InstallResult(BaseModel):
    """What installing one component did: installed now, found in the cache, or failed (why)."""

    component: str
    runtime: str
    key: str
    status: InstallStatus
    command: list[str]
    duration_s: float = 0.0
    environment: str = ""  # the virtualenv or node_modules folder the tests use
    output_tail: str = ""
    network_isolated: bool = False
    isolation: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass
class ComponentEnvironment:
    """How a component's commands find their environment: PATH first entries, variables, links."""

    path_prefix: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    links: dict[str, Path] = field(default_factory=dict)  # tree path -> cached folder


def _strip_credentials(url: str) -> str | None:
    """The URL without user name and password; None for a URL that carries credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.username or parts.password:
        return None
    return urlunsplit(parts)


def _clean_urls(value: str) -> str:
    kept = [url for url in (_strip_credentials(item) for item in value.split()) if url]
    return " ".join(kept)


@cache
def _pip_config() -> tuple[tuple[str, str], ...]:
    """(setting, value) of the machine's pip configuration (user, global, site files)."""
    try:
        listed = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": os.environ.get("PATH", ""), "HOME": os.path.expanduser("~")},
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ()
    out = []
    for line in listed.splitlines():
        name, _, value = line.partition("=")
        setting = name.split(".", 1)[-1].strip()
        if setting in PIP_SETTINGS:
            out.append((setting, value.strip().strip("'\"")))
    return tuple(out)


@cache
def _npm_registry() -> str | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        registry = subprocess.run(
            [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return _strip_credentials(registry) if registry.startswith(("http://", "https://")) else None


def registry_env() -> dict[str, str]:
    """The package-index settings of this machine as environment variables for an install:
    pip's index, extra indexes, find-links, trusted hosts, CA file and timeout; npm's registry;
    proxies. URLs that carry credentials are left out."""
    env: dict[str, str] = {}
    for setting, value in _pip_config():
        name = "PIP_" + setting.upper().replace("-", "_")
        cleaned = _clean_urls(value) if "url" in setting or setting == "find-links" else value
        if cleaned:
            env[name] = cleaned
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_TRUSTED_HOST", "PIP_CERT"):
        if os.environ.get(name):
            cleaned = _clean_urls(os.environ[name]) if name != "PIP_CERT" else os.environ[name]
            if cleaned:
                env[name] = cleaned
    for name in PIP_ENV:
        if os.environ.get(name):
            env[name] = os.environ[name]
    registry = _npm_registry()
    if registry:
        env["npm_config_registry"] = registry
    env.update(
        {"npm_config_audit": "false", "npm_config_fund": "false", "npm_config_update_notifier": "false"}
    )
    for name in PROXY_ENV:
        value = os.environ.get(name)
        if value and (name.lower() == "no_proxy" or _strip_credentials(value)):
            env[name] = value
    return env


# ---------------------------------------------------------------------------------------------
# Cache keys


def dependency_files(tree: Mapping[str, str], component: ComponentSpec) -> dict[str, str]:
    """The component's dependency files (path inside the component -> text)."""
    prefix = "" if component.path == "." else component.path + "/"
    out = {}
    for path, text in tree.items():
        if not path.startswith(prefix):
            continue
        relative = path[len(prefix) :]
        parts = relative.split("/")
        if len(parts) > DEPENDENCY_DEPTH or "node_modules" in parts:
            continue
        if DEPENDENCY_FILE.match(parts[-1]):
            out[relative] = text
    return dict(sorted(out.items()))


@cache
def _node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "none"
    try:
        return subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def base_python() -> str:
    """The interpreter virtualenvs are made from: the pipeline's base Python, not its venv."""
    return getattr(sys, "_base_executable", None) or sys.executable


def runtime_version(runtime: str) -> str:
    if runtime == "python":
        return f"python {sys.version.split()[0]} ({base_python()})"
    return f"node {_node_version()}"


def install_key(tree: Mapping[str, str], component: ComponentSpec) -> str:
    """The cache key of a component's environment: dependency files, install argv, runtime."""
    return content_hash(
        {
            "version": INSTALL_CACHE_VERSION,
            "runtime": component.runtime,
            "runtime_version": runtime_version(component.runtime),
            "install": component.install,
            "files": dependency_files(tree, component),
        },
        length=32,
    )


# ---------------------------------------------------------------------------------------------
# Installing


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer per key at a time (other processes wait, then find it cached)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def environment_for(component: ComponentSpec, folder: Path) -> ComponentEnvironment:
    """What a command of the component needs to use the environment installed in `folder`."""
    if component.runtime == "python":
        return ComponentEnvironment(path_prefix=[str(folder / "bin")], env={"VIRTUAL_ENV": str(folder)})
    modules = folder / "node_modules"
    if not modules.is_dir():
        return ComponentEnvironment()
    return ComponentEnvironment(
        path_prefix=[str(modules / ".bin")], links={component.file_path("node_modules"): modules}
    )


def install_component(
    tree: Mapping[str, str],
    component: ComponentSpec,
    cache_dir: Path,
    *,
    timeout_s: float = 600.0,
) -> tuple[InstallResult, ComponentEnvironment | None]:
    """Install `component` of `tree` into its cached environment (or find it there).

    Returns the result and the environment to run its commands in (None when the install failed).
    """
    key = install_key(tree, component)
    kind = "python" if component.runtime == "python" else "node"
    folder = cache_dir / kind / key
    started = time.monotonic()

    def result(status: InstallStatus, **extra: object) -> InstallResult:
        return InstallResult(
            component=component.name,
            runtime=component.runtime,
            key=key,
            status=status,
            command=list(component.install),
            duration_s=round(time.monotonic() - started, 3),
            environment=str(folder),
            **extra,  # type: ignore[arg-type]
        )

    with _locked(cache_dir / "locks" / f"{kind}-{key}.lock"):
        if (folder / COMPLETE).is_file():
            return result("cached" if component.install else "nothing_to_install"), environment_for(
                component, folder
            )
        shutil.rmtree(folder, ignore_errors=True)  # a half-made environment from an interrupted run
        folder.mkdir(parents=True)
        if kind == "python":
            made = subprocess.run(
                [base_python(), "-m", "venv", *([] if component.install else ["--without-pip"]), str(folder)],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                env={"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8"},
            )
            if made.returncode != 0:
                shutil.rmtree(folder, ignore_errors=True)
                return result("failed", output_tail=(made.stderr or made.stdout)[-TAIL:]), None
        sandbox_status: dict[str, object] = {}
        if component.install:
            env = environment_for(component, folder)
            downloads = cache_dir / "downloads"
            variables = {
                **registry_env(),
                **env.env,
                "PIP_CACHE_DIR": str(downloads / "pip"),
                "npm_config_cache": str(downloads / "npm"),
            }

            def keep_node_modules(run_dir: Path) -> None:
                installed = run_dir / "node_modules"
                if kind == "node" and installed.is_dir() and not installed.is_symlink():
                    shutil.move(str(installed), str(folder / "node_modules"))

            work = cache_dir / "work"
            work.mkdir(parents=True, exist_ok=True)  # same file system as the cache: the move is a rename
            run = run_tests_in_sandbox(
                tree,
                list(component.install),
                timeout_s=timeout_s,
                workdir_parent=work,
                cwd=component.path,
                network=True,
                path_prefix=env.path_prefix,
                env=variables,
                collect=keep_node_modules,
            )
            sandbox_status = {"network_isolated": run.network_isolated, "isolation": run.isolation}
            output = (run.stderr_tail + "\n" + run.stdout_tail).strip()[-TAIL:]
            if run.returncode != 0 or run.timed_out:
                shutil.rmtree(folder, ignore_errors=True)
                why = (
                    f"killed at the install time limit ({timeout_s:g} s)"
                    if run.timed_out
                    else f"exited with {run.returncode}"
                )
                return result("failed", output_tail=f"install {why}\n{output}", **sandbox_status), None
        (folder / COMPLETE).write_text(
            json.dumps({"component": component.name, "install": component.install, "key": key}),
            encoding="utf-8",
        )
        status: InstallStatus = "installed" if component.install else "nothing_to_install"
        return result(status, **sandbox_status), environment_for(component, folder)
