"""Validation that scales with the size of the generated suite: the time limit grows with the
number of tests, and a time-out names the tests that never ran and marks them (and their stories)
`not_run`, never `failed`.

The suite is synthetic: 300 stories, one test each (a short sleep, so the run takes a few seconds),
in a component with nothing to install.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.models import CoveredCriterion, StoryChangeSet, TestRef
from assets.validations.components import install_and_test, time_limit
from assets.validations.coverage import coverage_report, story_report
from assets.validations.discovery import discover_tests
from pipeline_core.repository.manifest import MANIFEST_PATH, ComponentSpec, Manifest, render_manifest

STORIES = 300
SLEEP_S = 0.01
COMPONENT = ComponentSpec(
    name="backend",
    path="backend",
    kind="worker",
    runtime="python",
    install=[],
    test=["python", "-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v"],
)


def story_id(number: int) -> str:
    return f"US-{number:03d}"


def module_path(number: int) -> str:
    return f"backend/tests/test_us_{number:03d}.py"


def synthetic_tree() -> dict[str, str]:
    tree = {"backend/tests/__init__.py": ""}
    for number in range(STORIES):
        tree[module_path(number)] = textwrap.dedent(
            f'''
            import time
            import unittest


            class TestUS{number:03d}(unittest.TestCase):
                def test_us_{number:03d}_ac1(self):
                    """Covers: {story_id(number)} AC1"""
                    time.sleep({SLEEP_S})
                    self.assertEqual(sum([{number}, 1]), {number + 1})
            '''
        )
    manifest = Manifest(generator="synthetic-1", project="big", components=[COMPONENT])
    tree[MANIFEST_PATH] = render_manifest(manifest)
    return tree


def requirements_and_changes() -> tuple[RequirementsSet, list[StoryChangeSet]]:
    criterion = AcceptanceCriterion(id="AC1", given="a thing", when="it is used", then="it works")
    stories = [
        UserStory(
            id=story_id(n),
            title=f"story {n}",
            as_a="user",
            i_want="to a",
            so_that="b",
            acceptance_criteria=[criterion],
        )
        for n in range(STORIES)
    ]
    changes = [
        StoryChangeSet(
            story_id=story_id(n),
            message=story_id(n),
            covered_criteria=[
                CoveredCriterion(
                    story_id=story_id(n),
                    criterion_id="AC1",
                    test=TestRef(component="backend", file=module_path(n), name=f"test_us_{n:03d}_ac1"),
                    behaviour="works",
                )
            ],
        )
        for n in range(STORIES)
    ]
    return RequirementsSet(project="big", stories=stories), changes


@pytest.fixture(scope="module")
def tree() -> dict[str, str]:
    return synthetic_tree()


def test_the_time_limit_grows_with_the_tests_a_component_holds(tree: dict[str, str]) -> None:
    found = discover_tests(tree, COMPONENT)
    assert len(found) == STORIES
    assert time_limit(len(found), 120, 2) == 120 + 2 * STORIES
    assert time_limit(10, 120, 2) < time_limit(len(found), 120, 2)


def test_a_big_suite_passes_when_its_limit_scales(tree: dict[str, str], tmp_path: Path) -> None:
    # A 2 s base alone would not hold 300 tests; 0.2 s per test does.
    result = install_and_test(
        tree,
        Manifest.model_validate_json(tree[MANIFEST_PATH]),
        cache_dir=tmp_path,
        timeout_s=2,
        seconds_per_test=0.2,
    )
    [backend] = result.components
    assert result.ok, result.output()
    assert backend.discovered == STORIES and backend.timeout_s == pytest.approx(2 + 0.2 * STORIES)
    assert backend.run is not None and backend.run.counts()["passed"] == STORIES


def test_a_time_out_names_the_tests_that_did_not_run_and_fails_no_story(
    tree: dict[str, str], tmp_path: Path
) -> None:
    result = install_and_test(
        tree,
        Manifest.model_validate_json(tree[MANIFEST_PATH]),
        cache_dir=tmp_path,
        timeout_s=1.5,
        seconds_per_test=0,
    )
    [backend] = result.components
    assert not result.ok and backend.status == "timed_out"
    assert "did not run" in backend.reason and f"for {STORIES} tests" in backend.reason
    counts = backend.run.counts()
    assert counts["failed"] == counts["error"] == 0
    assert counts["not_run"] == len(backend.not_run) > 0
    assert counts["passed"] + counts["timeout"] + counts["not_run"] == STORIES
    outcomes = {test.name: test.status for test in backend.tests}
    assert all(outcomes[name] == "not_run" for name in backend.not_run)
    assert {test.name for test in discover_tests(tree, COMPONENT)} == set(outcomes)

    requirements, changes = requirements_and_changes()
    per_story = {item.story_id: item for item in story_report(requirements, changes, {"backend": backend})}
    statuses = [item.status for item in per_story.values()]
    assert "failed" not in statuses
    assert statuses.count("not_run") == counts["not_run"] + counts["timeout"] > 0
    assert statuses.count("passed") == counts["passed"]
    first_unrun = sorted(backend.not_run)[-1]
    unrun_story = next(
        item for item in per_story.values() if any(first_unrun in test for test in item.not_run)
    )
    assert unrun_story.status == "not_run" and unrun_story.failed == []
    coverage = coverage_report(requirements, changes, {"backend": backend})
    assert {item.status for item in coverage} <= {"passed", "not_run"}
    assert all("time limit" in item.reason for item in coverage if item.status == "not_run")
