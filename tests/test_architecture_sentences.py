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


def test_a_contrast_ends_the_list_it_follows() -> None:
    entities = model(
        story(1, "to add kayaks with a length and a colour, but a tandem also needs a second seat")
    )
    assert set(types(entities["Kayak"])) == {"id", "name", "length", "colour"}


def test_a_state_named_later_follows_the_first() -> None:
    entities = model(story(1, "to add crates"), story(2, "to mark a crate as packed and later as sent"))
    moves = {t.name: (t.from_states, t.to_state) for t in entities["Crate"].transitions}
    assert moves["mark_sent"] == (["packed"], "sent")


def test_listing_by_a_field_filters_and_reports_nothing() -> None:
    entities = model(
        story(1, "to add letters with a recipient and a town"), story(2, "to list letters by town")
    )
    letter = entities["Letter"]
    listing = next(op for op in letter.operations if op.kind == "list")
    assert "town" in listing.parameters and not letter.summaries


def test_what_an_assignment_gives_is_a_field_of_the_thing_assigned() -> None:
    entities = model(
        story(1, "to add vans"),
        story(2, "to add crates with a label"),
        story(3, "to assign each crate to a van, giving the loading bay"),
    )
    assert "loading_bay" in types(entities["Crate"]) and "van_id" in types(entities["Crate"])


def test_a_time_word_given_fields_is_a_record() -> None:
    entities = model(story(1, "to record market days with a date, a theme and how many stalls are needed"))
    assert set(types(entities["MarketDay"])) == {"id", "name", "date", "theme", "number_of_stalls"}
    assert model(story(1, "to record market days")) == {}
    assert model(story(1, "to record market days with a date")) == {}  # one field names no record


def test_what_one_thing_has_up_to_so_many_of_is_a_limit() -> None:
    entities = model(
        story(1, "to record vans with a plate", quote="a van has a plate and up to 4 shelves"),
        story(2, "to book a shelf in a van"),
    )
    [limit] = entities["Shelf"].limits
    assert (limit.maximum, limit.per) == (4, "van_id")


def test_a_body_is_a_text_only_when_it_is_written() -> None:
    from assets.architecture.vocabulary import field_type

    assert field_type("car_body") == "string" and field_type("message_body") == "text"
    assert field_type("body") == "text"


def test_a_thing_that_is_either_one_or_the_other_gets_both_ends() -> None:
    entities = model(
        story(1, "to add appeals with a reason"),
        story(2, "to lodge an appeal about a fine and is either upheld or refused by the panel"),
    )
    moves = {t.name: (t.from_states, t.to_state) for t in entities["Appeal"].transitions}
    assert set(moves) == {"mark_upheld", "mark_refused"}
    assert "refused" not in moves["mark_upheld"][0] and "upheld" not in moves["mark_refused"][0]
    priced = model(story(1, "to add stalls with a price that is either fixed or agreed"))
    assert not priced["Stall"].transitions  # the price is fixed or agreed, not the stall


def test_what_is_noted_when_something_happens_is_a_record_of_it() -> None:
    entities = model(
        story(1, "to add ladders with a height"),
        story(2, "to borrow a ladder for a weekend"),
        story(
            3,
            "to note the borrower, the date and the date it is due back",
            quote="when they borrow it we note the borrower, the date and the date it is due back",
        ),
    )
    loan = {f.name: (f.type, f.required) for f in entities["Loan"].fields}
    assert loan["borrower"] == ("string", True) and loan["due_date"][0] == "date" and "date" in loan
    assert loan["ladder_id"][0] == "reference"
    assert not entities["Loan"].transitions and "Borrower" not in entities


def test_each_time_something_happens_names_the_record_too() -> None:
    entities = model(
        story(1, "to add courts with a surface"),
        story(2, "each time a member books a court we record the start time and the length"),
    )
    booking = types(entities["Booking"])
    assert booking["start_time"] == "time" and "length" in booking and booking["court_id"] == "reference"
