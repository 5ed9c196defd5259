"""Offline extraction on requirement text in every common style, in several domains.

Written before the rules (the house method): each document below is in a style the example
project does not have (product prose, one-line briefs, a `Speaker:` transcript, a chat, an e-mail,
an IEEE-style SRS with page headers and footers, a MoSCoW backlog), with the stories a person would
expect written first. The documents go through the real parser, so the tests also cover the
shape each format gives the extractor.
"""

from __future__ import annotations

import json
import re

import pytest

from assets.documents.parsing import parse_file
from assets.requirements.extraction import extract_offline
from assets.requirements.merge import merge_stories
from assets.requirements.models import RequirementsSet, UserStory

LIMIT = 10_000_000


def extract(name: str, data: bytes) -> RequirementsSet:
    documents = parse_file(name, data, LIMIT)
    return merge_stories(
        [((doc.path, "v1"), doc, extract_offline(doc)) for doc in documents], None, project="styles"
    )


def titled(requirements: RequirementsSet, title: str) -> UserStory:
    found = [story for story in requirements.stories if story.title.lower() == title.lower()]
    assert len(found) == 1, (title, [story.title for story in requirements.stories])
    return found[0]


def criteria_text(story: UserStory) -> str:
    return " | ".join(f"{c.given} / {c.when} / {c.then}" for c in story.acceptance_criteria)


def assert_readable(requirements: RequirementsSet) -> None:
    """Titles a person would write: a verb first, short, no filler, no dangling last word."""
    for story in requirements.stories:
        title = story.title
        assert 2 <= len(title.split()) <= 10, title
        assert not re.search(r"\b(um|uh|you know|I mean|\+1)\b|\{", title, re.I), title
        last = title.split()[-1].lower()
        assert last not in {"a", "an", "the", "to", "of", "and", "or", "with", "for", "at", "on", "in"}, title
        for criterion in story.acceptance_criteria:
            assert "does it and shows the result" not in criterion.then, criterion
            assert not criterion.then.endswith("is available"), criterion


# --- product prose -----------------------------------------------------------------------------------

PET_PAL = (
    "Pet Pal is a simple application that lets owners keep track of their pets. Owners can add "
    "their pets and record each vet visit with its date and notes. The app will also remind them "
    "of vaccinations.\n"
)

SHELF_SHARE = """\
# ShelfShare

ShelfShare is a web application that allows neighbours to lend books to each other. Members can
list the books they own, request a book from another member and mark a loan as returned.

It includes features such as a waiting list, due-date reminders and member ratings.
"""


def test_product_prose_gives_one_story_per_thing_the_actors_can_do() -> None:
    requirements = extract("pet-pal.md", PET_PAL.encode())
    assert_readable(requirements)
    add = titled(requirements, "Add a pet")
    visit = titled(requirements, "Record each vet visit")
    remind = titled(requirements, "Remind owners of vaccinations")
    assert {add.as_a, visit.as_a, remind.as_a} == {"owner"}
    assert "date" in criteria_text(visit) and "notes" in criteria_text(visit)
    assert len(requirements.stories) <= 4


def test_prose_with_a_feature_list_gives_one_story_per_feature() -> None:
    requirements = extract("shelfshare.md", SHELF_SHARE.encode())
    assert_readable(requirements)
    titles = {story.title for story in requirements.stories}
    assert {"Request a book from another member", "Mark a loan as returned"} <= titles
    assert any(title.startswith("List") and "book" in title for title in titles), titles
    assert {"Support a waiting list", "Support due-date reminders", "Support member ratings"} <= titles
    assert titled(requirements, "Mark a loan as returned").as_a == "member"
    assert "Lend books to each other" in titles


# --- one-line briefs ------------------------------------------------------------------------------


def test_a_one_line_brief_gives_a_story_per_feature_on_the_thing() -> None:
    requirements = extract(
        "todo.md", b"Build a React todo application with add, edit, delete functionality\n"
    )
    assert_readable(requirements)
    titles = [story.title for story in requirements.stories]
    for title in ("Add a todo", "Edit a todo", "Delete a todo"):
        assert title in titles
    # The brief is not a story of its own once its features are; the stack stays in their quotes.
    assert not [title for title in titles if title.lower().startswith("build")], titles
    assert all("React" in story.traces[0].quote for story in requirements.stories)


