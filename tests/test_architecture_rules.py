"""General rules of the offline domain model, one test each, in wording no rule names.

Each test states what a person reading the stories expects (which things are stored, their
fields and types, their relations) and fails when the rule it names stops doing its part.
"""

from __future__ import annotations

from assets.architecture.domain import derive_entities
from assets.architecture.draft import DraftEntity
from assets.architecture.spelling import corrected_stories, corrections, one_edit_apart
from tests.test_architecture_domain import story


def model(*wants: str) -> dict[str, DraftEntity]:
    return {entity.name: entity for entity in derive_entities([story(n, w) for n, w in enumerate(wants, 1)])}


def fields(entity: DraftEntity) -> dict[str, tuple[str, bool]]:
    return {f.name: (f.type, f.required) for f in entity.fields if f.name != "id"}


def test_people_the_stories_keep_are_records_and_people_only_looked_at_are_not() -> None:
    kept = model("to record landlords with a name, a phone number and an e-mail address")
    assert set(kept) == {"Landlord"}
    assert fields(kept["Landlord"])["email_address"] == ("email", False)
    assert fields(kept["Landlord"])["phone_number"] == ("string", False)
    assert set(model("to add flats with an address", "to see my landlords")) == {"Flat"}


def test_a_register_of_things_is_about_the_things_listed_after_a_colon() -> None:
    entities = model(
        "to keep a log of boat trips: the departure date, the skipper and the number of passengers"
    )
    assert set(entities) == {"BoatTrip"}
    trip = fields(entities["BoatTrip"])
    # nothing names a label: the first field listed is the one a trip cannot be kept without
    assert trip["departure_date"] == ("date", True) and "skipper" in trip
    assert trip["number_of_passengers"][0] == "integer"


def test_a_bracketed_aside_does_not_hide_the_with_list() -> None:
    entities = model("to register each kiln firing (bisque or glaze) with the peak temperature and the date")
    assert fields(entities["KilnFiring"]) == {
        "name": ("string", False),
        "peak_temperature": ("number", True),
        "date": ("date", False),
    }


def test_two_things_after_one_verb_are_both_stored_and_the_list_is_the_last_ones() -> None:
    entities = model("to log harvests and every soil test, with the date, the acidity and the depth")
    assert {"Harvest", "SoilTest"} <= set(entities)
    assert {"date", "acidity", "depth"} <= set(fields(entities["SoilTest"]))
    assert "acidity" not in fields(entities["Harvest"])
    assert set(model("to log harvests and the water temperature")) == {"Harvest"}  # a value, not a thing


def test_activity_times_are_records_of_the_activity_with_a_time() -> None:
    entities = model("to record milking times")
    assert set(entities) == {"Milking"}
    assert fields(entities["Milking"])["time"][0] == "time"


def test_belongs_to_one_gives_a_required_reference() -> None:
    entities = model(
        "to add apiaries with a location", "to add hives with a colour", "every hive belongs to one apiary"
    )
    hive = next(f for f in entities["Hive"].fields if f.name == "apiary_id")
    assert (hive.type, hive.required, hive.references) == ("reference", True, "Apiary")
    shed = model("to add sheds with a size", "to add mowers with a brand", "each mower comes from a shed")
    assert next(f for f in shed["Mower"].fields if f.name == "shed_id").references == "Shed"


def test_a_with_list_after_any_verb_gives_fields_but_a_person_is_not_a_field() -> None:
    entities = model(
        "to list jobs",
        "to turn an accepted quote into a job with a start date, a crew size and a site address",
    )
    job = fields(entities["Job"])
    assert job["start_date"] == ("date", True) and job["site_address"] == ("string", False)
    assert set(entities) == {"Job"} and job["crew_size"][0] in ("string", "integer")
    shared = model("to add recipes with a cooking time", "to share a recipe with a neighbour")
    assert "neighbour" not in fields(shared["Recipe"])


def test_a_with_list_after_of_or_for_belongs_to_the_thing_before() -> None:
    entities = model(
        "to register pupils with a name and a grade",
        "to book a lesson for a pupil with the date and the instrument",
    )
    assert {"date", "instrument"} <= set(fields(entities["Lesson"]))
    assert "instrument" not in fields(entities["Pupil"])


