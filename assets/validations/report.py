"""How a validation report reads for people: markdown tables, the checks' results and metadata."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from assets.requirements.models import RequirementsSet
from assets.requirements.report import markdown_table
from assets.validations.models import ContractMismatch, ContractResult, CriterionCoverage, ValidationReport
from pipeline_core.links import repository_links

TESTS_CHECK = "generated_tests_pass"
CONTRACT_CHECK = "contract_matches"
COVERAGE_CHECK = "criteria_covered"
LISTED = 50  # names shown in a check's metadata before "... and N more"


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
            "status",
            "install",
            "passed",
            "failed",
            "error",
            "skipped",
            "timeout",
            "not run",
            "no network",
            "seconds (install + tests)",
        ],
        [
            (
                run.component,
                run.status or ("passed" if run.ok else "failed"),
                run.install_status or "-",
                run.passed,
                run.failed,
                run.error,
                run.skipped,
                run.timeout,
                run.not_run,
                "yes" if run.network_isolated else "no",
                f"{run.install_s:.1f} + {run.duration_s:.1f}",
            )
            for run in report.components
        ],
    )


def stories_table(report: ValidationReport) -> str:
    return markdown_table(
        [
            "story",
            "title",
            "build",
            "status",
            "tests passed",
            "tests failed",
            "not run",
            "covered",
            "uncovered",
        ],
        [
            (
                story.story_id,
                story.title,
                story.build_status,
                story.status,
                len(story.passed),
                ", ".join(story.failed) or "-",
                len(story.not_run),
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
    failing += [f"{run.component}: {run.reason}" for run in report.components if not run.ok and run.reason]
    not_run = [
        f"{run.component}: {test.id}"
        for run in report.components
        for test in run.tests
        if test.status == "not_run"
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
            "not_run": dg.MetadataValue.int(len(not_run)),
            "not_run_tests": dg.MetadataValue.text(_listed(not_run)),
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
        **repository_links(repository_url, repository_url, report.project),
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
        "stories_not_run": dg.MetadataValue.int(
            sum(1 for story in report.stories if story.status == "not_run")
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