def test_a_one_line_brief_with_where_i_can_gives_each_action() -> None:
    requirements = extract(
        "recipes.txt", b"A recipe box app where I can save recipes, tag them and plan meals for the week.\n"
    )
    assert_readable(requirements)
    titles = {story.title for story in requirements.stories}
    assert {"Save recipes", "Tag recipes", "Plan meals for the week"} <= titles


def test_a_one_line_brief_with_noun_features() -> None:
    requirements = extract(
        "expenses.md", b"Make me an expense tracker with categories, monthly budgets and CSV export.\n"
    )
    assert_readable(requirements)
    titles = {story.title for story in requirements.stories}
    assert {"Support categories", "Support monthly budgets", "Support CSV export"} <= titles


# --- a plain-text meeting transcript ------------------------------------------------------------------

CLINIC_MEETING = """\
Priya: Okay um {vocalsound} let's start. How was everyone's weekend?
Tom: Good, good. Went to the coast.
Priya: So the the main thing, uh, patients need to book an appointment online, you know, from their phone.
Tom: Yeah and I mean they should be able to cancel a booking up to a day before.
Dr Okafor: Receptionists must see every booking of the day on one screen.
Priya: What about reminders?
Tom: Patients should get a text reminder the day before the appointment.
Dr Okafor: +1
Priya: Should we also do video consultations?
Tom: Uh {disfmarker} we need to think about that.
Priya: Also we need the clinic manager to export the monthly booking report.
Priya: Great, thanks everyone, see you Thursday.
"""


def test_a_speaker_transcript_gives_clean_stories_with_their_speaker() -> None:
    requirements = extract("clinic-meeting.txt", CLINIC_MEETING.encode())
    assert_readable(requirements)
    book = titled(requirements, "Book an appointment online")
    cancel = titled(requirements, "Cancel a booking up to a day before")
    see = titled(requirements, "See every booking of the day on one screen")
    remind = titled(requirements, "Get a text reminder the day before the appointment")
    export = titled(requirements, "Export the monthly booking report")
    assert (book.as_a, cancel.as_a, see.as_a, remind.as_a, export.as_a) == (
        "patient",
        "patient",
        "receptionist",
        "patient",
        "clinic manager",
    )
    assert [t.location.speaker for t in book.traces] == ["Priya"]
    assert [t.location.speaker for t in see.traces] == ["Dr Okafor"]
    assert see.priority == "Must" and remind.priority == "Should"
    assert len(requirements.stories) == 5  # no small talk, no open question, no "think about that"
    for story in requirements.stories:
        assert story.traces and all(trace.location.speaker for trace in story.traces)
        assert not re.search(r"\b(um|uh|you know|I mean)\b|\{|\bthe the\b", story.i_want, re.I)


# --- a chat export --------------------------------------------------------------------------------

WAREHOUSE_CHAT = [
    {"user": "lena", "ts": "1767261600.000100", "text": "morning! coffee first :)"},
    {
        "user": "omar",
        "ts": "1767261660.000100",
        "text": "we need warehouse clerks to record every stock movement with its product and quantity",
    },
    {"user": "lena", "ts": "1767261720.000100", "text": "+1"},
    {
        "user": "lena",
        "ts": "1767261780.000100",
        "text": "can we alert the buyer when a product drops below its minimum stock?",
    },
    {"user": "omar", "ts": "1767261840.000100", "text": "+1 good idea"},
    {
        "user": "omar",
        "ts": "1767261900.000100",
        "text": "also we need clerks to ship an order only once it is paid",
    },
    {"user": "lena", "ts": "1767261960.000100", "text": "should we track forklift fuel too?"},
    {"user": "omar", "ts": "1767262020.000100", "text": "nah"},
]


