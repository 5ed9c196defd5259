"""Records of the validations stage: test runs per component, contract checks, criterion coverage.

`TestOutcome`, `CriterionCoverage` and `CoveringTest` are defined by the test-output and coverage
modules (one definition, re-exported here): a criterion's status is `passed` (covered by tests that
all passed), `failed` (a covering test failed), `not_run` (a covering test was skipped or the time
limit struck first) or `uncovered` (no generated test covers it; `reason` says why).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assets.validations.components import ComponentOutcome
from assets.validations.coverage import CoveringTest, CriterionCoverage
from assets.validations.test_output import TestOutcome
from pipeline_core.hashing import content_hash

__all__ = [
    "ComponentRun",
    "ContractMismatch",
    "ContractResult",
    "CoveringTest",
    "CriterionCoverage",
    "StoryStatus",
    "TestOutcome",
    "ValidationReport",
]


class ComponentRun(BaseModel):
    """One component: its install (or the cached environment) and its tests, run in the sandbox."""

    component: str
    path: str
    runtime: str = ""
    status: str = Field("", description="passed / failed / install_failed / timed_out / missing")
    reason: str = ""
    install_status: str = Field("", description="installed / cached / nothing_to_install / failed")
    install_s: float = 0.0
    command: list[str]
    returncode: int | None
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0
    timeout: int = 0
    not_run: int = 0
    tests: list[TestOutcome] = Field(default_factory=list)
    timed_out: bool = False
    timeout_s: float
    duration_s: float = 0.0
    network_isolated: bool = False
    isolation: str = ""
    output_tail: str = Field("", description="the end of the runner's output, when the run did not pass")

    @property
    def ok(self) -> bool:
        return (
            self.status in ("", "passed")
            and self.returncode == 0
            and not self.timed_out
            and self.failed == 0
            and self.error == 0
            and self.timeout == 0
            and self.not_run == 0
        )

    @classmethod
    def from_outcome(cls, outcome: ComponentOutcome) -> ComponentRun:
        run = outcome.run
        counts = dict.fromkeys(("passed", "failed", "error", "skipped", "timeout", "not_run"), 0)
        for test in outcome.tests:
            counts[test.status] += 1
        item = cls(
            component=outcome.component,
            path=outcome.path,
            runtime=outcome.runtime,
            status=outcome.status,
            reason=outcome.reason,
            install_status=outcome.install.status if outcome.install else "",
            install_s=outcome.install.duration_s if outcome.install else 0.0,
            command=run.command if run else list(outcome.install.command if outcome.install else []),
            returncode=run.returncode if run else None,
            tests=outcome.tests,
            timed_out=run.timed_out if run else False,
            timeout_s=outcome.timeout_s,
            duration_s=run.duration_s if run else 0.0,
            network_isolated=run.network_isolated if run else False,
            isolation=run.isolation if run else "not run",
            **counts,
        )
        if not item.ok:
            item.output_tail = outcome.output(3000)
        return item


MismatchCheck = Literal[
    "unreachable",  # the backend did not start or the check could not finish
    "status",  # a status code the operation does not document
    "response_schema",  # a JSON response that does not validate against the documented schema
    "response_not_json",  # a documented JSON response that is not JSON
    "invalid_body_accepted",  # a body that breaks the request schema got a success status
    "not_found",  # an unknown id did not get the documented 404
    "undocumented_operation",  # the backend serves a method or path the document does not have
    "undocumented_call",  # the frontend calls a path or method the document does not have
    "undocumented_parameter",  # the frontend sends a query parameter the operation does not declare
    "transition_state",  # a transition's answer lacks its target state, or a refused one moved it
]


class ContractMismatch(BaseModel):
    """One difference between a component and the architecture's OpenAPI document."""

    component: str
    operation: str = Field(description="'METHOD /path/template' as the document (or the caller) names it")
    check: MismatchCheck
    expected: str
    got: str
    request: str = Field("", description="the request sent, e.g. 'POST /api/tasks {\"title\": ...}'")
    detail: str = ""
    source: str = Field("", description="where the call is made (frontend file:line)")

    def describe(self) -> str:
        where = f" ({self.source})" if self.source else ""
        return f"{self.component} {self.operation}{where}: expected {self.expected}, got {self.got}"


