"""Offline extraction on styles the rules had not met: chat exports in text, possession sentences,
lists in criteria, answers that only name a thing, and actors that are only shaped like people.

Written before the rules (the house method), in a domain no rule or corpus document uses (a pottery
studio): the expected stories first, then the rules in `assets/requirements/offline/`. Documents go
through the real parser.
"""

from __future__ import annotations

from assets.requirements.models import RequirementsSet
from tests.support.requirements_text import criteria_text, having, titles
from tests.support.requirements_text import extract as extract_text


def extract(name: str, text: str) -> RequirementsSet:
    return extract_text(name, text, project="new-styles")


# --- chat exports in text ------------------------------------------------------------------------

WHATSAPP = """\
05/06/2024, 19:00 - Messages and calls are end-to-end encrypted. Tap to learn more.
05/06/2024, 19:01 - Noor created group "Clay studio"
05/06/2024, 19:02 - Noor: hi both, about the new studio site
05/06/2024, 19:03 - Noor: can we have a way for members to book a wheel for an evening?
05/06/2024, 19:03 - Ivo: +1
05/06/2024, 19:05 - Ivo: we also need to log every kiln firing with the date, the temperature and the pieces
inside
05/06/2024, 19:06 - Sam: <Media omitted>
05/06/2024, 19:06 - Sam: haha that's my burnt teapot
05/06/2024, 19:08 - Sam: could tutors also mark which members finished the beginners course?
05/06/2024, 19:09 - Noor: the course, yes
05/06/2024, 19:10 - Noor: Selling pots online is out of scope for now
"""

SLACK_COPY = """\
Noor Haddad  7:02 PM
hi both, about the new studio site
Ivo Brandt  7:03 PM
Could tutors mark which members finished the beginners course?
Noor Haddad  7:04 PM
+1 good idea
we also need to log every kiln firing with the date, the temperature and the pieces inside
Sam Ortega  7:06 PM
the firings, yes
"""


def test_a_whatsapp_export_in_text_gives_the_requests_people_make_and_agree_to() -> None:
    requirements = extract("studio-chat.txt", WHATSAPP)
    book = having(requirements, "book", "wheel")
    assert book.as_a == "member"  # "a way for members to book": the members book
    firing = having(requirements, "log", "firing")
    assert "pieces inside" in firing.i_want  # the whole list, not its first item
    mark = having(requirements, "mark", "course")
    assert mark.as_a == "tutor"  # a proposal that tutors do something, agreed by the answer
    assert len(requirements.stories) == 3, titles(requirements)
    for story in requirements.stories:
        text = f"{story.title} {story.i_want} {story.so_that}".lower()
        assert "+1" not in text and "media omitted" not in text and "selling pots" not in text
    excluded = " ".join(item.text for item in requirements.excluded)
    assert "Selling pots online" in excluded
    assert {s.location.speaker for s in [*book.traces, *firing.traces]} == {"Noor", "Ivo"}


def test_a_copied_slack_thread_in_text_is_read_per_sender() -> None:
    requirements = extract("thread.txt", SLACK_COPY)
    mark = having(requirements, "mark", "course")
    assert mark.as_a == "tutor"
    firing = having(requirements, "log", "firing")
    assert firing.traces[0].location.speaker == "Noor Haddad"
    assert len(requirements.stories) == 2, titles(requirements)


def test_an_unanswered_proposal_in_talk_stays_a_question() -> None:
    transcript = (
        "Noor: could we also log the glaze recipes for each batch?\n"
        "Ivo: I have to leave at six today.\n"
        "Noor: right, see you Thursday then.\n"
        "Ivo: bye everyone.\n"
    )
    assert extract("meeting.txt", transcript).stories == []


# --- answers that only name a thing ---------------------------------------------------------------


def test_an_answer_that_only_names_a_thing_supports_the_request_and_is_no_story() -> None:
    transcript = (
        "Noor: could we also log the glaze recipes for each batch?\n"
        "Ivo: the glaze recipes, yes.\n"
        "Noor: and the kiln bookings?\n"
        "Ivo: kiln bookings, definitely.\n"
    )
    requirements = extract("meeting.txt", transcript)
    glaze = having(requirements, "log", "glaze recipes")
    assert glaze.traces[0].location.speaker == "Noor"
    # "the kiln bookings?" asks for nothing that can be built, and its answer adds nothing.
    assert titles(requirements) == [glaze.title]


# --- acceptance criteria keep their lists ----------------------------------------------------------


def test_a_criterion_keeps_every_item_of_a_listed_object() -> None:
    requirements = extract(
        "brief.md",
        "Members need to see the opening hours, the firing fee and the phone number of each studio.\n",
    )
    story = having(requirements, "opening hours")
    # what the member then sees names all three, not only the first
    assert [c.then for c in story.acceptance_criteria] == [
        "they see the opening hours, the firing fee and the phone number of each studio"
    ]


def test_talk_keeps_a_list_whole_and_ends_the_request_where_the_speaker_moves_on() -> None:
    transcript = (
        "Noor: the tutor should see the name, the skill level and the phone number of each member, "
        "but that can wait\n"
        "Ivo: agreed\n"
        "Noor: ok\n"
        "Ivo: ok\n"
    )
    story = having(extract("call.txt", transcript), "see")
    assert story.i_want == "to see the name, the skill level and the phone number of each member"