def test_a_chat_keeps_requests_agreed_by_another_person_and_never_the_agreement() -> None:
    requirements = extract("warehouse.json", json.dumps(WAREHOUSE_CHAT).encode())
    assert_readable(requirements)
    record = titled(requirements, "Record every stock movement")
    alert = titled(requirements, "Alert the buyer")
    assert "a product drops below its minimum stock" in criteria_text(alert)
    ship = titled(requirements, "Ship an order")
    assert record.as_a == "warehouse clerk" and ship.as_a == "clerk"
    assert "product" in criteria_text(record) and "quantity" in criteria_text(record)
    [criterion] = ship.acceptance_criteria
    assert (criterion.given, criterion.when, criterion.then) == (
        "an order that is not paid",
        "the clerk ships it",
        "it is refused",
    )
    assert [t.location.speaker for t in alert.traces] == ["lena"]
    assert len(requirements.stories) == 3  # the unanswered forklift question is not a story
    for story in requirements.stories:
        assert "+1" not in story.title and "+1" not in story.i_want


# --- an e-mail ----------------------------------------------------------------------------------------

EVENTS_MAIL = """\
From: Maria Lopez <maria@example.org>
To: dev-team@example.org
Subject: Event sign-up site
Date: Tue, 03 Mar 2026 09:30:00 +0000
Content-Type: text/plain; charset=utf-8

Hi all,

Following our call, here is what we need. Organisers need to create an event with a date, a venue
and a capacity. Attendees should be able to register for an event, so that they get a seat.
Registration must close when the event is full.

Also we need organisers to export the attendee list.

Nice to have: a waiting list for full events.

Thanks,
Maria
"""


def test_an_email_gives_its_requests_with_actors_and_rules() -> None:
    requirements = extract("events.eml", EVENTS_MAIL.encode())
    assert_readable(requirements)
    create = titled(requirements, "Create an event")
    register = titled(requirements, "Register for an event")
    export = titled(requirements, "Export the attendee list")
    waiting = titled(requirements, "Support a waiting list for full events")
    assert (create.as_a, register.as_a, export.as_a) == ("organiser", "attendee", "organiser")
    assert register.so_that == "they get a seat"
    assert all(word in criteria_text(create) for word in ("date", "venue", "capacity"))
    assert (create.priority, register.priority, waiting.priority) == ("Must", "Should", "Could")
    assert all(t.location.speaker == "Maria Lopez" for s in requirements.stories for t in s.traces)
    assert not any(
        "call" in story.title.lower() or "thanks" in story.title.lower() for story in requirements.stories
    )


# --- an IEEE-style SRS as a PDF with page headers and footers --------------------------------------------

SRS_PAGES = [
    """Fleet Maintenance System - Software Requirements Specification
Table of Contents
1 Introduction ........ 1
2 Overall description ........ 2
3 Specific requirements ........ 2
1 Introduction
1.1 Purpose
This document specifies the software requirements of the Fleet Maintenance System (FMS).
1.2 Scope
This specification covers the depot workshop only.
1.3 Definitions, acronyms and abbreviations
FMS: Fleet Maintenance System.
Work order: a request to repair or service one vehicle.
1.4 Overview
Section 2 describes the product in general; section 3 states the specific requirements.
This document takes precedence over any earlier specification of the FMS.
Page 1 of 2""",
    """Fleet Maintenance System - Software Requirements Specification
3 Specific requirements
3.1 Vehicles
REQ-1 The system shall allow a fleet manager to register a vehicle with its plate number, model and mileage.
REQ-2 The system shall allow a mechanic to open a work order for a vehicle.
REQ-3 A work order shall be closed only when all its tasks are done.
REQ-4 The system shall send an email to the fleet manager when a vehicle is due for service.
Revision history
1.0 2026-01-12 First issue
Page 2 of 2""",
]


def srs_pdf() -> bytes:
    pymupdf = pytest.importorskip("pymupdf")
    pdf = pymupdf.open()
    for text in SRS_PAGES:
        page = pdf.new_page()
        page.insert_textbox(pymupdf.Rect(50, 50, 560, 800), text, fontsize=9)
    return pdf.tobytes()


