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
    Transition,
)
from assets.architecture.openapi import EntityOperation, render_openapi
from assets.requirements.models import AcceptanceCriterion, UserStory
from assets.story_builds.offline.contract import contract_operations
from assets.story_builds.offline.criteria import CriterionPlan, plan_criterion, story_operations
from assets.story_builds.offline.wording import action_clause


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
        # a refusal by a rule the model does not hold: no test of the operation succeeding
        ("they reopen a bug that is already open", "it is refused with a message", "uncovered:refusal"),
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
    assert action_clause("let a lead assign a bug") == "assign a bug"
    assert action_clause("allow members to add tasks") == "add tasks"
    assert action_clause("let the stock clerk record a movement") == "record a movement"
    assert action_clause("help volunteers keep track of donations") == "keep track of donations"
    assert action_clause("they list bugs") == "they list bugs"


def kiln_design(
    *, transition: bool, served: bool, booking: bool = False, states: tuple[str, ...] = ("free", "booked")
) -> Architecture:
    """A kiln whose status is free or booked: moved by a `book` transition (served by the contract or
    not), or a plain enum field; with `booking`, a Booking entity that refers to a kiln."""
    kiln = Entity(
        name="Kiln",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="name", type="string", required=True),
            EntityField(name="status", type="enum", values=list(states)),
        ],
        transitions=[Transition(name="book", field="status", from_states=["free"], to_state="booked")]
        if transition
        else [],
    )
    entities = [kiln]
    kinds = ("list", "create", "read", "update", "delete")
    operations = {"Kiln": [EntityOperation(kind=k) for k in kinds]}
    if booking:
        entities.append(
            Entity(
                name="Booking",
                fields=[
                    EntityField(name="id", type="integer", required=True),
                    EntityField(name="kiln_id", type="reference", references="Kiln", required=True),
                    EntityField(name="day", type="date", required=True),
                ],
            )
        )
        operations["Booking"] = [EntityOperation(kind=k) for k in ("list", "create", "read")]
    document = render_openapi("Kilns", entities, operations)
    if transition and not served:
        del document["paths"]["/api/kilns/{id}/book"]
    return Architecture(
        project="kilns",
        summary="Kilns.",
        components=bug_design().components,
        openapi=document,
        data_model=entities,
        story_map=[StoryComponents(story_id="US-1", components=["backend"])],
    )


def plan_for(architecture: Architecture, want: str, when: str, then: str) -> CriterionPlan | str:
    story = UserStory(
        id="US-1",
        title="Use the kilns",
        as_a="potter",
        i_want=want,
        so_that="my pots get fired",
        acceptance_criteria=[AcceptanceCriterion(id="AC1", given="a potter", when=when, then=then)],
    )
    operations = contract_operations(architecture)
    own = story_operations(architecture, story, operations)
    return plan_criterion(architecture, story, story.acceptance_criteria[0], own, operations)


@pytest.mark.parametrize("when", ["Book a kiln", "they book a free kiln", "let a potter book a kiln"])
def test_a_verb_that_is_a_transition_is_tested_through_it(when: str) -> None:
    plan = plan_for(kiln_design(transition=True, served=True), "to book a kiln", when, "the kiln is saved")
    assert not isinstance(plan, str), plan
    assert (plan.kind, plan.entity, plan.name) == ("transition", "Kiln", "book")


@pytest.mark.parametrize("want", ["to book a kiln", "to manage kilns"])
def test_a_transition_verb_the_contract_does_not_serve_stays_uncovered(want: str) -> None:
    plan = plan_for(kiln_design(transition=True, served=False), want, "Book a kiln", "the kiln is saved")
    assert isinstance(plan, str) and "book transition of Kiln" in plan, plan


def test_a_verb_naming_a_later_state_is_no_create() -> None:
    design = kiln_design(transition=False, served=False)
    plan = plan_for(design, "to book a kiln", "Book a kiln", "the kiln is saved")
    assert isinstance(plan, str) and "'booked'" in plan, plan
    plan = plan_for(design, "to add a kiln", "they add a kiln with a name", "the kiln is saved")
    assert not isinstance(plan, str) and (plan.kind, plan.entity) == ("create", "Kiln"), plan
    # A record that starts in the state the verb names is made by it ("place an order": placed).
    starting = kiln_design(transition=False, served=False, states=("booked", "fired"))
    plan = plan_for(starting, "to book a kiln", "Book a kiln", "the kiln is saved")
    assert not isinstance(plan, str) and (plan.kind, plan.entity) == ("create", "Kiln"), plan


def test_a_verb_naming_an_entity_makes_a_record_of_it() -> None:
    """ "book a kiln" makes a Booking of the kiln (an entity named by the verb that refers to the kiln)."""
    design = kiln_design(transition=False, served=False, booking=True)
    plan = plan_for(design, "to book a kiln", "they book a kiln for a day", "the booking is kept")
    assert not isinstance(plan, str), plan
    assert (plan.kind, plan.entity) == ("create", "Booking")
    assert ("Kiln", "create", "") in plan.needs  # the kiln it refers to is made first
    story = UserStory(id="US-1", title="Book", as_a="potter", i_want="to book a kiln", so_that="s")
    own = story_operations(design, story, contract_operations(design))
    assert [(op.entity, op.kind) for op in own] == [("Booking", "create")]
