"""Offline extraction on document styles no corpus project has, written before the rules.

Four documents in domains no rule or corpus document uses (an apiary, a youth theatre's costume
store, a pub quiz, a community fridge), each in a style the quality corpus lacks:

- a chat log with bracketed ISO time stamps and lower-case nicknames, where a request is phrased
  "we should have a way to ...", remarks put ideas off ("not now though", "maybe next year"),
  and people ask for a state change and a ranking;
- committee notes as bullets in `Label: text` style, one bullet per thing: a rule, a booking with
  its states, a list to keep, a monthly total, a thing with its fields, a deferral;
- a one-line brief that names the things and their fields ("..., each with a theme and ...");
- a Q&A page (`Q:` / `A:` lines) whose answers are the requirements.

The stories a person would write are the expectations; the documents go through the real parser.
"""

from __future__ import annotations

import re

from assets.requirements.models import RequirementsSet
from tests.support.requirements_text import criteria_text, having, titles
from tests.support.requirements_text import extract as extract_text


def extract(name: str, text: str) -> RequirementsSet:
    return extract_text(name, text, project="unseen")


def story_texts(requirements: RequirementsSet) -> str:
    return " || ".join(f"{s.title} | {s.i_want} | {s.so_that}" for s in requirements.stories).lower()


def excluded_for(requirements: RequirementsSet, words: str) -> str:
    """The reason the statement holding `words` was left out ('' when it was not)."""
    return next((item.reason for item in requirements.excluded if words in item.text.lower()), "")


# --- a chat log with bracketed ISO time stamps ---------------------------------------------------

APIARY_CHAT = """\
[2026-03-04 19:02] mira: evening all, quick one about the apiary app
[2026-03-04 19:03] tomas: we should have a way to mark a hive as inspected
[2026-03-04 19:03] mira: yes please
[2026-03-04 19:05] mira: and we need to retire hives that died over winter
[2026-03-04 19:06] tomas: swarm alerts by text? not now though
[2026-03-04 19:07] jun: could we see the top 5 hives by honey yield each season?
[2026-03-04 19:08] mira: good shout
[2026-03-04 19:09] jun: queen rearing records maybe next year
[2026-03-04 19:10] tomas: also keepers should log each harvest with the hive, the date and the weight
"""


def test_a_way_to_do_something_is_the_story_of_doing_it() -> None:
    requirements = extract("apiary-chat.txt", APIARY_CHAT)
    mark = having(requirements, "mark", "inspected")
    assert mark.title == "Mark a hive as inspected"
    assert "way" not in story_texts(requirements)


def test_a_state_change_and_a_ranking_asked_for_in_a_chat_are_stories() -> None:
    requirements = extract("apiary-chat.txt", APIARY_CHAT)
    retire = having(requirements, "retire", "hive")
    assert retire.title.startswith("Retire hives")
    ranking = having(requirements, "top 5 hives")
    assert "honey yield" in ranking.i_want
    harvest = having(requirements, "log", "harvest")
    assert harvest.as_a == "keeper"
    for field in ("hive", "date", "weight"):
        assert field in criteria_text(harvest)


def test_a_deferral_in_a_chat_is_left_out_with_its_reason() -> None:
    requirements = extract("apiary-chat.txt", APIARY_CHAT)
    texts = story_texts(requirements)
    for words in ("swarm", "not now", "queen", "next year"):
        assert words not in texts
    assert "later" in excluded_for(requirements, "swarm alerts")
    assert "later" in excluded_for(requirements, "queen rearing")
    assert len(requirements.stories) == 4, titles(requirements)


# --- committee notes: one `Label: text` bullet per thing -----------------------------------------

COSTUME_NOTES = """\
Costume store - committee notes, 12 March

- Rails: a rail holds at most 40 costumes
- We need to book a fitting and mark it requested, done or cancelled
- Wigs: keep a list with size, colour and the show they were last worn in
- Each term: total loans per show
- Costumes: each costume has a size, a period and a rail
- Online hire: not this year
- Actors: an actor can borrow at most 3 costumes at a time
"""


def test_a_labelled_rule_is_a_limit_not_a_glossary_entry() -> None:
    requirements = extract("committee-notes.txt", COSTUME_NOTES)
    rails = having(requirements, "limit", "rail")
    assert "40 costumes" in rails.i_want
    assert "refused" in criteria_text(rails)
    actors = having(requirements, "limit", "actor")
    assert "3 costumes" in actors.i_want
    assert not [item for item in requirements.excluded if "holds at most" in item.text]


