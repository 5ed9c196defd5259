"""Sentence forms the offline domain rules read, each on a sentence written here (none from the
quality corpus): questions that name a measure, a span's two ends, "the name of the X", a want cut
short of the list its quote goes on with, states named in turn, and what a list shows "with their"
fields."""

from __future__ import annotations

from assets.architecture.domain import derive_entities
from assets.architecture.draft import DraftEntity
from assets.architecture.phrases import listed_fields, tokens
from tests.test_architecture_domain import story


def model(*stories) -> dict[str, DraftEntity]:
    return {entity.name: entity for entity in derive_entities(list(stories))}


def types(entity: DraftEntity) -> dict[str, str]:
    return {f.name: f.type for f in entity.fields}


def names(text: str) -> list[str]:
    return [item.name for item in listed_fields(tokens(text), 0)[0]]


def test_a_question_in_a_list_names_a_measure() -> None:
    assert names("a route, how long it takes and how many people came") == [
        "route",
        "duration",
        "number_of_people",
    ]
    assert names("the colour, how often it is cleaned, and how much it costs") == [
        "colour",
        "frequency",
        "price",
    ]
    assert names("a name and how who knows") == ["name"]  # no measure: the list ends


def test_a_span_with_two_ends_gives_both_ends_the_head() -> None:
    assert names("a date, a start and end time and a room") == ["date", "start_time", "end_time", "room"]
    assert names("an opening and closing date") == ["opening_date", "closing_date"]
    assert names("a date and start time") == ["date", "start_time"]  # a date is no end of a span


def test_the_fields_of_a_thing_may_say_it_as_a_question_and_count_as_integers() -> None:
    entities = model(story(1, "to record each hike with a route, how long it takes and how many people came"))
    hike = types(entities["Hike"])
    assert set(hike) == {"id", "name", "route", "duration", "number_of_people"}
    assert hike["number_of_people"] == "integer"
    assert not entities["Hike"].summaries  # a count it lists is a field, not a report


def test_the_name_of_the_thing_itself_is_its_name_and_of_a_person_is_theirs() -> None:
    entities = model(
        story(1, "to keep a register of vaccines: the name of the vaccine, the batch and the expiry date"),
        story(2, "to record boats with the name of the owner and the length"),
    )
    assert list(types(entities["Vaccine"]))[:4] == ["id", "name", "batch", "expiry_date"]
    assert "owner_name" in types(entities["Boat"]) and "name_of_owner" not in types(entities["Boat"])


def test_a_want_cut_short_inside_a_list_takes_the_list_from_its_quote() -> None:
    entities = model(
        story(
            1,
            "to put the concerts in: the name",
            quote="First we put the concerts in: the name, the hall and the date, "
            "and how many tickets there are.",
        )
    )
    concert = types(entities["Concert"])
    assert {"name", "hall", "date", "number_of_tickets"} <= set(concert)
    assert concert["number_of_tickets"] == "integer" and concert["date"] == "date"


def test_a_want_that_is_not_cut_short_keeps_its_own_words() -> None:
    entities = model(
        story(
            1, "to add rackets with a weight", quote="We add rackets with a weight. Strings are sold apart."
        )
    )
    assert set(types(entities["Racket"])) == {"id", "name", "weight"}


def test_states_named_in_turn_follow_each_other() -> None:
    entities = model(
        story(1, "to add room keys"),
        story(2, "to mark a room key as handed out when a guest takes it and as returned when it comes back"),
    )
    key = entities["RoomKey"]
    moves = {t.name: (t.from_states, t.to_state) for t in key.transitions}
    assert moves["mark_handed_out"][1] == "handed_out"
    assert moves["mark_returned"] == (["handed_out"], "returned")


def test_states_named_as_alternatives_do_not_follow_each_other() -> None:
    entities = model(
        story(1, "to add parcels"),
        story(2, "to mark a parcel as delivered when it arrives or as lost when it never does"),
    )
    moves = {t.name: t.from_states for t in entities["Parcel"].transitions}
    assert set(moves) == {"mark_delivered", "mark_lost"}
    assert "delivered" not in moves["mark_lost"]


def test_a_list_seen_with_their_fields_gives_the_fields() -> None:
    entities = model(
        story(1, "to add plants with a name"),
        story(2, "to see a list of upcoming repottings with their due dates and their pot sizes"),
    )
    repotting = types(entities["Repotting"])
    assert repotting["due_date"] == "date" and "pot_sizes" in repotting
