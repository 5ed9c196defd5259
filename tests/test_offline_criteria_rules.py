"""Criteria read against the rules of the data model: a transition said around its object ("mark a
crate as sealed", "take a canoe out"), refused from the state a relative clause names ("a crate that
is damaged"), and a record the then-clause says is saved when the verb names no operation."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets.architecture.models import (
    Architecture,
    Entity,
    EntityField,
    StoryComponents,
    Transition,
)
from assets.architecture.openapi import EntityOperation, render_openapi
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.offline.contract import contract_operations
from assets.story_builds.offline.criteria import CriterionPlan, plan_criterion, story_operations
from tests.support.offline_build import build_all, sandbox_tests, stdlib_components


def dock_design() -> Architecture:
    """Crates (new -> sealed, new/sealed -> damaged), canoes (stored -> taken_out -> returned) and
    tally logs."""

    def entity(name: str, values: list[str], transitions: list[Transition]) -> Entity:
        return Entity(
            name=name,
            fields=[
                EntityField(name="id", type="integer", required=True),
                EntityField(name="label", type="string", required=True),
                EntityField(name="weight", type="number"),
                EntityField(name="status", type="enum", values=values),
            ],
            transitions=transitions,
        )

    crate = entity(
        "Crate",
        ["new", "sealed", "damaged"],
        [
            Transition(name="mark_sealed", field="status", from_states=["new"], to_state="sealed"),
            Transition(
                name="mark_damaged", field="status", from_states=["new", "sealed"], to_state="damaged"
            ),
        ],
    )
    canoe = entity(
        "Canoe",
        ["stored", "taken_out", "returned"],
        [
            Transition(name="mark_taken_out", field="status", from_states=["stored"], to_state="taken_out"),
            Transition(name="mark_returned", field="status", from_states=["taken_out"], to_state="returned"),
        ],
    )
    tally = Entity(
        name="TallyLog",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="note", type="string", required=True),
        ],
    )
    kinds = ("list", "create", "read", "update", "delete")
    operations = {
        name: [EntityOperation(kind=kind) for kind in kinds] for name in ("Crate", "Canoe", "TallyLog")
    }
    return Architecture(
        project="dock",
        summary="A dock's crates and canoes.",
        components=stdlib_components(),
        openapi=render_openapi("Dock", [crate, canoe, tally], operations),
        data_model=[crate, canoe, tally],
        story_map=[StoryComponents(story_id="US-1", components=["backend", "frontend"])],
    )


def story_of(criteria: list[tuple[str, str]]) -> UserStory:
    return UserStory(
        id="US-1",
        title="Run the dock",
        as_a="dock hand",
        i_want="to run the dock",
        so_that="nothing goes missing",
        acceptance_criteria=[
            AcceptanceCriterion(id=f"AC{n}", given="a dock hand", when=when, then=then)
            for n, (when, then) in enumerate(criteria, start=1)
        ],
    )


def plan(when: str, then: str) -> CriterionPlan | str:
    architecture = dock_design()
    story = story_of([(when, then)])
    operations = contract_operations(architecture)
    own = story_operations(architecture, story, operations)
    return plan_criterion(architecture, story, story.acceptance_criteria[0], own, operations)


@pytest.mark.parametrize(
    ("when", "then", "entity", "transition"),
    [
        ("they mark a crate as sealed", "it shows as sealed", "Crate", "mark_sealed"),
        ("they take a canoe out", "the canoe shows as out", "Canoe", "mark_taken_out"),
    ],
)
def test_a_transition_said_around_its_object_is_tested_through_it(
    when: str, then: str, entity: str, transition: str
) -> None:
    found = plan(when, then)
    assert not isinstance(found, str), found
    assert (found.kind, found.entity, found.name, found.refused_from) == (
        "transition",
        entity,
        transition,
        None,
    )


@pytest.mark.parametrize(
    ("when", "entity", "transition", "state"),
    [
        ("they try to mark a crate that is damaged as sealed", "Crate", "mark_sealed", "damaged"),
        ("they try to take a canoe that has been returned out again", "Canoe", "mark_taken_out", "returned"),
    ],
)
def test_a_transition_refused_from_a_named_state_is_tested_from_that_state(
    when: str, entity: str, transition: str, state: str
) -> None:
    found = plan(when, "it is refused with a message")
    assert not isinstance(found, str), found
    assert (found.kind, found.entity, found.name, found.refused_from) == (
        "transition",
        entity,
        transition,
        state,
    )
    assert f"refused from {state}" in found.describe("AC1")


def test_a_refusal_the_model_allows_stays_uncovered() -> None:
    # mark_damaged is allowed from sealed: a test of the refusal would contradict the model
    found = plan("they try to mark a crate that is sealed as damaged", "it is refused with a message")
    assert isinstance(found, str) and "'sealed'" in found and "allows" in found, found


def test_a_refusal_from_a_state_the_model_lacks_stays_uncovered() -> None:
    # "stacked" is no state of a crate: the test of mark_sealed would not show this refusal
    found = plan("they try to mark a crate that's been stacked as sealed", "it is refused with a message")
    assert isinstance(found, str), found


def test_a_record_the_outcome_says_is_saved_is_created() -> None:
    found = plan("they stow a crate with its weight", "the crate is saved with its weight")
    assert not isinstance(found, str), found
    assert (found.kind, found.entity) == ("create", "Crate")


@pytest.mark.parametrize(
    ("when", "then"),
    [
        ("they stow a crate", "the crate is saved with its colour"),  # no colour on a crate
        ("they stow the cargo", "the cargo is saved"),  # no entity
        ("they stow a crate", "the canoe is saved"),  # not what the verb acts on
    ],
)
def test_a_saved_outcome_that_is_no_record_or_value_of_the_model_stays_uncovered(
    when: str, then: str
) -> None:
    found = plan(when, then)
    assert isinstance(found, str), found


def test_the_generated_refusal_tests_pass_against_the_generated_backend(tmp_path: Path) -> None:
    """Integration: a refusal from a named state and a saved outcome run green against the backend."""
    criteria = [
        ("they try to mark a crate that is damaged as sealed", "it is refused with a message"),
        ("they try to take a canoe that has been returned out again", "it is refused with a message"),
        ("they stow a crate with its weight", "the crate is saved with its weight"),
    ]
    build = build_all(RequirementsSet(project="dock", stories=[story_of(criteria)]), dock_design())
    [change] = build.change_sets
    assert [item.criterion_id for item in change.covered_criteria] == ["AC1", "AC2", "AC3"]
    tests = "\n".join(text for path, text in build.tree.items() if path.startswith("backend/tests/"))
    assert "cannot mark sealed: refused" in tests and "'returned' cannot mark taken out" in tests
    result = sandbox_tests(build.tree, "backend", tmp_path)
    assert result.ok, result.stderr_tail[-4000:]


@pytest.mark.parametrize(
    ("when", "then", "entity"),
    [
        ("they see the weight of each crate", "they see the weights", "Crate"),
        ("they browse the register of canoes", "they see the register", "Canoe"),
        ("they view the tally logs", "they see the tally logs", "TallyLog"),  # the head of the compound
    ],
)
def test_an_object_that_belongs_to_an_entity_lists_that_entity(
    when: str, then: str, entity: str | None
) -> None:
    found = plan(when, then)
    if entity is None:
        assert isinstance(found, str), found
    else:
        assert not isinstance(found, str), found
        assert (found.kind, found.entity) == ("list", entity)


@pytest.mark.parametrize(
    ("when", "then"),
    [
        ("they see the colour of each crate", "they see the colours"),  # no colour on a crate
        ("they look after the canoes", "the canoes are looked after"),  # the object of a preposition
        ("they see how many crates we stacked", "they see the figure"),  # figures, not the records
    ],
)
def test_an_object_that_is_no_record_of_an_entity_stays_uncovered(when: str, then: str) -> None:
    found = plan(when, then)
    assert isinstance(found, str), found
