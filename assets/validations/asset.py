"""The `validations` asset: the generated tests run in a sandbox, the contract between components
checked against the OpenAPI document, and every acceptance criterion's coverage.

The plain functions come first (`validate_build` does the whole job without Dagster); the asset
reads the integration commit from the forge, calls it, and reports. Failing tests and contract
mismatches are blocking checks (a later deployment stage does not run on them); coverage is a
warning that names the uncovered criteria.
"""

import ast
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from pydantic import Field

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet
from assets.requirements.report import markdown_table
from assets.story_builds.codegen_offline import component_tests
from assets.story_builds.models import (
    CoveredCriterion,
    StoryBuildsSet,
    StoryChangeSet,
    TestRef,
    UncoveredCriterion,
)
from assets.validations.contract import (
    check_backend_contract,
    check_frontend_calls,
    expected_operations,
)
from assets.validations.models import (
    ComponentRun,
    ContractMismatch,
    ContractResult,
    CriterionCoverage,
    StoryStatus,
    ValidationReport,
)
from assets.validations.sandbox import (
    SandboxResult,
    coverage_report,
    run_tests_in_sandbox,
    story_report,
)
from pipeline_core.hashing import content_hash
from pipeline_core.partitions import projects_partitions
from resources.forge import Forge
from resources.io_manager import read_previous_value
from resources.object_store import ObjectStore

# Bump with the checks, the coverage rules or the sandbox's behaviour.
VALIDATIONS_CODE_VERSION = "validations-1"
TESTS_CHECK = "generated_tests_pass"
CONTRACT_CHECK = "contract_matches"
COVERAGE_CHECK = "criteria_covered"
BUILT = ("built", "unchanged")
LISTED = 50  # names shown in a check's metadata before "... and N more"

COVERS = re.compile(r"\bCovers:\s*(?P<story>[A-Za-z0-9][\w-]*)\s+(?P<criterion>[A-Za-z0-9][\w-]*)")


# ---------------------------------------------------------------------------------------------
# Tracing tests to criteria


@dataclass(frozen=True)
class TracedTest:
    """A test function whose docstring names the criterion it covers ("Covers: US-1a2b AC1")."""

    component: str
    file: str
    name: str
    story_id: str
    criterion_id: str
    assertions: int  # assertions that depend on something the test computed


def _is_constant(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) or (
        isinstance(node, ast.Tuple | ast.List) and all(_is_constant(item) for item in node.elts)
    )


