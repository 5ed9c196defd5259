"""The whole validation of one integration commit, without Dagster: `validate_build`.

The tree's components come from its manifest (`pipeline_core.repository.manifest`), and only from
it: each is installed and tested as CI would (`components.install_and_test`), the backend is
started by its manifest start command and driven from the architecture's OpenAPI document
(`backend_check`), each frontend's calls are checked against the document (`frontend_scan`), and
every acceptance criterion is traced to the tests that cover it (`tracing`). A tree without a
manifest, or whose manifest breaks the contract, fails with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet
from assets.story_builds.models import StoryBuildsSet
from assets.validations.backend_check import check_backend_contract, unreachable
from assets.validations.components import install_and_test
from assets.validations.coverage import coverage_report
from assets.validations.frontend_scan import check_frontend_calls
from assets.validations.install import environment_for
from assets.validations.models import ComponentRun, ContractMismatch, ContractResult, ValidationReport
from assets.validations.openapi_schemas import expected_operations
from assets.validations.tracing import BUILT, coverage_change_sets, story_statuses, trace_tests
from pipeline_core.repository.manifest import MANIFEST_PATH, Manifest, ManifestError, read_manifest


def decode_tree(files: Mapping[str, bytes]) -> tuple[dict[str, str], list[str]]:
    """(path -> text, paths skipped because they are not UTF-8 text)."""
    tree, skipped = {}, []
    for path, data in files.items():
        try:
            tree[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            skipped.append(path)
    return tree, sorted(skipped)


def tree_manifest(tree: Mapping[str, str]) -> tuple[Manifest | None, str | None]:
    """(the tree's manifest, None) or (None, why there is none usable)."""
    try:
        manifest = read_manifest(tree)
    except ManifestError as error:
        return None, str(error)
    if manifest is None:
        return None, f"the tree has no {MANIFEST_PATH}: nothing says how to install, test or start it"
    return manifest, None


def nothing_built_report(
    story_builds: StoryBuildsSet, requirements: RequirementsSet, problem: str, commit: str | None = None
) -> ValidationReport:
    change_sets = coverage_change_sets(requirements, story_builds, [])
    return ValidationReport(
        project=story_builds.project,
        repository=story_builds.repository,
        integration_branch=story_builds.integration_branch,
        commit=commit,
        stories=story_statuses(requirements, story_builds, change_sets, {}),
        coverage=coverage_report(requirements, change_sets, {}),
        problems=[problem],
    )


def validate_build(
    tree: Mapping[str, str],
    commit: str,
    story_builds: StoryBuildsSet,
    architecture: Architecture,
    requirements: RequirementsSet,
    *,
    timeout_s: float | None = None,
    seconds_per_test: float | None = None,
    install_timeout_s: float | None = None,
    contract_timeout_s: float = 120.0,
    cache_dir: Path | None = None,
    workdir_parent: Path | None = None,
) -> ValidationReport:
    """Install and test each component, check the contract, and trace criterion coverage.

    `timeout_s` + `seconds_per_test` * tests is each component's test time limit, and
    `install_timeout_s` each install's (defaults from the settings; see `install_and_test`).
    """
    manifest, problem = tree_manifest(tree)
    if manifest is None:
        return nothing_built_report(story_builds, requirements, str(problem), commit)
    tested = install_and_test(
        tree,
        manifest,
        cache_dir=cache_dir,
        timeout_s=timeout_s,
        seconds_per_test=seconds_per_test,
        install_timeout_s=install_timeout_s,
        workdir_parent=workdir_parent,
    )
    problems = list(tested.problems)
    results = {outcome.component: outcome for outcome in tested.components}
    built = [label for build in story_builds.stories if build.status in BUILT for label in build.operations]
    expected = expected_operations(architecture.openapi, built)
    backends = [c for c in manifest.components if c.kind == "backend" and c.start is not None]
    if not backends:
        contract: ContractResult = unreachable(
            "backend", "a backend component with a start command in the manifest", "none"
        )
    else:
        backend = backends[0]
        outcome = results[backend.name]
        if outcome.install is None or not outcome.install.ok:
            contract = unreachable(backend.name, "the backend installed", outcome.reason or outcome.status)
        else:
            contract = check_backend_contract(
                tree,
                architecture.openapi,
                backend,
                environment_for(backend, Path(outcome.install.environment)),
                contract_timeout_s,
                expected=expected,
                workdir_parent=workdir_parent,
            )
        if len(backends) > 1:
            contract.notes.append(
                "only the first backend is contract-checked: "
                + ", ".join(other.name for other in backends[1:])
                + " not checked"
            )
    frontend: list[ContractMismatch] = []
    for component in manifest.components:
        if component.kind == "frontend":
            frontend += check_frontend_calls(tree, architecture.openapi, component.path)
    traced = trace_tests(tree, [(component.name, component.path) for component in manifest.components])
    change_sets = coverage_change_sets(requirements, story_builds, traced)
    return ValidationReport(
        project=story_builds.project,
        repository=story_builds.repository,
        integration_branch=story_builds.integration_branch,
        commit=commit,
        components=[ComponentRun.from_outcome(outcome) for outcome in tested.components],
        stories=story_statuses(requirements, story_builds, change_sets, results),
        coverage=coverage_report(requirements, change_sets, results),
        contract=contract,
        frontend_mismatches=frontend,
        problems=problems,
    )