# --- what a thing holds -----------------------------------------------------------------------------


def test_a_possession_sentence_gives_a_story_to_keep_the_thing_with_its_fields() -> None:
    requirements = extract(
        "studio.md",
        "Each kiln has a name, a maximum temperature and a last service date.\n\nEach member has a locker.\n",
    )
    kiln = having(requirements, "kiln")
    assert kiln.title == "Record kilns"
    for field in ("name", "maximum temperature", "last service date"):
        assert field in criteria_text(kiln)
    assert len(requirements.stories) == 1, titles(requirements)  # one thing held is no record


def test_a_possession_sentence_adds_its_fields_to_the_story_that_already_keeps_the_thing() -> None:
    requirements = extract(
        "studio.md",
        "Technicians can add kilns and retire old ones.\n\n"
        "Every kiln has a name, a maximum temperature and a last service date.\n",
    )
    add = having(requirements, "add", "kiln")
    assert "last service date" in criteria_text(add)
    assert not [story for story in requirements.stories if story.title.lower().startswith("record kiln")]


# --- actors are people the text speaks of as people -------------------------------------------------


def test_a_word_shaped_like_an_agent_is_no_actor_until_the_text_uses_it_as_a_person() -> None:
    requirements = extract(
        "studio.md",
        "The thermometer records the temperature of every firing.\n\n"
        "Glaze mixers want to see the recipe of each glaze.\n\n"
        "The glaze mixer weighs each batch.\n",
    )
    actors = {story.as_a for story in requirements.stories}
    assert "thermometer" not in actors
    assert having(requirements, "recipe").as_a == "glaze mixer"
    assert having(requirements, "weigh").as_a == "glaze mixer"  # named as a person above


# --- e-mails ------------------------------------------------------------------------------------------

STUDIO_MAIL = """\
From: Noor Haddad <noor@example.org>
To: Studio committee <committee@example.org>
Subject: Studio site - first list
Date: Sat, 8 Jun 2024 10:00:00 +0000
Content-Type: text/plain; charset="utf-8"

Hi all,

After the open day, here is a first list for the studio site:
- members see which wheels are free on a given evening
- the studio manager can add and retire wheels

When a member reports a cracked shelf the kiln should be taken out of the firing list until a
technician marks it as safe. We also need a check that a member has done the induction before
they can book the kiln.

Noor
"""


def test_an_email_keeps_its_list_items_apart_and_reads_conditions_and_checks() -> None:
    requirements = extract("studio.eml", STUDIO_MAIL)
    assert having(requirements, "see", "wheels are free").as_a == "member"
    assert having(requirements, "add", "wheel").as_a == "studio manager"
    assert having(requirements, "retire", "wheel").as_a == "studio manager"
    taken = having(requirements, "kiln out of the firing list")
    assert taken.title == "Take the kiln out of the firing list"
    check = having(requirements, "induction")
    assert check.title == "Check that a member has done the induction"


def test_a_second_verb_with_its_own_object_ends_an_of_phrase() -> None:
    requirements = extract(
        "studio.md",
        "Members should be able to browse the catalogue of glazes online and reserve up to two kiln "
        "shelves before they come in.\n",
    )
    assert sorted(titles(requirements)) == [
        "Browse the catalogue of glazes online",
        "Reserve up to two kiln shelves",
    ]


def test_the_modal_of_a_benefit_is_not_the_requirement() -> None:
    requirements = extract(
        "studio.md",
        "A firing is recorded for each kiln with the date and the peak temperature, so that members can "
        "see how hot it ran.\n",
    )
    assert titles(requirements) == ["Record a firing for each kiln"]


def test_a_chat_wish_a_register_and_a_message_to_people_read_as_a_person_would() -> None:
    chat = (
        "[19:01] Noor: it would also be useful to search the glazes by colour\n"
        "[19:02] Ivo: +1\n"
        "[19:03] Noor: we need a register of every kiln shelf with its size\n"
        "[19:04] Ivo: and the technician should be able to lend shelves to a member and see who still "
        "has them\n"
        "[19:05] Noor: could we also send members a text when their pots are fired?\n"
        "[19:06] Ivo: +1\n"
    )
    requirements = extract("chat.txt", chat)
    assert having(requirements, "search", "glazes")
    assert having(requirements, "register", "shelf").title == "Keep a register of every kiln shelf"
    assert having(requirements, "who still has").i_want == "to see who still has them"
    text = having(requirements, "send", "text")
    assert [c.then for c in text.acceptance_criteria] == ["the text is sent"]


def test_a_colon_before_a_clause_and_a_second_subject_after_and_give_their_own_stories() -> None:
    requirements = extract(
        "studio.md",
        "Tutors need to run open evenings: a tutor creates an evening with a date and the number of "
        "wheels, and visitors sign up for it at the door.\n",
    )
    assert having(requirements, "create", "evening").i_want == (
        "to create an evening with a date and the number of wheels"
    )
    assert having(requirements, "sign up").as_a == "visitor"
    assert having(requirements, "run open evenings").as_a == "tutor"
