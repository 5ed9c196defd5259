"""The `validations` asset: each component of the integration commit installed and tested in the
sandbox, the backend started by its manifest and checked against the OpenAPI document, and every
acceptance criterion's coverage.

The asset is thin: it reads the integration commit from the forge and calls `validate_build`
(`validate.py`, the whole job without Dagster). Failing tests and contract mismatches are
blocking checks (a later deployment stage does not run on them); coverage is a warning that names
the uncovered criteria. Every check is per project (partitioned like the asset).
"""

from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet
from assets.review_feedback.criteria import with_criteria
from assets.story_builds.models import StoryBuildsSet
from assets.validations.models import ValidationReport
from assets.validations.report import (
    CONTRACT_CHECK,
    COVERAGE_CHECK,
    TESTS_CHECK,
    check_contract,
    check_coverage,
    check_tests,
    report_metadata,
)
from assets.validations.validate import decode_tree, nothing_built_report, validate_build
from pipeline_core.hashing import content_hash
from pipeline_core.partitions import projects_partitions
from pipeline_core.settings import get_settings
from resources.forge import Forge
from resources.io_manager import read_previous_value
from resources.object_store import ObjectStore

# Bump with the checks, the coverage rules or the sandbox's behaviour.
VALIDATIONS_CODE_VERSION = "validations-2"

__all__ = ["CONTRACT_CHECK", "COVERAGE_CHECK", "TESTS_CHECK", "VALIDATIONS_CODE_VERSION", "validations"]


class ValidationsConfig(dg.Config):
    """Time limits of the sandboxed runs; unset ones come from the settings."""

    timeout_s: float | None = Field(
        None, gt=0, description="base time limit of each component's tests (PIPELINE_TEST_TIMEOUT_SECONDS)"
    )
    seconds_per_test: float | None = Field(
        None, ge=0, description="added per test the component holds (PIPELINE_TEST_SECONDS_PER_TEST)"
    )
    install_timeout_s: float | None = Field(
        None, gt=0, description="time limit of each install (PIPELINE_INSTALL_TIMEOUT_SECONDS)"
    )
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
            description="Every component installs and its generated tests pass in the sandbox.",
            partitions_def=projects_partitions,
        ),
        dg.AssetCheckSpec(
            CONTRACT_CHECK,
            asset="validations",
            blocking=True,
            description="The backend serves the OpenAPI document; the frontend calls only what it documents.",
            partitions_def=projects_partitions,
        ),
        dg.AssetCheckSpec(
            COVERAGE_CHECK,
            asset="validations",
            description="Every acceptance criterion is covered by a generated test (warns, naming others).",
            partitions_def=projects_partitions,
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
    requirements = with_criteria(requirements, story_builds.review_criteria())  # reviewers' criteria too
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
            seconds_per_test=config.seconds_per_test,
            install_timeout_s=config.install_timeout_s,
            contract_timeout_s=config.contract_timeout_s,
            cache_dir=get_settings().install_cache_dir,
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