def test_searching_by_a_field_is_not_a_report_per_that_field() -> None:
    entities = model("to add boats with a name and a length", "to search boats by name and by length")
    assert entities["Boat"].summaries == []
    counted = model("to add boats with a name and a harbour", "to see the number of boats per harbour")
    assert [summary.group_by for summary in counted["Boat"].summaries] == ["harbour"]


def test_the_display_field_stays_required_when_only_a_state_field_is() -> None:
    entities = model("to write essays with a title", "to publish an essay")
    assert fields(entities["Essay"])["title"] == ("string", True)
    assert fields(entities["Essay"])["status"][0] == "enum"


def test_comment_like_things_store_their_text() -> None:
    entities = model("to add inspections with a date", "to add remarks to an inspection")
    assert fields(entities["Remark"])["text"] == ("text", True)
    assert next(f for f in entities["Remark"].fields if f.name == "inspection_id").references == "Inspection"


def test_displays_times_and_abstract_activities_are_not_records() -> None:
    entities = model(
        "to add walks with a distance",
        "to see a map display of my walks",
        "to look at my walks each week",
        "to improve route planning",
    )
    assert set(entities) == {"Walk"}


def test_a_misspelt_thing_is_the_thing_spelt_right() -> None:
    entities = model("to add orchards with an owner", "to prune an orchard", "to list my orcahrds")
    assert set(entities) == {"Orchard"}
    assert one_edit_apart("orcahrd", "orchard") and one_edit_apart("kitchn", "kitchen")
    assert not one_edit_apart("orchard", "orchestra")
    # two forms of one word, and words that are rare but far from any other, stay as written
    assert corrections(["the lessons", "one lesson", "a lesson", "a meadow"]) == {}
    [fixed] = corrected_stories([story(1, "to list my orcahrds")])
    assert fixed.i_want == "to list my orcahrds"  # nothing to compare with: left alone


def test_a_want_that_is_only_a_thing_is_stored_with_the_fields_it_names() -> None:
    entities = model("allergies that have a severity and a reaction", "clinics")
    assert {"Allergy", "Clinic"} <= set(entities)
    assert {"severity", "reaction"} <= set(fields(entities["Allergy"]))
    assert [op.kind for op in entities["Clinic"].operations] == ["list", "create", "read", "update", "delete"]


def test_a_checkbox_is_a_yes_no_field_of_the_main_thing() -> None:
    entities = model("to add concerts with a venue", "to cancel a concert", "a sold out toggle")
    assert fields(entities["Concert"])["sold_out"] == ("boolean", False)
    assert set(entities) == {"Concert"}


def test_signing_up_for_a_thing_stores_the_signup_and_the_thing() -> None:
    entities = model("to enrol in a course myself")
    assert set(entities) == {"Enrolment", "Course"}
    enrolment = next(f for f in entities["Enrolment"].fields if f.name == "course_id")
    assert enrolment.references == "Course"


def _as(role: str, number: int, want: str):
    return story(number, want).model_copy(update={"as_a": role})


def test_an_actor_who_signs_up_with_their_details_is_the_record() -> None:
    entities = {
        entity.name: entity
        for entity in derive_entities(
            [
                _as("rower", 1, "to sign up at the boathouse with my name, my e-mail and a locker number"),
                _as("rower", 2, "to log an outing with the date and the distance"),
                _as("user", 3, "to register with my name"),  # nobody in particular: nothing kept
            ]
        )
    }
    assert "Rower" in entities and "User" not in entities
    rower = fields(entities["Rower"])
    assert rower["name"] == ("string", True) and rower["email"] == ("email", False)
    assert "locker_number" in rower
    # what a kept actor creates is theirs
    owner = next(f for f in entities["Outing"].fields if f.name == "rower_id")
    assert (owner.references, owner.required) == ("Rower", False)


