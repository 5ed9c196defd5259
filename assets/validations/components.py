"""Install each component of a generated tree and run its tests, as CI would: `install_and_test`.

Per component (read from the manifest): its `install` argv in its own environment with the
package registries reachable (`install.install_component`, cached by dependency files), then its
`test` argv in a fresh copy of the tree with no network (`sandbox.run_tests_in_sandbox`). The
test time limit grows with the number of tests the component holds; when it strikes, the tests
that never ran are reported as `not_run` by name.

Used by validations and by the closed generation loop (a story's tests before its change set is
committed): the result carries per-component outcomes and the combined, trimmed output that a fix
request can quote.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from assets.validations.discovery import DiscoveredTest, discover_tests
from assets.validations.install import InstallResult, base_python, install_component
from assets.validations.sandbox import SandboxResult, TestOutcome, run_tests_in_sandbox
from pipeline_core.repository.manifest import ComponentSpec, Manifest
from pipeline_core.settings import get_settings

JUNIT_FILE = ".ai-pipeline-junit.xml"
TAIL = 4000

ComponentStatus = Literal["passed", "failed", "install_failed", "timed_out", "missing"]


class ComponentOutcome(BaseModel):
    """One component: its install, its test run and what came of them."""

    component: str
    path: str
    runtime: str
    status: ComponentStatus
    install: InstallResult | None = None
    run: SandboxResult | None = Field(None, description="the test run; None when it could not start")
    discovered: int = Field(0, description="tests found in the source before running")
    timeout_s: float = 0.0
    not_run: list[str] = Field(default_factory=list, description="tests the time limit left unrun")
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    @property
    def tests(self) -> list[TestOutcome]:
        return self.run.tests if self.run else []

    def output(self, limit: int = TAIL) -> str:
        """What went wrong, for a person or a fix request: the last `limit` characters."""
        if self.install is not None and not self.install.ok:
            text = f"install {' '.join(self.install.command)} failed:\n{self.install.output_tail}"
        elif self.run is not None:
            text = (self.run.stderr_tail + "\n" + self.run.stdout_tail).strip()
        else:
            text = ""
        head = f"{self.component}: {self.status}" + (f" ({self.reason})" if self.reason else "")
        return (head + "\n" + text)[-limit:]


class InstallAndTestResult(BaseModel):
    """Every chosen component installed and tested; `output` joins their outputs, trimmed."""

    components: list[ComponentOutcome] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.components) and not self.problems and all(item.ok for item in self.components)

    def outcome(self, component: str) -> ComponentOutcome | None:
        return next((item for item in self.components if item.component == component), None)

    def output(self, limit_per_component: int = TAIL) -> str:
        parts = [*self.problems, *(item.output(limit_per_component) for item in self.components)]
        return "\n\n".join(part for part in parts if part)


def component_test_command(component: ComponentSpec) -> tuple[list[str], str | None]:
    """(argv, junit report path) for the component's tests: pytest is asked for a JUnit report;
    `python` is the pipeline's base interpreter for a component without a virtualenv."""
    argv = list(component.test)
    if component.runtime != "python" and argv and argv[0] == "python":
        argv[0] = base_python()
    uses_pytest = any(Path(part).name == "pytest" for part in argv[:3])
    if uses_pytest and not any(part.startswith("--junitxml") for part in argv):
        return [*argv, f"--junitxml={JUNIT_FILE}"], JUNIT_FILE
    return argv, None


def time_limit(tests: int, base_s: float, per_test_s: float) -> float:
    """A component's test time limit: a base, plus a share for every test it holds."""
    return base_s + per_test_s * tests


def _not_run(found: list[DiscoveredTest], tests: list[TestOutcome]) -> list[TestOutcome]:
    reported = {test.name for test in tests} | {test.id for test in tests}
    missing = []
    for test in found:
        if test.name not in reported:
            reported.add(test.name)
            missing.append(
                TestOutcome(
                    id=f"{test.file}::{test.name}",
                    name=test.name,
                    status="not_run",
                    detail="did not run: the time limit struck first",
                )
            )
    return missing