def test_a_booking_with_its_states_gives_the_booking_and_the_marking() -> None:
    requirements = extract("committee-notes.txt", COSTUME_NOTES)
    assert having(requirements, "book", "fitting").title == "Book a fitting"
    mark = having(requirements, "mark", "fitting")
    for state in ("requested", "done", "cancelled"):
        assert state in mark.i_want


def test_a_labelled_list_a_total_and_a_thing_with_fields_read_with_their_label() -> None:
    requirements = extract("committee-notes.txt", COSTUME_NOTES)
    wigs = having(requirements, "wig")
    assert wigs.title.startswith("Keep a list of wigs")
    for field in ("size", "colour", "show"):
        assert field in criteria_text(wigs)
    assert "the show they were last worn" in wigs.i_want  # the wigs were worn, not the writer
    total = having(requirements, "total loans per show")
    assert "term" in total.i_want
    costumes = having(requirements, "record", "costume")
    for field in ("size", "period", "rail"):
        assert field in criteria_text(costumes)


def test_a_labelled_deferral_is_left_out_with_its_reason() -> None:
    requirements = extract("committee-notes.txt", COSTUME_NOTES)
    assert "online hire" not in story_texts(requirements)
    assert "later" in excluded_for(requirements, "online hire")
    assert len(requirements.stories) == 7, titles(requirements)


# --- a one-line brief that names the fields ---------------------------------------------------------


def test_a_one_line_brief_gives_a_story_per_thing_with_its_fields_in_the_criteria() -> None:
    brief = "A small app to plan our quiz nights with rounds, each with a theme and a number of questions.\n"
    requirements = extract("brief.txt", brief)
    assert len(requirements.stories) >= 2, titles(requirements)
    rounds = having(requirements, "round")
    assert "theme" in criteria_text(rounds)
    assert "number of questions" in criteria_text(rounds)
    assert having(requirements, "plan", "quiz night")


# --- a Q&A page -----------------------------------------------------------------------------------

FRIDGE_QA = """\
Community fridge - what we want from the app

Q: Who will use it?
A: Our volunteers and the coordinator.

Q: What should volunteers be able to do?
A: Log each donation with the item, the weight and the best-before date. Remove an item when it is taken.

Q: And the coordinator?
A: A weekly total of donated weight per donor.

Q: What about taking payments for deliveries?
A: Maybe next year.
"""


def test_the_answers_of_a_q_and_a_page_are_the_requirements_of_whom_the_question_names() -> None:
    requirements = extract("faq.txt", FRIDGE_QA)
    donation = having(requirements, "log", "donation")
    assert donation.as_a == "volunteer"
    for field in ("item", "weight", "best-before date"):
        assert field in criteria_text(donation)
    assert having(requirements, "remove", "item").as_a == "volunteer"
    total = having(requirements, "weekly total")
    assert total.as_a == "coordinator"
    for story in requirements.stories:
        assert not re.match(r"^(?:who|what|and)\b", story.title, re.I), story.title


def test_a_deferred_answer_leaves_its_question_out() -> None:
    requirements = extract("faq.txt", FRIDGE_QA)
    assert "payment" not in story_texts(requirements)
    assert "later" in excluded_for(requirements, "payments")
    assert len(requirements.stories) == 3, titles(requirements)


# --- causes found on the quality corpus, checked in words of their own ------------------------------


def test_two_states_of_one_thing_stay_two_stories_and_keep_their_whole_state() -> None:
    text = "After each visit the keeper marks the hive as healthy, or marks it as in need of treatment.\n"
    requirements = extract("hives.md", text)
    healthy = having(requirements, "healthy")
    treatment = having(requirements, "need of treatment")
    assert healthy.title == "Mark the hive as healthy"
    assert "shown as in need of treatment" in criteria_text(treatment)


BEEKEEPING_MINUTES = """\
Apiary committee - minutes

Present: Hana (apiary manager), Piet, Lou

- Weak colonies get merged: Hana marks a colony as merged when its bees join another hive.
- Hana looks after the keepers: she adds keepers, lists them by apiary and removes the ones who have left.
- Piet asked for a count of hives per apiary. Agreed.
- For each hive we store the name, the apiary and the date the queen was marked.
- When a hive dies we retire it from the apiary list.
"""