def test_a_contraction_never_names_a_thing() -> None:
    entities = model("to add the films we've watched with a title and a year")
    assert set(entities) == {"Film"}
    assert {"title", "year"} <= set(fields(entities["Film"]))


def test_the_date_something_happens_is_a_date_field_named_by_the_event() -> None:
    entities = model("to log a repair with the date it was reported and the date it is fixed")
    repair = fields(entities["Repair"])
    assert repair["reported_date"] == ("date", True) and repair["fixed_date"] == ("date", False)


def test_list_items_lose_their_introducing_and_describing_words_and_examples() -> None:
    entities = model(
        "to book a fitting with a tailor, giving the date and the venue",
        "to keep a list of shops, each with a name and a short code such as LDN1",
        "to report a leak with a short description",
    )
    assert {"date", "venue"} <= set(fields(entities["Fitting"]))
    assert "code" in fields(entities["Shop"]) and "short_code_such" not in fields(entities["Shop"])
    assert "description" in fields(entities["Leak"])


def test_whose_names_two_numbers_of_the_thing() -> None:
    entities = model(
        "to add seed packets with a name and a count",
        "to flag seed packets whose count drops below their minimum stock",
    )
    packet = fields(entities["SeedPacket"])
    assert packet["minimum_stock"][0] == "integer"


def test_a_count_of_a_thing_is_its_field_not_a_thing() -> None:
    entities = model("to add minibuses with a name", "to change the number of seats of a minibus")
    assert set(entities) == {"Minibus"}
    assert fields(entities["Minibus"])["seats"][0] == "integer"


def test_a_thing_only_referred_to_is_built_with_the_stories_that_refer_to_it() -> None:
    entities = model("to enrol in a course myself")
    assert all(operation.story_ids == ["US-001"] for operation in entities["Course"].operations)
    assert {op.kind for op in entities["Course"].operations} == {"list", "create", "read", "update", "delete"}


def test_a_thing_described_by_what_it_records_holds_or_comes_with_is_stored_with_those_fields() -> None:
    """ "Each X records/holds/has A, B and C", "X comes with A and B": a record and its fields,
    whether or not any verb of the story names it (and a listed thing already stored is a reference)."""
    described = derive_entities(
        [
            story(1, "to add kayaks with a hull colour and a length"),
            story(
                2, "to rent a kayak", "Each rental records the kayak, the paddler's name and the return time."
            ),
            story(
                3, "to keep the instructors", "An instructor comes with a name, a licence number and a level."
            ),
        ]
    )
    by_name = {entity.name: entity for entity in described}
    assert {"Kayak", "Rental", "Instructor"} <= set(by_name)
    rental = fields(by_name["Rental"])
    assert rental["kayak_id"][0] == "reference"
    assert "paddler_name" in rental and rental["return_time"][0] == "time"
    assert {"licence_number", "level"} <= set(fields(by_name["Instructor"]))


def test_for_each_thing_we_store_a_list_gives_the_thing_those_fields() -> None:
    hive = derive_entities(
        [
            story(
                1,
                "to track hives",
                "For every beehive we record the queen's age, the frame count and the apiary.",
            )
        ]
    )
    [beehive] = [entity for entity in hive if entity.name == "Beehive"]
    assert {"queen_age", "frame_count", "apiary"} <= set(fields(beehive))
    assert fields(beehive)["frame_count"][0] == "integer"


def test_a_generic_word_described_by_its_fields_each_with_is_a_record() -> None:
    """ "the parts we stock, each with a part number, a price and a bin": described by fields, so
    stored, even though its word alone ("part") names nothing in particular."""
    entities = model(
        "to show the parts we stock, each with a part number, a unit price and a bin (top or bottom)"
    )
    assert "Part" in entities
    part = fields(entities["Part"])
    assert part["unit_price"][0] == "money" and part["bin"][0] == "enum"


def _transitions(entity: DraftEntity) -> dict[str, tuple[list[str], str]]:
    return {t.name: (t.from_states, t.to_state) for t in entity.transitions}