class ContractResult(BaseModel):
    """The backend driven from the OpenAPI document: what was sent and what did not match."""

    operations: list[str] = Field(default_factory=list, description="documented operations exercised")
    unserved: list[str] = Field(
        default_factory=list,
        description="documented operations no built story enables, answered 404/405 (not a mismatch)",
    )
    requests: int = 0
    notes: list[str] = Field(default_factory=list, description="what could not be checked, and why")
    mismatches: list[ContractMismatch] = Field(default_factory=list)
    started: bool = False
    timed_out: bool = False
    network_isolated: bool = False
    isolation: str = ""
    duration_s: float = 0.0
    log_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.started and not self.timed_out and not self.mismatches


StoryRunStatus = Literal["passed", "failed", "not_run", "untested", "not_built"]


class StoryStatus(BaseModel):
    """One story: how its build went, its tests' outcomes and its criteria's coverage."""

    story_id: str
    title: str
    build_status: str = Field(description="built / unchanged / failed / blocked / missing")
    status: StoryRunStatus
    passed: list[str] = Field(default_factory=list)
    failed: list[str] = Field(default_factory=list)
    not_run: list[str] = Field(default_factory=list, description="its tests the time limit left unrun")
    covered: list[str] = Field(default_factory=list)
    uncovered: list[str] = Field(default_factory=list)
    reason: str = ""


class ValidationReport(BaseModel):
    """The value of the `validations` asset for one project."""

    project: str
    repository: str
    integration_branch: str
    commit: str | None = Field(description="the integration commit validated; None when nothing is built")
    components: list[ComponentRun] = Field(default_factory=list)
    stories: list[StoryStatus] = Field(default_factory=list)
    coverage: list[CriterionCoverage] = Field(default_factory=list)
    contract: ContractResult | None = None
    frontend_mismatches: list[ContractMismatch] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list, description="why something could not be validated")
    input_key: str = Field("", description="hash of everything validated; equal inputs reuse the report")

    @property
    def tests_pass(self) -> bool:
        return self.commit is not None and bool(self.components) and all(run.ok for run in self.components)

    @property
    def contract_matches(self) -> bool:
        return (
            self.commit is not None
            and self.contract is not None
            and self.contract.ok
            and not self.frontend_mismatches
        )

    def mismatches(self) -> list[ContractMismatch]:
        return [*(self.contract.mismatches if self.contract else []), *self.frontend_mismatches]

    def uncovered(self) -> list[CriterionCoverage]:
        return [item for item in self.coverage if item.status == "uncovered"]

    def data_version(self) -> str:
        """Hash of the results: outcomes and findings, without durations, output or ports."""
        return content_hash(
            {
                "commit": self.commit,
                "components": [
                    {
                        "component": run.component,
                        "returncode": run.returncode,
                        "timed_out": run.timed_out,
                        "tests": sorted((test.id, test.status) for test in run.tests),
                    }
                    for run in self.components
                ],
                "stories": [story.model_dump(mode="json") for story in self.stories],
                "coverage": [
                    (
                        item.story_id,
                        item.criterion_id,
                        item.status,
                        item.reason,
                        sorted((test.test.component, test.test.name, test.outcome) for test in item.tests),
                    )
                    for item in self.coverage
                ],
                "contract": None
                if self.contract is None
                else {
                    "started": self.contract.started,
                    "timed_out": self.contract.timed_out,
                    "operations": self.contract.operations,
                    "unserved": self.contract.unserved,
                    "mismatches": [
                        (item.component, item.operation, item.check, item.expected, item.got)
                        for item in self.contract.mismatches
                    ],
                },
                "frontend": [item.model_dump(mode="json") for item in self.frontend_mismatches],
                "problems": self.problems,
            }
        )
