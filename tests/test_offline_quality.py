"""The issue's done-when on text nobody tuned for: every corpus project, scored as a person would.

Every project of `tests/quality_corpus/` and of `../shared/corpus/` runs once through the offline
pipeline (module fixture, about five minutes on 2 cores); each test then asserts one thing a person
needs of the result. Thresholds, from what a person would call usable:

- STORY_RECALL = 0.7: at least 7 in 10 of the stories a reader expects are there (by key words);
- spurious stories at most half the expected count plus 2 (a backlog that is mostly noise is not
  usable), and never more than the project's `max_stories` where it names one (the meeting);
- FIELD_RECALL = 0.6: most of the fields the text names are in the data model;
- every expected entity serves create, read, update, list and delete over HTTP in the generated
  application, refuses a create without a required field (4xx) and answers 404 for an unknown id;
- its transitions, filters, text search and summaries, where the contract has them, work over HTTP
  (a transition not allowed from the current state answers 409);
- out-of-scope texts, statements about the document and filler are never in a story;
- a project whose documents hold no requirement fails a blocking check on `requirements`.

Gated by PIPELINE_QUALITY_GATE=1 while the offline rules are being improved (the coordinator
switches the gate on); nothing here is xfail.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from tests.support.quality import (
    Expected,
    PipelineOutcome,
    Project,
    ProjectScore,
    load_projects,
    measure,
    run_project,
)

pytestmark = pytest.mark.skipif(
    os.environ.get("PIPELINE_QUALITY_GATE") != "1",
    reason="offline quality gate: set PIPELINE_QUALITY_GATE=1 (runs the whole corpus, a few minutes)",
)

STORY_RECALL = 0.7
FIELD_RECALL = 0.6
PROJECTS = load_projects()
SLUGS = [project.slug for project in PROJECTS]
PROJECT_BY_SLUG = {project.slug: project for project in PROJECTS}


@pytest.fixture(scope="module")
def scores() -> Iterator[dict[str, tuple[PipelineOutcome, ProjectScore]]]:
    with tempfile.TemporaryDirectory(prefix="offline-quality-") as tmp:
        yield {score.slug: (outcome, score) for outcome, score in measure(PROJECTS, Path(tmp))}


def _score(scores: dict[str, tuple[PipelineOutcome, ProjectScore]], slug: str) -> ProjectScore:
    return scores[slug][1]


def test_the_corpus_is_big_enough() -> None:
    own = [project for project in PROJECTS if not project.shared]
    assert len(own) >= 16, "15 projects of our own writing plus the issue's todo brief"
    assert {"g03-loudoun", "g04-recycling", "is1004b-remote"} <= set(SLUGS), "../shared/corpus is missing"


def test_todo_brief_gives_a_working_todo_app(scores: dict[str, tuple[PipelineOutcome, ProjectScore]]) -> None:
    score = _score(scores, "todo-brief")
    [todo] = [entity for entity in score.entities if entity.expected == "Todo"]
    assert todo.matched, "no Todo entity in the data model"
    for check in ("create", "update", "delete", "list", "read", "refuses_missing_field", "missing_id_404"):
        assert todo.http.get(check), f"Todo {check} over HTTP: {todo.http_detail.get(check, todo.http)}"
    assert not score.stories_missing, f"stories missing: {score.stories_missing}"
    for story, (passing, total) in score.matched_story_criteria.items():
        assert total and passing, f"story {story!r}: {passing} of {total} criteria covered by passing tests"


@pytest.mark.parametrize("slug", SLUGS)
def test_stories_are_found(scores: dict[str, tuple[PipelineOutcome, ProjectScore]], slug: str) -> None:
    score = _score(scores, slug)
    assert score.stories_found, f"no story from {slug}"
    assert score.story_recall >= STORY_RECALL, (
        f"recall {score.story_recall:.2f} < {STORY_RECALL}; missing: {score.stories_missing}"
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_few_spurious_stories(scores: dict[str, tuple[PipelineOutcome, ProjectScore]], slug: str) -> None:
    score = _score(scores, slug)
    allowed = score.stories_expected // 2 + 2
    assert len(score.stories_spurious) <= allowed, (
        f"{len(score.stories_spurious)} spurious: {score.stories_spurious}"
    )
    if score.max_stories is not None:
        assert score.stories_found <= score.max_stories


@pytest.mark.parametrize("slug", SLUGS)
def test_out_of_scope_texts_and_filler_are_never_stories(
    scores: dict[str, tuple[PipelineOutcome, ProjectScore]], slug: str
) -> None:
    assert _score(scores, slug).not_story_violations == []


@pytest.mark.parametrize("slug", SLUGS)
def test_moscow_headings_set_priorities(
    scores: dict[str, tuple[PipelineOutcome, ProjectScore]], slug: str
) -> None:
    score = _score(scores, slug)
    if not score.priorities_expected:
        pytest.skip("the project states no priorities")
    assert score.priorities_right == score.priorities_expected


@pytest.mark.parametrize("slug", SLUGS)
def test_expected_entities_and_fields(
    scores: dict[str, tuple[PipelineOutcome, ProjectScore]], slug: str
) -> None:
    score = _score(scores, slug)
    missing = [entity.expected for entity in score.entities if not entity.matched]
    assert not missing, f"entities missing from the data model: {missing}"
    assert score.field_recall >= FIELD_RECALL, {e.expected: e.fields_missing for e in score.entities}
    crud_missing = {
        entity.expected: [op for op in entity.operations_missing if ":" not in op and op != "summary"]
        for entity in score.entities
    }
    assert not any(crud_missing.values()), f"CRUD operations missing from the contract: {crud_missing}"


@pytest.mark.parametrize("slug", SLUGS)
def test_expected_entities_work_over_http(
    scores: dict[str, tuple[PipelineOutcome, ProjectScore]], slug: str
) -> None:
    score = _score(scores, slug)
    assert score.http_started, score.http_problem
    broken = {
        entity.expected: {
            check: entity.http_detail.get(check, "failed")
            for check, held in (entity.http or {"matched": False}).items()
            if held is False
        }
        or "not in the data model"
        for entity in score.entities
        if not entity.http_ok
    }
    assert not broken, f"CRUD or refusals broken over HTTP: {broken}"
    for entity in score.entities:
        wanted_required = next(
            e.required for e in PROJECT_BY_SLUG[slug].expected.entities if e.name == entity.expected
        )
        if wanted_required:
            assert entity.http.get("refuses_missing_field"), (
                f"{entity.expected}: a create without a required field"
            )


@pytest.mark.parametrize("slug", SLUGS)
def test_transitions_searches_and_summaries_work_over_http(
    scores: dict[str, tuple[PipelineOutcome, ProjectScore]], slug: str
) -> None:
    """Where the contract has them: every transition reachable from a new record moves its state,
    one not allowed from the state it is in answers 409, filters and `q` find the record and leave
    it out for other values, summaries answer rows of {group, value}."""
    score = _score(scores, slug)
    broken = {
        entity.expected: {
            check: entity.http_detail.get("transitions" if check.startswith("transition") else check, "")
            for check, held in entity.behaviour.items()
            if held is False
        }
        for entity in score.entities
    }
    assert not any(broken.values()), f"behaviour beyond CRUD broken over HTTP: {broken}"


@pytest.mark.parametrize("slug", SLUGS)
def test_generated_tests_pass_and_cover_criteria(
    scores: dict[str, tuple[PipelineOutcome, ProjectScore]], slug: str
) -> None:
    score = _score(scores, slug)
    assert score.app_tests_pass, f"the generated tests do not pass; failed checks: {score.failed_checks}"
    assert score.criteria_covered >= score.criteria_total / 2, (
        f"{score.criteria_covered} of {score.criteria_total} criteria covered by passing tests"
    )


def test_a_project_without_requirements_fails(tmp_path: Path) -> None:
    """Zero stories is never green: a blocking check on requirements names the document."""
    notes = tmp_path / "picnic-notes.txt"
    notes.write_text(
        "Staff picnic, 14 June.\n\nWe had sandwiches by the river. Forty people came and the weather held.\n"
    )
    project = Project(slug="picnic", documents=[notes], expected=Expected())
    with dg.instance_for_test() as instance:
        outcome = run_project(project, tmp_path / "work", instance)
    assert outcome.requirements is None or not outcome.requirements.stories
    blocking = [
        name for name in outcome.failed_checks if name.startswith("requirements:") and "(blocking)" in name
    ]
    assert blocking, f"no blocking requirements check failed: {outcome.failed_checks}"
    assert any("picnic-notes.txt" in outcome.failed_check_text[name.split(" ")[0]] for name in blocking)