def test_flag_as_and_set_to_name_state_changes_of_the_thing() -> None:
    entities = model(
        "to add kilns with a maximum temperature and a shelf count",
        "to flag a kiln as out of service",
        "to set the kiln to ready",
    )
    kiln = entities["Kiln"]
    found = _transitions(kiln)
    assert found["mark_out_of_service"][1] == "out_of_service"
    assert found["mark_ready"][1] == "ready"
    status = next(f for f in kiln.fields if f.name == "status")
    assert status.type == "enum" and {"out_of_service", "ready"} <= set(status.values)


def test_a_state_change_in_the_quoted_sentence_is_one_too_and_it_means_the_thing_named_before() -> None:
    """The want keeps one change; the sentence it came from names another, with "it"."""
    [voucher] = [
        entity
        for entity in derive_entities(
            [
                story(1, "to issue vouchers with a code and a value"),
                story(
                    2,
                    "to mark a voucher as redeemed",
                    "At the till the cashier marks the voucher as redeemed, or marks it as void.",
                ),
            ]
        )
        if entity.name == "Voucher"
    ]
    found = _transitions(voucher)
    assert found["mark_redeemed"][1] == "redeemed" and found["mark_void"][1] == "void"


def test_a_thing_in_a_state_that_cannot_be_moved_keeps_that_state_out_of_the_transition() -> None:
    wants = (
        "to add kayaks with a hull colour and a length",
        "to return a kayak",
        "to mark a kayak as damaged",
    )
    assert "damaged" in _transitions(model(*wants)["Kayak"])["return"][0]  # without the rule it may
    rules = ("a damaged kayak cannot be returned", "a kayak that is damaged can no longer be returned")
    for rule_text in rules:
        kayak = model(*wants, rule_text)["Kayak"]
        from_states = _transitions(kayak)["return"][0]
        assert "damaged" not in from_states and from_states
        assert "damaged" in next(t.rule for t in kayak.transitions if t.name == "return")


def test_people_things_are_assigned_to_are_records_when_the_stories_treat_them_as_a_group() -> None:
    """ "assign a job to a technician" where technicians are a role or a group ("per technician"):
    an entity the job refers to; an ad-hoc person ("a neighbour") stays a field of the job."""
    grouped = model(
        "to log repair jobs with a fault and a site",
        "to assign a repair job to a technician",
        "to see a dashboard of open repair jobs per technician",
    )
    assert "Technician" in grouped
    job = grouped["RepairJob"]
    assert fields(job)["technician_id"][0] == "reference" and "assignee" not in fields(job)
    [count] = job.summaries
    assert count.group_by == "technician_id"
    loose = model("to log repair jobs with a fault and a site", "to assign a repair job to a neighbour")
    assert set(loose) == {"RepairJob"} and "assignee" in fields(loose["RepairJob"])


def test_a_want_led_by_a_verb_the_vocabulary_does_not_know_still_makes_its_thing() -> None:
    """ "to pack a hamper for a customer, with the date": an unknown verb before a thing makes it
    (with its relation and fields); a rule-like verb ("to limit ...") or a bare plural does not."""
    entities = model(
        "to add customers with a name and an address",
        "to pack a hamper for a customer, with the date and the weight",
    )
    hamper = fields(entities["Hamper"])
    assert hamper["customer_id"][0] == "reference" and {"date", "weight"} <= set(hamper)
    assert set(model("to add customers with a name", "to limit customers to two hampers")) == {"Customer"}
    assert set(model("to add customers with a name", "to own greenhouses")) == {"Customer"}


def test_booking_a_thing_where_bookings_are_stored_makes_the_booking_refer_to_it() -> None:
    entities = model(
        "to add courts with a number and a surface",
        "to book a court for an hour",
        "to cancel a booking",
    )
    booking = fields(entities["Booking"])
    assert booking["court_id"] == ("reference", True)
    assert "Court" in entities and "booking_id" not in fields(entities["Court"])