def test_an_srs_gives_its_shall_statements_and_leaves_out_what_it_says_about_itself() -> None:
    requirements = extract("fms-srs.pdf", srs_pdf())
    assert_readable(requirements)
    register = titled(requirements, "Register a vehicle")
    titled(requirements, "Open a work order for a vehicle")
    close = titled(requirements, "Close a work order")
    email = titled(requirements, "Send an email to the fleet manager")
    assert register.as_a == "fleet manager" and register.priority == "Must"
    assert all(word in criteria_text(register) for word in ("plate number", "model", "mileage"))
    assert "not all its tasks are done" in criteria_text(close) and "refused" in criteria_text(close)
    assert "a vehicle is due for service" in criteria_text(email)
    assert len(requirements.stories) == 4
    excluded = " ".join(item.text for item in requirements.excluded)
    for about_itself in (
        "This document specifies",
        "takes precedence",
        "Section 2 describes",
        "Work order: a request",
    ):
        assert about_itself in excluded, about_itself
    reasons = {item.reason for item in requirements.excluded}
    assert any("page header or footer" in reason for reason in reasons), reasons


# --- a MoSCoW backlog -----------------------------------------------------------------------------------

GYM_BACKLOG = """\
# Gym classes backlog

## Must have
- Members book a class from the weekly timetable
- Trainers set the capacity of each class

## Should have
- Members cancel a booking up to two hours before the class
- When I open a class I want to see who else is booked

## Could have
- Members rate a class after attending

## Features
- Search classes by trainer or time

## Phase 2
- Trainers message all members of a class

## Won't have
- Payments in the app
"""


def test_a_moscow_backlog_takes_its_priorities_from_the_headings() -> None:
    requirements = extract("gym-backlog.md", GYM_BACKLOG.encode())
    assert_readable(requirements)
    book = titled(requirements, "Book a class from the weekly timetable")
    capacity = titled(requirements, "Set the capacity of each class")
    cancel = titled(requirements, "Cancel a booking up to two hours before the class")
    see = titled(requirements, "See who else is booked")
    rate = titled(requirements, "Rate a class after attending")
    search = titled(requirements, "Search classes by trainer or time")
    assert [s.priority for s in (book, capacity, cancel, see, rate)] == [
        "Must",
        "Must",
        "Should",
        "Should",
        "Could",
    ]
    assert (book.as_a, capacity.as_a, search.as_a) == ("member", "trainer", "user")
    assert len(requirements.stories) == 6
    excluded = {item.text: item.reason for item in requirements.excluded}
    assert "Phase 2" in excluded["Trainers message all members of a class"]
    assert "Won't" in excluded["Payments in the app"]


# --- single sentences in the other common shapes -------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "title", "actor"),
    [
        (
            "Customers will be able to track their parcel in real time.",
            "Track their parcel in real time",
            "customer",
        ),
        ("It should be possible to export the report as PDF.", "Export the report as PDF", "user"),
        ("The system shall allow librarians to renew a loan.", "Renew a loan", "librarian"),
        ("Admins can approve or reject a new listing.", "Approve a new listing", "admin"),
        ("As a cook, I want to scale a recipe when I open it.", "Scale a recipe", "cook"),
    ],
)
def test_other_sentence_shapes(sentence: str, title: str, actor: str) -> None:
    requirements = extract("notes.md", sentence.encode())
    assert_readable(requirements)
    story = titled(requirements, title)
    assert story.as_a == actor


def test_a_negated_need_and_a_statement_about_the_document_are_not_stories() -> None:
    text = "Managers don't need to print anything.\n\nThis document describes the booking rules.\n"
    requirements = extract("notes.md", text.encode())
    assert requirements.stories == []
    assert [item.reason for item in requirements.excluded] == ["about the document itself, not the product"]