def test_minutes_name_people_by_role_and_report_requests() -> None:
    requirements = extract("minutes.txt", BEEKEEPING_MINUTES)
    merged = having(requirements, "colony as merged")
    assert merged.as_a == "apiary manager"  # "Hana (apiary manager)"
    assert having(requirements, "add", "keeper").as_a == "apiary manager"  # "she" is Hana
    assert having(requirements, "list", "keeper").title == "List keepers by apiary"
    removed = having(requirements, "remove")
    assert "keepers" in removed.title  # "the ones who have left" are the keepers
    count = having(requirements, "count of hives per apiary")
    assert count.title.startswith("See a count of hives")
    hives = having(requirements, "record", "hive")
    for field in ("name", "apiary", "date the queen was marked"):
        assert field in criteria_text(hives)
    retire = having(requirements, "retire")
    assert retire.i_want == "to retire the hive from the apiary list"  # "it": the hive
    assert not [item for item in requirements.excluded if "glossary" in item.reason]


def test_people_doing_things_with_a_listed_object_are_actions_not_a_record() -> None:
    requirements = extract(
        "swap.md",
        "Members offer the plants they can spare, each with a name, a pot size and a photo. Other members "
        "browse the plants by pot size and ask to take one for their garden. The owner accepts or declines "
        "each ask. Growers log every watering and every repotting, with the date and any notes.\n",
    )
    offer = having(requirements, "offer", "plants")
    assert offer.as_a == "member"
    assert not [s for s in requirements.stories if s.title.lower().startswith("record members")]
    assert having(requirements, "ask to take").i_want.startswith("to ask to take a plant")
    assert having(requirements, "accept").title == "Accept each ask"
    assert having(requirements, "decline").title == "Decline each ask"
    assert having(requirements, "watering").title == "Log every watering"
    assert having(requirements, "repotting").title == "Log every repotting"
    assert having(requirements, "browse").as_a == "member"  # "Other members": members


def test_a_noun_named_as_an_alternative_stays_in_the_object() -> None:
    text = "Keepers log each inspection or treatment against a hive with the date.\n"
    requirements = extract("hives.md", text)
    assert titles(requirements) == ["Log each inspection or treatment against a hive"]


def test_notes_on_values_rules_and_complaints_read_as_a_person_would() -> None:
    requirements = extract(
        "notes.md",
        "## Features\n\n"
        "- Each hive gets a temper: calm, nervous or aggressive\n"
        "- Honey in store never drops below zero: a sale larger than the store is refused\n"
        "- Each jar records the hive, the harvest date and the weight\n"
        "- Every jar comes from one hive\n\n"
        "At the moment we can never tell which hives are due an inspection.\n",
    )
    temper = having(requirements, "temper")
    assert temper.title == "Give each hive a temper"
    assert "calm, nervous or aggressive" in temper.i_want
    rule = having(requirements, "prevent")
    assert rule.title == "Prevent honey in store from dropping below zero"
    assert rule.acceptance_criteria[0].then == "a sale larger than the store is refused"
    jars = having(requirements, "record", "jar")
    for field in ("hive", "harvest date", "weight"):
        assert field in criteria_text(jars)
    assert len(requirements.stories) == 3, titles(requirements)  # "comes from" and the complaint ask nothing


def test_a_meeting_verb_with_a_thing_of_the_product_is_an_action() -> None:
    chat = (
        '[{"user": "ana", "text": "keepers should be able to move a hive to another apiary or retire it", '
        '"ts": "2025-04-02T09:00:00Z"}]'
    )
    requirements = extract("chat.json", chat)
    assert having(requirements, "move", "apiary").as_a == "keeper"
    assert having(requirements, "retire")


def test_people_named_by_what_they_do_are_the_actor_and_their_things_the_object() -> None:
    requirements = extract(
        "about.md", "Combly is a small web app that lets people who keep bees look after them.\n"
    )
    story = having(requirements, "look after")
    assert story.as_a == "bee keeper"
    assert story.i_want == "to look after the bees"