def count_assertions(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Assertions in a test that could fail: `assert x`, `self.assertX(...)`, `pytest.raises(...)`;
    an assertion over constants only (`self.assertTrue(True)`, `assert 1 == 1`) does not count."""
    count = 0
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            operands = (
                [node.test.left, *node.test.comparators]
                if isinstance(node.test, ast.Compare)
                else [node.test]
            )
            count += not all(_is_constant(operand) for operand in operands)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name.startswith("assert") or name == "raises":
                arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
                count += bool(arguments) and not all(_is_constant(argument) for argument in arguments)
    return count


def trace_tests(tree: Mapping[str, str], components: Sequence[tuple[str, str]]) -> list[TracedTest]:
    """Every test function in each component's test files (`test*.py` under its folder) that names
    a story and criterion in its docstring, with its count of real assertions."""
    out = []
    for component, folder in components:
        prefix = folder.rstrip("/") + "/"
        for path, text in sorted(tree.items()):
            if (
                not path.startswith(prefix)
                or not Path(path).name.startswith("test")
                or not path.endswith(".py")
            ):
                continue
            try:
                module = ast.parse(text, filename=path)
            except SyntaxError:
                continue  # the test run reports it
            for node in ast.walk(module):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or not node.name.startswith(
                    "test"
                ):
                    continue
                docstring = ast.get_docstring(node) or ""
                assertions = count_assertions(node)
                for match in COVERS.finditer(docstring):
                    out.append(
                        TracedTest(component, path, node.name, match["story"], match["criterion"], assertions)
                    )
    return out


def coverage_change_sets(
    requirements: RequirementsSet, story_builds: StoryBuildsSet, traced: Sequence[TracedTest]
) -> list[StoryChangeSet]:
    """Per story, the criteria covered by traced tests that assert something, and the others with
    the reason: the generator's own, a test that asserts nothing, a claimed test that is missing,
    or the story's failed build."""
    builds = {build.story_id: build for build in story_builds.stories}
    by_criterion: dict[tuple[str, str], list[TracedTest]] = {}
    for test in traced:
        by_criterion.setdefault((test.story_id, test.criterion_id), []).append(test)
    out = []
    for story in requirements.stories:
        build = builds.get(story.id)
        claimed = {item.criterion_id: item for item in build.covered_criteria} if build else {}
        reasons = {item.criterion_id: item.reason for item in build.uncovered_criteria} if build else {}
        covered: list[CoveredCriterion] = []
        uncovered: list[UncoveredCriterion] = []
        for criterion in story.acceptance_criteria:
            tests = by_criterion.get((story.id, criterion.id), [])
            asserting = [test for test in tests if test.assertions]
            claim = claimed.get(criterion.id)
            reason = ""
            if asserting:
                for test in asserting:
                    behaviour = (
                        claim.behaviour
                        if claim and claim.test.name == test.name
                        else f"traced by 'Covers: {story.id} {criterion.id}' in the test"
                    )
                    covered.append(
                        CoveredCriterion(
                            story_id=story.id,
                            criterion_id=criterion.id,
                            test=TestRef(component=test.component, file=test.file, name=test.name),
                            behaviour=behaviour,
                        )
                    )
                continue
            if tests:
                names = ", ".join(f"{test.file}::{test.name}" for test in tests)
                reason = f"its test asserts nothing ({names})"
            elif claim is not None:
                reason = (
                    f"the build names {claim.test.file}::{claim.test.name}, but no test in the tree "
                    f"says 'Covers: {story.id} {criterion.id}'"
                )
            elif criterion.id in reasons:
                reason = reasons[criterion.id]
            elif build is None:
                reason = "the story has no build"
            elif build.status not in BUILT:
                reason = f"the story's build {build.status}" + (f": {build.reason}" if build.reason else "")
            else:
                reason = "no generated test covers it"
            uncovered.append(UncoveredCriterion(story_id=story.id, criterion_id=criterion.id, reason=reason))
        out.append(
            StoryChangeSet(
                story_id=story.id,
                message=story.title,
                covered_criteria=covered,
                uncovered_criteria=uncovered,
            )
        )
    return out


def story_statuses(
    requirements: RequirementsSet,
    story_builds: StoryBuildsSet,
    change_sets: Sequence[StoryChangeSet],
    results: Mapping[str, SandboxResult],
) -> list[StoryStatus]:
    builds = {build.story_id: build for build in story_builds.stories}
    titles = {story.id: story.title for story in requirements.stories}
    out = []
    for item in story_report(requirements, change_sets, results):
        build = builds.get(item.story_id)
        build_status = build.status if build else "missing"
        not_built = build is None or (build.status not in BUILT and not item.covered)
        out.append(
            StoryStatus(
                story_id=item.story_id,
                title=titles.get(item.story_id, ""),
                build_status=build_status,
                status="not_built" if not_built else item.status,
                passed=item.passed,
                failed=item.failed,
                covered=item.covered,
                uncovered=item.uncovered,
                reason=(build.reason or "") if build else "the story has no build",
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# The whole validation


def decode_tree(files: Mapping[str, bytes]) -> tuple[dict[str, str], list[str]]:
    """(path -> text, paths skipped because they are not UTF-8 text)."""
    tree, skipped = {}, []
    for path, data in files.items():
        try:
            tree[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            skipped.append(path)
    return tree, sorted(skipped)


def run_components(
    tree: Mapping[str, str], timeout_s: float, workdir_parent: Path | None = None
) -> dict[str, tuple[str, SandboxResult]]:
    """component -> (folder, sandbox result) for each component's generated tests."""
    out = {}
    for component, folder, argv in component_tests(tree, python=sys.executable):
        if not any(path.startswith(folder.rstrip("/") + "/") for path in tree):
            missing = SandboxResult(
                command=argv,
                cwd=folder,
                returncode=None,
                timed_out=False,
                duration_s=0.0,
                network_isolated=False,
                isolation="not run",
                stderr_tail=f"the component's folder {folder}/ is not in the tree",
            )
            out[component] = (folder, missing)
            continue
        out[component] = (
            folder,
            run_tests_in_sandbox(tree, argv, timeout_s=timeout_s, workdir_parent=workdir_parent, cwd=folder),
        )
    return out


def nothing_built_report(
    story_builds: StoryBuildsSet, requirements: RequirementsSet, problem: str
) -> ValidationReport:
    change_sets = coverage_change_sets(requirements, story_builds, [])
    return ValidationReport(
        project=story_builds.project,
        repository=story_builds.repository,
        integration_branch=story_builds.integration_branch,
        commit=None,
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
    timeout_s: float = 120.0,
    contract_timeout_s: float = 120.0,
    workdir_parent: Path | None = None,
) -> ValidationReport:
    """Run each component's tests in the sandbox, check the contract, and trace criterion coverage."""
    problems = []
    runs = run_components(tree, timeout_s, workdir_parent)
    if not runs:
        problems.append("the tree names no component with tests (no .ai-pipeline/manifest.json)")
    results = {component: result for component, (_, result) in runs.items()}
    components = [
        ComponentRun.from_sandbox(component, folder, result, timeout_s)
        for component, (folder, result) in runs.items()
    ]
    built = [label for build in story_builds.stories if build.status in BUILT for label in build.operations]
    contract = check_backend_contract(
        tree,
        architecture.openapi,
        contract_timeout_s,
        expected=expected_operations(architecture.openapi, built),
        workdir_parent=workdir_parent,
    )
    frontend = check_frontend_calls(tree, architecture.openapi)
    traced = trace_tests(tree, [(component, folder) for component, (folder, _) in runs.items()])
    change_sets = coverage_change_sets(requirements, story_builds, traced)
    return ValidationReport(
        project=story_builds.project,
        repository=story_builds.repository,
        integration_branch=story_builds.integration_branch,
        commit=commit,
        components=components,
        stories=story_statuses(requirements, story_builds, change_sets, results),
        coverage=coverage_report(requirements, change_sets, results),
        contract=contract,
        frontend_mismatches=frontend,
        problems=problems,
    )


# ---------------------------------------------------------------------------------------------
# Reporting


def _listed(lines: Sequence[str]) -> str:
    shown = list(lines[:LISTED])
    if len(lines) > LISTED:
        shown.append(f"... and {len(lines) - LISTED} more")
    return "\n".join(shown) or "none"


def criterion_name(item: CriterionCoverage, requirements: RequirementsSet) -> str:
    """ "US-1a2b AC1 (Title): when ..., then ..." for people."""
    story = next((story for story in requirements.stories if story.id == item.story_id), None)
    criterion = next(
        (c for c in (story.acceptance_criteria if story else []) if c.id == item.criterion_id), None
    )
    text = f"{item.story_id} {item.criterion_id}"
    if story is not None:
        text += f" ({story.title})"
    if criterion is not None:
        text += f": when {criterion.when}, then {criterion.then}"
    return text


def tests_table(report: ValidationReport) -> str:
    return markdown_table(
        [
            "component",
            "passed",
            "failed",
            "error",
            "skipped",
            "timeout",
            "timed out",
            "no network",
            "seconds",
        ],
        [
            (
                run.component,
                run.passed,
                run.failed,
                run.error,
                run.skipped,
                run.timeout,
                "yes" if run.timed_out else "no",
                "yes" if run.network_isolated else "no",
                f"{run.duration_s:.1f}",
            )
            for run in report.components
        ],
    )


def stories_table(report: ValidationReport) -> str:
    return markdown_table(
        ["story", "title", "build", "status", "tests passed", "tests failed", "covered", "uncovered"],
        [
            (
                story.story_id,
                story.title,
                story.build_status,
                story.status,
                len(story.passed),
                ", ".join(story.failed) or "-",
                ", ".join(story.covered) or "-",
                ", ".join(story.uncovered) or "-",
            )
            for story in report.stories
        ],
    )


def uncovered_table(report: ValidationReport, requirements: RequirementsSet) -> str:
    return markdown_table(
        ["criterion", "status", "reason"],
        [
            (criterion_name(item, requirements), item.status, item.reason)
            for item in report.coverage
            if item.status in ("uncovered", "not_run")
        ],
    )


def mismatches_table(mismatches: Sequence[ContractMismatch]) -> str:
    return markdown_table(
        ["component", "operation", "check", "expected", "got", "request / source"],
        [
            (m.component, m.operation, m.check, m.expected, m.got[:200], m.source or m.request[:200])
            for m in mismatches
        ],
    )


def check_tests(report: ValidationReport) -> dg.AssetCheckResult:
    failing = [
        f"{run.component}: {test.id} ({test.status})"
        for run in report.components
        for test in run.tests
        if test.status in ("failed", "error", "timeout")
    ]
    failing += [
        f"{run.component}: the run "
        + ("was killed at the time limit" if run.timed_out else f"exited with {run.returncode}")
        for run in report.components
        if not run.ok and (run.timed_out or run.returncode != 0)
    ]
    return dg.AssetCheckResult(
        check_name=TESTS_CHECK,
        passed=report.tests_pass,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None if report.tests_pass else "; ".join(report.problems) or "generated tests fail",
        metadata={
            "commit": dg.MetadataValue.text(report.commit or "nothing built"),
            "passed": dg.MetadataValue.int(sum(run.passed for run in report.components)),
            "failing": dg.MetadataValue.int(
                sum(run.failed + run.error + run.timeout for run in report.components)
            ),
            "failing_tests": dg.MetadataValue.text(_listed(failing)),
            "problems": dg.MetadataValue.text(_listed(report.problems)),
        },
    )


def check_contract(report: ValidationReport) -> dg.AssetCheckResult:
    mismatches = report.mismatches()
    contract = report.contract or ContractResult()
    return dg.AssetCheckResult(
        check_name=CONTRACT_CHECK,
        passed=report.contract_matches,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "commit": dg.MetadataValue.text(report.commit or "nothing built"),
            "mismatches": dg.MetadataValue.int(len(mismatches)),
            "mismatch_list": dg.MetadataValue.text(_listed([m.describe() for m in mismatches])),
            "operations_checked": dg.MetadataValue.int(len(contract.operations)),
            "requests": dg.MetadataValue.int(contract.requests),
            "unserved": dg.MetadataValue.text(", ".join(contract.unserved) or "none"),
            "network_isolated": dg.MetadataValue.bool(contract.network_isolated),
            "problems": dg.MetadataValue.text(_listed(report.problems)),
        },
    )


def check_coverage(report: ValidationReport, requirements: RequirementsSet) -> dg.AssetCheckResult:
    missing = [item for item in report.coverage if item.status in ("uncovered", "not_run")]
    return dg.AssetCheckResult(
        check_name=COVERAGE_CHECK,
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "criteria": dg.MetadataValue.int(len(report.coverage)),
            "covered": dg.MetadataValue.int(sum(1 for item in report.coverage if item.status != "uncovered")),
            "uncovered": dg.MetadataValue.int(len(missing)),
            "uncovered_criteria": dg.MetadataValue.md(
                "\n".join(f"- {criterion_name(item, requirements)} — {item.reason}" for item in missing)
                or "none"
            ),
        },
    )


def report_metadata(
    report: ValidationReport, requirements: RequirementsSet, repository_url: str
) -> dict[str, dg.MetadataValue]:
    mismatches = report.mismatches()
    headline = (
        f"Commit `{report.commit}` of {report.repository} ({report.integration_branch})"
        if report.commit
        else "Nothing validated: " + "; ".join(report.problems)
    )
    summary = (
        f"{headline}\n\n### Tests per component\n\n{tests_table(report)}\n\n"
        f"### Stories\n\n{stories_table(report)}\n\n"
        f"### Criteria not covered\n\n{uncovered_table(report, requirements)}\n\n"
        f"### Contract mismatches\n\n{mismatches_table(mismatches)}\n"
    )
    return {
        "summary": dg.MetadataValue.md(summary),
        "repository": dg.MetadataValue.url(repository_url),
        "commit": dg.MetadataValue.text(report.commit or "nothing built"),
        "tests_passed": dg.MetadataValue.int(sum(run.passed for run in report.components)),
        "tests_failed": dg.MetadataValue.int(
            sum(run.failed + run.error + run.timeout for run in report.components)
        ),
        "stories_passed": dg.MetadataValue.int(
            sum(1 for story in report.stories if story.status == "passed")
        ),
        "stories_failed": dg.MetadataValue.int(
            sum(1 for story in report.stories if story.status == "failed")
        ),
        "criteria_covered": dg.MetadataValue.int(
            sum(1 for item in report.coverage if item.status != "uncovered")
        ),
        "criteria_uncovered": dg.MetadataValue.int(len(report.uncovered())),
        "contract_mismatches": dg.MetadataValue.int(
            len(report.contract.mismatches if report.contract else [])
        ),
        "frontend_mismatches": dg.MetadataValue.int(len(report.frontend_mismatches)),
        "network_isolated": dg.MetadataValue.bool(
            bool(report.components) and all(run.network_isolated for run in report.components)
        ),
    }


# ---------------------------------------------------------------------------------------------
# The asset


class ValidationsConfig(dg.Config):
    """Time limits of the sandboxed runs."""

    timeout_s: float = Field(120.0, gt=0, description="time limit of each component's tests, in seconds")
    contract_timeout_s: float = Field(120.0, gt=0, description="time limit of the backend contract check")


@dg.asset(
    partitions_def=projects_partitions,
    code_version=VALIDATIONS_CODE_VERSION,
    group_name="build",
    check_specs=[
        dg.AssetCheckSpec(
            TESTS_CHECK,
            asset="validations",
            blocking=True,
            description="Every component's generated tests pass in the sandbox.",
        ),
        dg.AssetCheckSpec(
            CONTRACT_CHECK,
            asset="validations",
            blocking=True,
            description="The backend serves the OpenAPI document; the frontend calls only what it documents.",
        ),
        dg.AssetCheckSpec(
            COVERAGE_CHECK,
            asset="validations",
            description="Every acceptance criterion is covered by a generated test (warns, naming others).",
        ),
    ],
)
def validations(
    context: dg.AssetExecutionContext,
    config: ValidationsConfig,
    story_builds: StoryBuildsSet,
    architecture: Architecture,
    requirements: RequirementsSet,
    forge: Forge,
    artifacts: ObjectStore,
) -> Iterator[dg.Output[ValidationReport] | dg.AssetCheckResult]:
    """The integration commit of the project's story builds, validated: each component's generated
    tests run in a sandbox (fresh checkout, time limit, minimal environment, no network where the
    platform allows), the backend driven from the OpenAPI contract and the frontend's calls checked
    against it, and every acceptance criterion traced to the tests that cover it. The data version
    changes only when the results do.
    """
    input_key = content_hash(
        {
            "code_version": VALIDATIONS_CODE_VERSION,
            "commit": story_builds.integration_commit,
            "builds": story_builds.data_version(),
            "architecture": architecture.data_version(),
            "requirements": requirements.data_version(),
            "config": config.model_dump(),
        }
    )
    previous = read_previous_value(artifacts, "validations", context.partition_key, ValidationReport)
    reused = previous is not None and previous.input_key == input_key and previous.commit is not None
    if reused:
        # The same commit, design and stories were validated already: the results stand.
        report = previous
    elif story_builds.integration_commit is None:
        report = nothing_built_report(
            story_builds, requirements, "nothing is built: story_builds has no integration commit"
        )
    else:
        files = forge.read_tree(story_builds.repository, story_builds.integration_commit)
        tree, skipped = decode_tree(files)
        report = validate_build(
            tree,
            story_builds.integration_commit,
            story_builds,
            architecture,
            requirements,
            timeout_s=config.timeout_s,
            contract_timeout_s=config.contract_timeout_s,
        )
        if skipped:
            report.problems.append(f"not UTF-8 text, left out of the sandbox: {', '.join(skipped)}")
    report.input_key = input_key
    context.log.info(
        ("reused the results of an identical validation; " if reused else "")
        + f"{report.project}: tests {'pass' if report.tests_pass else 'FAIL'}, "
        f"{len(report.mismatches())} contract mismatch(es), {len(report.uncovered())} uncovered criteria"
    )
    yield dg.Output(
        report,
        data_version=dg.DataVersion(report.data_version()),
        metadata={
            **report_metadata(report, requirements, story_builds.repository_url),
            "reused_previous_results": dg.MetadataValue.bool(reused),
        },
    )
    yield check_tests(report)
    yield check_contract(report)
    yield check_coverage(report, requirements)