def test_a_word_srs_with_numbered_sections_appendix_and_a_definitions_table() -> None:
    from tests.support.corpus import docx_bytes

    data = docx_bytes(
        [
            ("title", "Library System SRS"),
            ("heading2", "1.1 Purpose"),
            ("paragraph", "This document specifies the requirements of the library system."),
            ("heading2", "1.2 Definitions"),
            ("table", [["Term", "Meaning"], ["Loan", "a book lent to a member"]]),
            ("heading1", "3 Functional requirements"),
            (
                "paragraph",
                "FR-1 The system shall allow librarians to register a member with a name and an email.",
            ),
            (
                "paragraph",
                "FR-2 Members shall be able to renew a loan only when no one has reserved the book.",
            ),
            ("heading1", "4 Nice to have"),
            ("paragraph", "Reading lists for members"),
            ("heading1", "Appendix A: Revision history"),
            ("paragraph", "v0.1 first draft"),
        ]
    )
    requirements = extract("library.docx", data)
    assert_readable(requirements)
    register = titled(requirements, "Register a member")
    renew = titled(requirements, "Renew a loan")
    reading = titled(requirements, "Support reading lists for members")
    assert (register.as_a, renew.as_a, reading.priority) == ("librarian", "member", "Could")
    [rule] = renew.acceptance_criteria
    assert (rule.given, rule.then) == ("a loan where someone has reserved the book", "it is refused")
    excluded = {item.text: item.reason for item in requirements.excluded}
    assert "Revision history" in excluded["v0.1 first draft"]
    assert "Definitions" in excluded["Loan | a book lent to a member"]
    assert len(requirements.stories) == 3


ROTA_NOTE = """\
Hi Sam,

As discussed, the volunteers need a simple rota. Coordinators create shifts with a date, a start
time and the number of people needed. Volunteers sign up for a shift and can cancel up to a day
before.

Could you also add a weekly email summary for coordinators?

Cheers,
Jo
"""


def test_a_plain_note_with_present_tense_duties_and_a_polite_request() -> None:
    requirements = extract("rota-note.txt", ROTA_NOTE.encode())
    assert_readable(requirements)
    create = titled(requirements, "Create shifts")
    sign_up = titled(requirements, "Sign up for a shift")
    titled(requirements, "Add a weekly email summary for coordinators")
    titled(requirements, "Have a simple rota")
    assert (create.as_a, sign_up.as_a) == ("coordinator", "volunteer")
    assert "date, start time and number of people needed" in criteria_text(create)
    assert not any("Cheers" in story.title or "Sam" in story.title for story in requirements.stories)


def test_a_requirements_table_gives_one_story_per_row_with_the_priority_cell() -> None:
    from tests.support.corpus import docx_bytes

    rows = [
        ["ID", "Requirement", "Priority"],
        ["FR-1", "The system shall allow a dispatcher to assign a driver to a delivery.", "Must"],
        ["FR-2", "Drivers should be able to mark a delivery as delivered.", "Should"],
        ["FR-3", "Customers could rate the driver.", "Low"],
        ["FR-4", "Drivers must be able to print a paper manifest.", "Won't"],
    ]
    requirements = extract("reqs.docx", docx_bytes([("heading1", "Requirements"), ("table", rows)]))
    assert_readable(requirements)
    assert [(s.title, s.as_a, s.priority) for s in requirements.stories] == [
        ("Assign a driver to a delivery", "dispatcher", "Must"),
        ("Mark a delivery as delivered", "driver", "Should"),
        ("Rate the driver", "customer", "Could"),
    ]
    assert [item.reason for item in requirements.excluded] == ["priority Won't (not this release)"]


LIBRARY_NOTES = """\
# Library loans

## Members

Members should be able to:

- borrow a book from the shelf
- return a book at the desk

## Librarians

- Add a new book with its title and author.
- Remove a damaged book.

Features:
- Renew a loan online
"""


def test_a_lead_in_line_and_a_heading_naming_people_give_the_actor_of_the_items() -> None:
    requirements = extract("library.md", LIBRARY_NOTES.encode())
    assert_readable(requirements)
    assert [(s.title, s.as_a, s.priority) for s in requirements.stories if s.as_a == "member"] == [
        ("Borrow a book from the shelf", "member", "Should"),
        ("Return a book at the desk", "member", "Should"),
    ]
    assert titled(requirements, "Add a new book").as_a == "librarian"
    assert titled(requirements, "Remove a damaged book").as_a == "librarian"
    titled(requirements, "Renew a loan online")
    assert len(requirements.stories) == 5