def test_a_turn_that_names_a_figure_after_its_occasion_asks_to_see_it() -> None:
    transcript = (
        "Mira: we need to log every harvest with the hive and the weight.\n"
        "Tomas: And for the spring meeting, uh, the number of hives lost each winter.\n"
        "Mira: Yes. And for each apiary, how many jars we've sold and the takings.\n"
        "Tomas: Great.\n"
    )
    requirements = extract("call.txt", transcript)
    lost = having(requirements, "number of hives lost")
    assert lost.i_want == "to see the number of hives lost each winter for the spring meeting"
    sold = having(requirements, "how many jars")
    assert sold.title.startswith("See how many jars")


def test_fields_of_a_thing_another_story_adds_go_into_that_story() -> None:
    requirements = extract(
        "notes.txt",
        "- The apiary manager looks after the keepers: she adds keepers and lists them by apiary.\n"
        "- A keeper comes with a name, a phone number and a training level.\n",
    )
    add = having(requirements, "add", "keeper")
    assert add.title == "Add keepers"
    assert add.i_want == "to add keepers with a name, a phone number and a training level"
    assert not [s for s in requirements.stories if s.title.startswith("Record keepers")]


def test_talk_about_a_club_names_its_records_answers_and_reviews() -> None:
    transcript = (
        "Ines: members should be able to book a hive visit.\n"
        "Ravi: We visit once a season, so each visit has a date, a host and an apiary.\n"
        "Ines: People should be able to say if they're coming.\n"
        "Ravi: Oh, and after a visit, members leave a short note with a rating out of five.\n"
        "Ines: ok\n"
    )
    requirements = extract("call.txt", transcript)
    visits = having(requirements, "record", "visit")
    for field in ("date", "host", "apiary"):
        assert field in criteria_text(visits)
    coming = having(requirements, "coming")
    assert coming.i_want == "to say if I'm coming"
    assert having(requirements, "leave", "note").as_a == "member"


def test_reporting_in_a_condition_is_a_story_and_where_the_tracker_runs_is_none() -> None:
    requirements = extract(
        "spec.txt",
        "R1. Keepers shall log each inspection of a hive.\n"
        "R2. When someone reports a swarm the hive shall be marked as swarmed.\n"
        "R3. The tracker shall show the number of hives per apiary.\n\n"
        "Deployment\n\nThe tracker runs on the club's own server behind the village VPN.\n",
    )
    assert having(requirements, "report", "swarm").as_a == "keeper"  # someone: the people named
    assert having(requirements, "mark the hive as swarmed")
    assert "server" not in story_texts(requirements)


def test_one_backlog_keeps_stories_that_differ_in_actor_or_action() -> None:
    backlog = (
        "As a keeper, I want to add apiary information, so that the list is right.\n"
        "As a chair, I want to update the apiary information, so that it stays current.\n"
        "As a keeper, I want to have a flexible inspection time, so that I can plan.\n"
        "As a keeper, I want to choose a flexible inspection time, so that I can plan.\n"
        "As a keeper, I want to export the hive list, so that I can print it.\n"
        "As a keeper, I want to export the hive list as a file, so that I can print it.\n"
    )
    requirements = extract("backlog.txt", backlog)
    assert len(requirements.stories) == 5, titles(requirements)  # only the two exports are one story
    assert having(requirements, "update", "apiary").as_a == "chair"


def test_going_on_a_list_in_talk_is_joining_it() -> None:
    transcript = (
        "Ines: Members book a hive visit, yes.\n"
        "Ravi: What happens when it's full?\n"
        "Ines: Then they go on a waiting list, and if someone cancels, the first one gets the place.\n"
        "Ravi: ok\n"
    )
    join = having(extract("call.txt", transcript), "waiting list")
    assert (join.title, join.as_a) == ("Join a waiting list", "member")


def test_a_statement_said_with_yes_is_no_bare_answer() -> None:
    transcript = "Ines: Members book a kayak, yes.\nRavi: ok\nInes: fine\nRavi: ok\n"
    kayak = having(extract("call.txt", transcript), "book", "kayak")
    assert (kayak.as_a, kayak.i_want) == ("member", "to book a kayak")


def test_an_answer_listing_fields_says_what_the_thing_asked_about_holds() -> None:
    transcript = (
        "Ines: Keepers book a hive visit, yes.\n"
        "Ravi: And the keepers themselves, do they need profiles?\n"
        "Ines: Name, phone, and their training level, basic or advanced.\n"
        "Ravi: ok\n"
    )
    profile = having(extract("call.txt", transcript), "profile")
    assert profile.as_a == "keeper"
    assert profile.i_want == "to have a profile with name, phone and my training level (basic or advanced)"