def run_component(
    tree: Mapping[str, str],
    component: ComponentSpec,
    *,
    cache_dir: Path,
    base_timeout_s: float,
    seconds_per_test: float,
    install_timeout_s: float,
    workdir_parent: Path | None = None,
) -> ComponentOutcome:
    """Install one component and run its tests; see `install_and_test`."""
    found = discover_tests(tree, component)
    limit = time_limit(len(found), base_timeout_s, seconds_per_test)
    common = {
        "component": component.name,
        "path": component.path,
        "runtime": component.runtime,
        "discovered": len(found),
        "timeout_s": limit,
    }
    prefix = "" if component.path == "." else component.path + "/"
    if prefix and not any(path.startswith(prefix) for path in tree):
        return ComponentOutcome(
            **common, status="missing", reason=f"the component's folder {component.path}/ is not in the tree"
        )
    install, environment = install_component(tree, component, cache_dir, timeout_s=install_timeout_s)
    if environment is None:
        return ComponentOutcome(
            **common, status="install_failed", install=install, reason="its install failed"
        )
    argv, junit = component_test_command(component)
    run = run_tests_in_sandbox(
        tree,
        argv,
        timeout_s=limit,
        workdir_parent=workdir_parent,
        cwd=component.path,
        junit_xml=junit,
        path_prefix=environment.path_prefix,
        env=environment.env,
        links=environment.links,
    )
    not_run: list[str] = []
    if run.timed_out:
        missing = _not_run(found, run.tests)
        run.tests = [*run.tests, *missing]
        not_run = [test.name for test in missing]
    if run.timed_out:
        status: ComponentStatus = "timed_out"
        reason = f"killed at the time limit ({limit:g} s for {len(found)} tests); {len(not_run)} did not run"
    elif run.ok:
        status, reason = "passed", ""
    else:
        status = "failed"
        counts = run.counts()
        reason = f"exit {run.returncode}; " + ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    return ComponentOutcome(**common, status=status, install=install, run=run, not_run=not_run, reason=reason)


def install_and_test(
    tree: Mapping[str, str],
    manifest: Manifest,
    components: Collection[str] | None = None,
    *,
    cache_dir: Path | None = None,
    timeout_s: float | None = None,
    seconds_per_test: float | None = None,
    install_timeout_s: float | None = None,
    workdir_parent: Path | None = None,
) -> InstallAndTestResult:
    """Install each component of `tree` (repository path -> text) and run its tests.

    - `manifest`: the tree's manifest (`pipeline_core.repository.manifest.read_manifest(tree)`).
    - `components`: names of the components to take (default: all of the manifest's); an unknown
      name is a problem in the result, not an exception.
    - `cache_dir`: where installed environments are kept (default: the install cache setting,
      `PIPELINE_INSTALL_CACHE_DIR`, else `<PIPELINE_DATA_DIR>/install-cache`).
    - `timeout_s`, `seconds_per_test`: a component's test time limit is
      `timeout_s + seconds_per_test * <tests it holds>` (defaults: `PIPELINE_TEST_TIMEOUT_SECONDS`,
      `PIPELINE_TEST_SECONDS_PER_TEST`); `install_timeout_s` bounds each install
      (`PIPELINE_INSTALL_TIMEOUT_SECONDS`).
    - `workdir_parent`: where the sandboxes' temporary copies are made (default: the system's).

    Returns an `InstallAndTestResult`: per component (in manifest order) its status (`passed`,
    `failed`, `install_failed`, `timed_out`, `missing`), install result, sandbox run with per-test
    outcomes (`not_run` for tests a time-out left unrun), and `output()`, the combined trimmed output.
    """
    settings = get_settings()
    chosen = list(manifest.components)
    problems = []
    if components is not None:
        wanted = set(components)
        unknown = sorted(wanted - {component.name for component in chosen})
        if unknown:
            problems.append(f"no component named {', '.join(unknown)} in the manifest")
        chosen = [component for component in chosen if component.name in wanted]
    if not chosen and not problems:
        problems.append("the manifest names no component")
    outcomes = [
        run_component(
            tree,
            component,
            cache_dir=cache_dir or settings.install_cache_dir,
            base_timeout_s=settings.pipeline_test_timeout_seconds if timeout_s is None else timeout_s,
            seconds_per_test=settings.pipeline_test_seconds_per_test
            if seconds_per_test is None
            else seconds_per_test,
            install_timeout_s=settings.pipeline_install_timeout_seconds
            if install_timeout_s is None
            else install_timeout_s,
            workdir_parent=workdir_parent,
        )
        for component in chosen
    ]
    return InstallAndTestResult(components=outcomes, problems=problems)
