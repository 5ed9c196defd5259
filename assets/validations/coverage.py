"""Acceptance-criterion coverage and per-story results from the generated tests' outcomes.

A criterion is `passed` (covered by tests that all passed), `failed` (a covering test failed),
`not_run` (a covering test was skipped, or the time limit struck before it finished or started) or
`uncovered` (no generated test covers it; the reason says why). A story whose tests did not run is
`not_run`, never `failed`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from assets.requirements.models import RequirementsSet
from assets.story_builds.models import StoryChangeSet, TestRef
from assets.validations.test_output import TestOutcome, TestStatus


class HasTests(Protocol):
    @property
    def tests(self) -> list[TestOutcome]: ...


CoverageStatus = Literal["passed", "failed", "not_run", "uncovered"]


class CoveringTest(BaseModel):
    test: TestRef
    outcome: TestStatus | Literal["missing"]
    detail: str = ""


class CriterionCoverage(BaseModel):
    """One acceptance criterion: the generated tests that cover it and how they did, or why none."""

    story_id: str
    criterion_id: str
    status: CoverageStatus
    tests: list[CoveringTest] = Field(default_factory=list)
    reason: str = ""


class StoryValidation(BaseModel):
    """Per story: its generated tests' outcomes and its criteria's coverage."""

    story_id: str
    status: Literal["passed", "failed", "not_run", "untested"]
    passed: list[str] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list)
    not_run: list[str] = Field(default_factory=list, description="its tests a time limit left unfinished")
    covered: list[str] = Field(default_factory=list)
    uncovered: list[str] = Field(default_factory=list)


Results = Mapping[str, HasTests] | Sequence[HasTests]
FAILED: set[str] = {"failed", "error"}
UNFINISHED: set[str] = {"timeout", "not_run"}


def _outcomes(results: Results, component: str) -> list[TestOutcome]:
    if isinstance(results, Mapping):
        chosen = [results[component]] if component in results else []
    else:
        chosen = list(results)
    return [test for result in chosen for test in result.tests]


def same_test(outcome: TestOutcome, name: str) -> bool:
    """The runner's outcome is the test `name`: a Python function name, or a JavaScript test whose
    title starts with it ("test_us_1_ac1 a created task is listed")."""
    return outcome.name == name or outcome.name.startswith((name + " ", name + ":"))


def coverage_report(
    requirements: RequirementsSet, change_sets: Sequence[StoryChangeSet], results: Results
) -> list[CriterionCoverage]:
    """For every criterion of every story: covered by tests that passed / failed / did not run,
    or uncovered with the reason. A skipped or missing test never counts as covering."""
    latest = {change.story_id: change for change in change_sets}  # a rebuild replaces the earlier one
    report = []
    for story in requirements.stories:
        change = latest.get(story.id)
        for criterion in story.acceptance_criteria:
            key = (story.id, criterion.id)

            def uncovered(reason: str, at: tuple[str, str] = key) -> CriterionCoverage:
                return CriterionCoverage(
                    story_id=at[0], criterion_id=at[1], status="uncovered", reason=reason
                )

            if change is None:
                report.append(uncovered("the story is not built"))
                continue
            refs = [
                item.test for item in change.covered_criteria if (item.story_id, item.criterion_id) == key
            ]
            if not refs:
                reasons = [
                    item.reason
                    for item in change.uncovered_criteria
                    if (item.story_id, item.criterion_id) == key
                ]
                report.append(uncovered(reasons[0] if reasons else "no generated test covers it"))
                continue
            tests = []
            for ref in refs:
                found = [test for test in _outcomes(results, ref.component) if same_test(test, ref.name)]
                if not found:
                    tests.append(CoveringTest(test=ref, outcome="missing"))
                else:
                    tests.append(CoveringTest(test=ref, outcome=found[0].status, detail=found[0].detail))
            outcomes = {test.outcome for test in tests}
            if outcomes & FAILED:
                status: CoverageStatus = "failed"
                reason = "a covering test failed"
            elif outcomes == {"passed"}:
                status, reason = "passed", ""
            elif outcomes & UNFINISHED:
                status, reason = "not_run", "a covering test did not finish within the time limit"
            else:
                status, reason = "not_run", "a covering test was skipped or did not run"
            report.append(
                CriterionCoverage(
                    story_id=story.id, criterion_id=criterion.id, status=status, tests=tests, reason=reason
                )
            )
    return report


def story_report(
    requirements: RequirementsSet, change_sets: Sequence[StoryChangeSet], results: Results
) -> list[StoryValidation]:
    """Pass/fail per story, from its own generated test module(s) and its criteria's coverage.
    A story none of whose tests failed but some did not finish is `not_run`, not `failed`."""
    coverage = coverage_report(requirements, change_sets, results)
    latest = {change.story_id: change for change in change_sets}
    out = []
    for story in requirements.stories:
        change = latest.get(story.id)
        covering = change.covered_criteria if change else []
        modules = {(item.test.component, Path(item.test.file).stem) for item in covering}
        names = {(item.test.component, item.test.name) for item in covering}
        mine: dict[str, TestOutcome] = {}
        for component in sorted({component for component, _ in modules}):
            for test in _outcomes(results, component):
                in_module = any(
                    f".{module}." in f".{test.id}." or f"/{module}.py::" in f"/{test.id}"
                    for owner, module in modules
                    if owner == component
                )
                by_name = any(same_test(test, name) for owner, name in names if owner == component)
                if in_module or by_name:
                    mine[test.id] = test
        passed = sorted(test.id for test in mine.values() if test.status == "passed")
        failed = sorted(test.id for test in mine.values() if test.status in FAILED)
        not_run = sorted(test.id for test in mine.values() if test.status in UNFINISHED)
        criteria = [item for item in coverage if item.story_id == story.id]
        covered = [item.criterion_id for item in criteria if item.status != "uncovered"]
        uncovered = [item.criterion_id for item in criteria if item.status == "uncovered"]
        if failed or any(item.status == "failed" for item in criteria):
            status: Literal["passed", "failed", "not_run", "untested"] = "failed"
        elif not_run or any(item.status == "not_run" for item in criteria):
            status = "not_run"
        else:
            status = "passed" if passed else "untested"
        out.append(
            StoryValidation(
                story_id=story.id,
                status=status,
                passed=passed,
                failed=failed,
                not_run=not_run,
                covered=covered,
                uncovered=uncovered,
            )
        )
    return out