def test_a_verb_after_one_subject_counts_in_its_third_person_form() -> None:
    """ "the warden approves or rejects each claim", "when a diver borrows a tank we record a loan":
    the -s form after "a/the <noun>" or "she" is the verb; "the boat's logs" is no verb."""
    [claim] = [
        entity
        for entity in derive_entities(
            [
                story(1, "to submit claims with an amount and a reason"),
                story(2, "to decide on claims", "The warden approves or rejects each claim."),
            ]
        )
        if entity.name == "Claim"
    ]
    assert {"approve", "reject"} <= {t.name for t in claim.transitions}
    rentals = {
        entity.name: entity
        for entity in derive_entities(
            [
                story(1, "to add tanks with a size and a pressure"),
                story(2, "to register divers with a name and a certificate"),
                story(
                    3,
                    "to record a loan with the date",
                    "When a diver borrows a tank we record a loan with the date.",
                ),
                story(4, "to mark a loan as returned"),
            ]
        )
    }
    loan = fields(rentals["Loan"])
    assert loan["tank_id"] == ("reference", True) and loan["diver_id"][0] == "reference"


def test_the_record_named_by_a_verb_with_ing_refers_to_what_the_verb_acts_on() -> None:
    entities = derive_entities(
        [
            story(1, "to add hedges with a length"),
            story(2, "to log the trimming with the date", "When they trim a hedge they log the trimming."),
        ]
    )
    [trimming] = [entity for entity in entities if entity.name == "Trimming"]
    assert fields(trimming)["hedge_id"][0] == "reference"


def test_applying_with_my_details_keeps_the_applicant_as_a_record() -> None:
    """ "as a volunteer, to apply to a project with my name and phone": the volunteer is stored."""
    made = derive_entities(
        [
            story(1, "to add projects with a title"),
            story(2, "to apply to a project with my name, my phone and a short motivation").model_copy(
                update={"as_a": "volunteer"}
            ),
        ]
    )
    by_name = {entity.name: entity for entity in made}
    assert "Volunteer" in by_name and {"name", "phone"} <= set(fields(by_name["Volunteer"]))


def test_a_giving_list_after_the_thing_gives_its_fields_and_a_count_of_things_is_a_number() -> None:
    entities = model(
        "to define a berth with a code and the maximum number of boats that may moor at it",
        "to apply for a mooring, giving the boat name, the berth and the requested start date",
    )
    mooring = fields(entities["Mooring"])
    assert mooring["berth_id"][0] == "reference" and mooring["requested_start_date"][0] == "date"
    assert "boat_name" in mooring and "Giving" not in entities
    berth = fields(entities["Berth"])
    assert berth["maximum_number_of_boats"][0] == "integer" and "boat_id" not in berth


def test_a_participle_before_a_thing_is_not_part_of_its_name() -> None:
    entities = model("to cancel a confirmed mooring", "to add moorings with a berth number")
    assert set(entities) == {"Mooring"}


def test_booking_a_place_in_a_thing_books_the_thing() -> None:
    entities = derive_entities(
        [
            story(1, "to book a place", "Riders book a place on a ride."),
            story(2, "to cancel their booking"),
        ]
    )
    by_name = {entity.name: entity for entity in entities}
    assert "Place" not in by_name and "Ride" in by_name
    assert fields(by_name["Booking"])["ride_id"][0] == "reference"


def test_an_evaluation_left_on_a_thing_is_a_record_of_its_own_with_a_bounded_score() -> None:
    """ "leave a review of a venue from one to five, with a comment" / "score each essay from 1 to
    10": a record referring to what is evaluated, its score within the range; "rate a venue" stays
    a rating of the venue."""
    left = model(
        "to add venues with an address", "to leave a review of a venue from one to five, with a comment"
    )
    review = next(f for f in left["Review"].fields if f.name == "score")
    assert (review.type, review.minimum, review.maximum) == ("integer", 1, 5)
    assert {"venue_id", "comment"} <= set(fields(left["Review"]))
    scored = model("to submit essays with a title", "to score each essay from 1 to 10")
    assert fields(scored["Review"])["essay_id"][0] == "reference"
    assert "score" not in fields(scored["Essay"])
    rated = model("to add venues with an address", "to rate a venue")
    assert set(rated) == {"Venue"} and "rating" in fields(rated["Venue"])
