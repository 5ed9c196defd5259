"""The verb of a criterion read as an operation of the data model, and the honest coverage it gives:
a criterion is covered by a test of exactly the operation its verb names, or stays uncovered with its
reason (a verb naming no operation, an object naming no entity, a figure no summary gives).

The criteria are written here for a made-up rowing club (boats, outings, crews), in a style the
quality corpus does not use; the expected readings were written before the rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.architecture.models import (
    Architecture,
    Component,
    Entity,
    EntityField,
    StoryComponents,
    Summary,
    TechStack,
    Transition,
)
from assets.architecture.openapi import EntityOperation, render_openapi
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.offline import generate_story_changes
from assets.story_builds.offline.actions import read_action
from assets.story_builds.offline.contract import contract_operations
from assets.story_builds.offline.criteria import CriterionPlan, plan_criterion, story_operations
from tests.support.offline_build import build_all, sandbox_tests, stdlib_components


def rowing_model() -> list[Entity]:
    def field(name: str, kind: str = "string", **extra: object) -> EntityField:
        return EntityField(name=name, type=kind, **extra)  # type: ignore[arg-type]

    rower = Entity(name="Rower", fields=[field("id", "integer"), field("name", required=True)])
    boat = Entity(
        name="Boat",
        fields=[
            field("id", "integer"),
            field("name", required=True),
            field("seats", "integer", required=True),
            field("status", "enum", values=["available", "damaged"]),
        ],
        transitions=[Transition(name="report_damage", field="status", to_state="damaged")],
    )
    outing = Entity(
        name="Outing",
        fields=[
            field("id", "integer"),
            field("boat_id", "reference", references="Boat", required=True),
            field("cox_id", "reference", references="Rower"),
            field("distance_km", "number"),
            field("day", "date", required=True),
        ],
        summaries=[
            Summary(name="distance_per_boat", measure="sum", field="distance_km", group_by="boat_id"),
            Summary(name="outings_in_all", measure="count"),
        ],
    )
    return [rower, boat, outing]


def rowing_design(list_parameters: tuple[str, ...] = ("day",)) -> Architecture:
    entities = rowing_model()
    crud = ("list", "create", "read", "update", "delete")
    operations = {  # transitions and summaries come with their entities
        entity.name: [
            EntityOperation(kind=kind, parameters=list(list_parameters) if kind == "list" else [])
            for kind in crud
        ]
        for entity in entities
    }
    return Architecture(
        project="rowing",
        summary="A rowing club's boats and outings.",
        components=[
            Component(
                name="backend",
                kind="backend",
                description="API",
                path="backend/",
                stack=TechStack(language="Python", framework="stdlib"),
            )
        ],
        openapi=render_openapi("Rowing", entities, operations),
        data_model=entities,
        story_map=[StoryComponents(story_id="US-1", components=["backend"])],
    )


@pytest.mark.parametrize(
    ("when", "then", "expected"),
    [
        ("the captain enters an outing for Saturday", "it appears", "create Outing"),
        ("they keep a register of rowers with their names", "the register holds them", "create Rower"),
        ("they look for a boat by its name", "the boat is found", "list Boat"),
        ("they open a boat with a name and six seats", "the boat is stored", "create Boat"),
        ("a new boat is registered", "it shows up", "create Boat"),
        ("they keep track of the boats: name and seats", "they see the boats", "create Boat"),
        ("they keep a profile of each rower with a name", "the profile is kept", "create Rower"),
        ("they suggest an outing for Sunday", "the outing is suggested", "create Outing"),
        ("they open the list of boats we've bought", "they see the boats", "list Boat"),
        ("they use the app", "the app keeps track of outings: the day and the boat", "create Outing"),
        ("a coach removes an outing", "it is gone", "delete Outing"),
        ("they change a boat's seats", "the new number shows", "update Boat"),
        ("they give each outing a cox", "the cox is kept", "update Outing"),
        ("they view the list of outings", "every outing shows", "list Outing"),
        # verbs the data model is drawn with, beyond the requirements' own list
        ("they capture an outing for Sunday", "it is kept", "create Outing"),
        ("they modify a boat's seats", "the new number shows", "update Boat"),
        ("they manage the rowers", "the rowers are managed", "create Rower"),
        ("they inspect a boat", "its seats show", "read Boat"),
        ("they discard an outing", "it is gone", "delete Outing"),
        # the app having a kind of record: records of it are kept
        ("they open the app", "the app offers outings", "create Outing"),
        ("they use the app", "it supports boats with their seats", "create Boat"),
        ("they use the app", "the app shows the total distance per boat", "view"),
        ("they use the app", "the app turns outings into a training plan", "other turn"),
        ("they print the crew sheet", "a sheet comes out", "other print"),
        ("they hire a coach", "the coach starts on Monday", "other hire"),
        ("the season is over", "nothing happens", "none"),
    ],
)
def test_the_verb_is_read_as_an_operation_on_an_entity(when: str, then: str, expected: str) -> None:
    action = read_action(when, then, rowing_model())
    kind, _, rest = expected.partition(" ")
    assert action.kind == kind, action
    if kind in ("create", "read", "update", "delete", "list"):
        assert action.entity == rest, action
    elif rest:
        assert action.verb == rest, action


def plan(
    when: str, then: str, want: str = "to run the club's outings", design: Architecture | None = None
) -> CriterionPlan | str:
    architecture = design or rowing_design()
    story = UserStory(
        id="US-1",
        title="Run the club",
        as_a="captain",
        i_want=want,
        so_that="boats go out",
        acceptance_criteria=[AcceptanceCriterion(id="AC1", given="a captain", when=when, then=then)],
    )
    operations = contract_operations(architecture)
    own = story_operations(architecture, story, operations)
    return plan_criterion(architecture, story, story.acceptance_criteria[0], own, operations)


@pytest.mark.parametrize(
    ("when", "then", "expected"),
    [
        # a CRUD verb on an entity: a test of exactly that operation on that entity
        ("the captain enters an outing for Saturday", "it is kept", "create Outing"),
        ("they keep a register of rowers with their names", "the rowers are kept", "create Rower"),
        ("a coach removes an outing", "it is gone", "delete Outing"),
        ("they change a boat's seats", "the new number shows", "update Boat seats"),
        ("they assign an outing to a rower", "the rower is its cox", "update Outing cox_id"),
        ("they give each outing a distance in km", "it is kept", "update Outing distance_km"),
        ("they give each outing a cox", "the cox is kept", "update Outing cox_id"),
        ("they list outings by day", "those outings show", "list Outing day"),
        ("they report damage on a boat", "the boat is out of use", "transition Boat report_damage"),
        # a figure the model defines, broken down as asked
        ("they use the app", "the app shows the total distance per boat", "summary Outing distance_per_boat"),
        # values the record is made with are no rules
        ("they enter a boat with a maximum number of seats", "the boat is stored", "create Boat"),
    ],
)
def test_a_verb_of_the_model_is_covered_by_exactly_that_operation(
    when: str, then: str, expected: str
) -> None:
    found = plan(when, then)
    assert not isinstance(found, str), found
    kind, entity, *detail = expected.split()
    assert (found.kind, found.entity) == (kind, entity)
    if kind in ("transition", "summary"):
        assert found.name == detail[0]
    elif detail:
        assert detail[0] in (found.field or "", *found.list_parameters)


@pytest.mark.parametrize(
    ("when", "then", "reason"),
    [
        # a verb that names no operation of the model: no generic CRUD test may claim it
        ("they use the app", "the app turns the outings into a training plan", "'turn"),
        ("they print the crew sheet", "a sheet comes out", "'print"),
        ("they hire a coach", "the coach starts on Monday", "'hire"),
        ("they open the app", "the app offers a loyalty scheme", "names no entity"),
        # an object that is no entity of the model
        ("they add a trophy to the cabinet", "the trophy is kept", "'trophy' names no entity"),
        # a figure broken down by something no summary groups by
        ("they use the app", "the app shows the total distance per rower", "no summary"),
        # a look-up the contract's list does not offer
        ("they search rowers by name", "the matching rowers show", "search or filter"),
        # things the templates do not build
        ("a crew is set", "an e-mail is sent to each rower", "notifications"),
        ("they open the season page", "the chart shows the distance per week", "browser"),
    ],
)
def test_a_criterion_the_templates_cannot_test_stays_uncovered(when: str, then: str, reason: str) -> None:
    found = plan(when, then)
    assert isinstance(found, str), found
    assert reason in found, found


def test_a_criterion_without_a_verb_takes_the_story_verb_only_then() -> None:
    found = plan("the captain is at the boathouse", "the outing is kept", want="to add outings")
    assert not isinstance(found, str) and (found.kind, found.entity) == ("create", "Outing"), found
    # the same story, a criterion with a verb of its own: that verb, not the story's
    found = plan("they print the outing list", "a list comes out", want="to add outings")
    assert isinstance(found, str) and "'print" in found, found


def test_an_update_of_a_reference_tests_another_existing_record() -> None:
    found = plan("they assign an outing to a rower", "the rower is its cox")
    assert not isinstance(found, str), found
    assert ("Rower", "create", "") in found.needs  # the rower it points at is made first


def test_the_build_report_names_each_uncovered_criterion_with_its_text() -> None:
    design = rowing_design()
    design.components.append(
        Component(
            name="frontend",
            kind="frontend",
            description="UI",
            path="frontend/",
            stack=TechStack(language="JavaScript", framework="none"),
        )
    )
    story = UserStory(
        id="US-1",
        title="Run the club",
        as_a="captain",
        i_want="to add outings",
        so_that="boats go out",
        acceptance_criteria=[
            AcceptanceCriterion(id="AC1", given="a captain", when="they add an outing", then="it is kept"),
            AcceptanceCriterion(
                id="AC2", given="a crew", when="they print the crew sheet", then="a sheet comes out"
            ),
        ],
    )
    change = generate_story_changes(design, RequirementsSet(project="rowing", stories=[story]), "US-1", {})
    assert [item.criterion_id for item in change.covered_criteria] == ["AC1"]
    [uncovered] = change.uncovered_criteria
    assert uncovered.criterion_id == "AC2" and "'print" in uncovered.reason
    assert "when they print the crew sheet, then a sheet comes out" in uncovered.text
    tests = next(item.content or "" for item in change.files if item.path.startswith("backend/tests/test_us"))
    assert "they print the crew sheet" in tests  # the test module says what it leaves out


def test_the_generated_tests_of_read_actions_pass_against_the_generated_backend(tmp_path: Path) -> None:
    """Integration: the tests planned from these readings (a keeping verb, a possessive, an update
    of a reference, a passive, a figure per boat) run green against the generated backend."""
    design = rowing_design().model_copy(update={"components": stdlib_components()})
    criteria = [
        ("they keep a register of rowers with their names", "the rowers are kept"),
        ("they change a boat's seats", "the new number shows"),
        ("they assign an outing to a rower", "the rower is its cox"),
        ("a new boat is registered", "it shows up"),
        ("they use the app", "the app shows the total distance per boat"),
        ("they print the crew sheet", "a sheet comes out"),
    ]
    story = UserStory(
        id="US-1",
        title="Run the club",
        as_a="captain",
        i_want="to run the club's outings",
        so_that="boats go out",
        acceptance_criteria=[
            AcceptanceCriterion(id=f"AC{n}", given="a captain", when=when, then=then)
            for n, (when, then) in enumerate(criteria, start=1)
        ],
    )
    build = build_all(RequirementsSet(project="rowing", stories=[story]), design)
    [change] = build.change_sets
    assert [item.criterion_id for item in change.covered_criteria] == ["AC1", "AC2", "AC3", "AC4", "AC5"]
    result = sandbox_tests(build.tree, "backend", tmp_path)
    assert result.ok, result.stderr_tail[-4000:]
    assert result.counts()["passed"] >= 6  # the five criteria and the health check
