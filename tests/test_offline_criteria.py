"""How criteria are read: the grammar of a criterion against the data model (unit tests, no server)."""

from __future__ import annotations

import pytest

from assets.architecture.models import (
    Architecture,
    Component,
    Entity,
    EntityField,
    StoryComponents,
    TechStack,
)
from assets.architecture.openapi import EntityOperation, render_openapi
from assets.requirements.models import AcceptanceCriterion, UserStory
from assets.story_builds.offline.contract import contract_operations
from assets.story_builds.offline.criteria import plan_criterion, story_operations
from assets.story_builds.offline.wording import normalise_verbs


def bug_design() -> Architecture:
    bug = Entity(
        name="Bug",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="title", type="string", required=True),
            EntityField(name="assignee", type="string"),
            EntityField(name="affected_version", type="string"),
            EntityField(name="severity", type="enum", values=["minor", "major", "critical"]),
        ],
    )
    kinds = ("list", "create", "read", "update", "delete")
    operations = {
        "Bug": [EntityOperation(kind=k, parameters=["severity"] if k == "list" else []) for k in kinds]
    }
    return Architecture(
        project="bugs",
        summary="Bugs.",
        components=[
            Component(
                name="backend",
                kind="backend",
                description="API",
                path="backend/",
                stack=TechStack(language="Python", framework="stdlib"),
            )
        ],
        openapi=render_openapi("Bugs", [bug], operations),
        data_model=[bug],
        story_map=[StoryComponents(story_id="US-1", components=["backend"])],
    )


@pytest.mark.parametrize(
    ("when", "then", "expected"),
    [
        ("let any team member report a bug with a title", "it is saved", "create"),
        ("let a lead assign a bug to a developer", "the developer owns it", "update:assignee"),
        ("they delete bugs they no longer need", "the list stays short", "delete"),
        ("they report a bug with the affected version", "it is kept", "create"),
        ("they report a bug without a title", "they see an error", "validate:title"),
        ("they report a bug with an invalid severity", "it is refused", "invalid:severity"),
        ("they list bugs by severity", "they see those bugs", "list:severity"),
        ("they delete a bug", "it is no longer listed", "uncovered:hides"),
        ("they sign in", "they see their bugs", "uncovered:authentication"),
        ("they export the bugs", "a CSV file is downloaded", "uncovered:files"),
        ("they report a bug with a title", "the reported bug is saved", "create"),
        ("they open the report", "they see the figures", "uncovered:computed figures"),
    ],
)
def test_a_criterion_is_planned_from_its_grammar(when: str, then: str, expected: str) -> None:
    architecture = bug_design()
    story = UserStory(
        id="US-1",
        title="Track bugs",
        as_a="developer",
        i_want="to track bugs",
        so_that="they get fixed",
        acceptance_criteria=[AcceptanceCriterion(id="AC1", given="a developer", when=when, then=then)],
    )
    operations = contract_operations(architecture)
    own = story_operations(architecture, story, operations)
    plan = plan_criterion(architecture, story, story.acceptance_criteria[0], own, operations)
    kind, _, detail = expected.partition(":")
    if kind == "uncovered":
        assert isinstance(plan, str) and detail in plan, plan
        return
    assert not isinstance(plan, str), plan
    assert plan.kind == kind
    if detail:
        assert detail in (plan.field or "", *plan.list_parameters)


def test_enabling_phrases_give_the_action_verb() -> None:
    assert normalise_verbs("let a lead assign a bug") == "assign a bug"
    assert normalise_verbs("allow members to add tasks") == "add tasks"
    assert normalise_verbs("record a movement") == "create a movement"
    assert normalise_verbs("they list bugs") == "they list bugs"
