"""Tracing the generated tests to the acceptance criteria they cover, by the one set of rules.

A test covers a criterion when `pipeline_core.repository.test_rules` says so (its name, its
`Covers:` tag where the rules read it, an assertion that is not about constants): the same rules
the generation-time check uses. Tests are read per component, from the component's folder.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assets.requirements.models import RequirementsSet
from assets.story_builds.models import (
    CoveredCriterion,
    StoryBuildsSet,
    StoryChangeSet,
    TestRef,
    UncoveredCriterion,
)
from assets.validations.coverage import HasTests, story_report
from assets.validations.models import StoryStatus
from pipeline_core.repository.test_rules import find_covering_tests

BUILT = ("built", "unchanged")


@dataclass(frozen=True)
class TracedTest:
    """A test tagged with the criterion it covers; `problem` says why it does not count, if it does not."""

    component: str
    file: str
    name: str
    story_id: str
    criterion_id: str
    assertions: int  # assertions that depend on something the test computed
    problem: str | None = None


def trace_tests(tree: Mapping[str, str], components: Sequence[tuple[str, str]]) -> list[TracedTest]:
    """Every tagged test in each (component, folder)'s test files, by the covering-test rules."""
    out = []
    for component, folder in components:
        prefix = "" if folder in ("", ".") else folder.rstrip("/") + "/"
        for path, text in sorted(tree.items()):
            if not path.startswith(prefix) or "/node_modules/" in f"/{path}":
                continue
            for test in find_covering_tests(path, text):
                out.append(
                    TracedTest(
                        component=component,
                        file=path,
                        name=test.name,
                        story_id=test.story_id,
                        criterion_id=test.criterion_id,
                        assertions=test.assertions,
                        problem=test.problem(),
                    )
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
            asserting = [test for test in tests if test.problem is None]
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
                reason = "; ".join(sorted({str(test.problem) for test in tests}))
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
    results: Mapping[str, HasTests],
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
                not_run=item.not_run,
                failed=item.failed,
                covered=item.covered,
                uncovered=item.uncovered,
                reason=(build.reason or "") if build else "the story has no build",
            )
        )
    return out
