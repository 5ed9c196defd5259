"""Entities a person expects from how a sentence is built, each on a sentence written here (none
from the quality corpus): a proposal of a thing is a record of its own, a thing passed to a person
is a loan, a written thing left by someone is kept, a plural partitive ("the spares we fit") is a
thing, a generic word that is filed ("submit an application") is a record, "<thing> information"
names the thing, and a subject and its verb after a comma are no object."""

from __future__ import annotations

from assets.architecture.domain import derive_entities
from assets.architecture.draft import DraftEntity
from assets.architecture.phrases import coordinated_object, tokens
from tests.test_architecture_domain import story


def model(*stories) -> dict[str, DraftEntity]:
    return {entity.name: entity for entity in derive_entities(list(stories))}


def types(entity: DraftEntity) -> dict[str, str]:
    return {f.name: f.type for f in entity.fields}


def test_proposing_a_kept_thing_makes_a_proposal_that_refers_to_it() -> None:
    entities = model(
        story(1, "to keep a list of routes with a name and a length"),
        story(2, "to propose a route", "walkers should be able to propose a route for next month"),
        story(3, "to nominate a volunteer", "anyone can nominate a volunteer for the award"),
    )
    assert {"Route", "Proposal", "Nomination"} <= set(entities)
    assert types(entities["Proposal"])["route_id"] == "reference"
    assert "length" in types(entities["Route"])


def test_lending_a_thing_to_a_person_makes_a_loan_of_it() -> None:
    entities = model(
        story(1, "to record every drill with its make and the number of units we own"),
        story(
            2, "to lend units to a tenant", "the warden should lend units to a tenant and see who has them"
        ),
    )
    assert "Loan" in entities
    loan = types(entities["Loan"])
    assert loan.get("drill_id") == "reference"  # the units counted on a drill are drills
    assert "tenant" in loan or "tenant_id" in loan


def test_leaving_a_written_thing_keeps_it() -> None:
    entities = model(
        story(1, "to record walks with a date and a distance"),
        story(2, "to leave a comment with a mood out of five", "after each walk, hikers leave a comment"),
    )
    assert "Comment" in entities
    assert not any(name.startswith("Hiker") for name in entities)


def test_a_subject_and_its_verb_after_a_comma_are_no_second_object() -> None:
    toks = tokens("once we finish a ride, riders leave a short note")
    assert coordinated_object(toks, toks.index(",") + 1) is None
    toks = tokens("record each ride, each rest stop and the weather")
    assert coordinated_object(toks, toks.index(",") + 1) is not None  # a second thing stays one


def test_a_plural_partitive_with_a_clause_after_it_is_a_thing() -> None:
    entities = model(
        story(1, "to record every service job with a date"),
        story(2, "to keep track of the parts we fit on each service job"),
    )
    assert "Part" in entities
    assert types(entities["Part"]).get("service_job_id") == "reference"


def test_a_generic_word_that_is_filed_is_a_record() -> None:
    entities = model(
        story(1, "to submit an application with a budget"),
        story(2, "to approve an application", "the panel approves an application once it is complete"),
    )
    assert "Application" in entities
    # "an application for a grant" is how the grant is asked for: the grant is what is approved
    entities = model(
        story(1, "to record each grant with an amount and a purpose"),
        story(2, "to approve or reject an application for a grant"),
    )
    assert "Application" not in entities
    assert {t.name for t in entities["Grant"].transitions} == {"approve", "reject"}


def test_information_about_a_thing_names_the_thing() -> None:
    entities = model(story(1, "to look up vessel information by its hull number"))
    assert "Vessel" in entities


def test_a_thing_that_expires_has_an_expiry_date() -> None:
    entities = model(
        story(1, "to record each voucher with a code and an amount", "a voucher expires after six months"),
        story(2, "to keep a list of passes with a holder", "passes are valid until the end of the season"),
    )
    assert types(entities["Voucher"]).get("expires_on") == "date"
    assert types(entities["Pass"]).get("valid_until") == "date"
    assert "expires_on" not in types(entities["Pass"])


def test_saying_whether_one_is_coming_is_a_response() -> None:
    entities = model(
        story(1, "to record each rehearsal with a date and a venue"),
        story(2, "to tell the organiser whether I am attending", "players tell us whether they're attending"),
    )
    assert "Response" in entities
    assert types(entities["Response"]).get("attending") == "boolean"


def test_mark_a_thing_with_its_state_and_no_as_is_a_transition() -> None:
    entities = model(
        story(1, "to record each delivery with an address and a driver"),
        story(2, "to mark a delivery delivered"),
        story(3, "to mark the delivery done"),
    )
    # the same transitions as "mark a delivery as delivered", "mark the delivery as done"
    assert {t.name for t in entities["Delivery"].transitions} == {"mark_delivered", "mark_done"}


def test_a_record_made_after_something_happens_to_a_thing_refers_to_it() -> None:
    entities = model(
        story(1, "to record each match with a date and an opponent"),
        story(2, "to leave a short note with a rating", "after we play a match, coaches leave a short note"),
    )
    assert types(entities["Note"]).get("match_id") == "reference"
    assert "note_id" not in types(entities["Match"])
