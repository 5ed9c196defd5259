"""Rules of English requirement text seen failing on documents written fresh (not corpus text).

Each test uses sentences written here, in a domain no corpus project uses (a small harbour):

- a parenthesised list of values is a field's allowed values, never a story, and a title never
  starts or ends inside a bracket;
- a passive requirement ("a mooring can be rented to a boat owner", "each refund must be approved
  by the harbour master") is a story: its actor is the "by" person (or the text's main actor), its
  object the passive subject;
- "currently ..." describes today and is left out, but what the same sentence then wants stays;
- a phrasal verb (hand over, check in, pick up) stays one verb in titles, criteria and passives;
- a summary asked "per X and per Y" keeps both groupings.
"""

from __future__ import annotations

import re

from assets.requirements.models import RequirementsSet
from assets.requirements.offline.phrasing import title_of
from tests.support.requirements_text import criteria_text, extract, having


def wants(requirements: RequirementsSet) -> list[str]:
    return [story.i_want for story in requirements.stories]


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


# --- brackets -------------------------------------------------------------------------------------


def test_a_bracketed_list_of_values_is_no_story() -> None:
    requirements = extract(
        "harbour.md",
        "# Boats\n\nEach boat has a name, a length and a state (in service, needs repair, laid up).\n",
    )
    assert requirements.stories, "the boat and what it holds is a story"
    for story in requirements.stories:
        assert _balanced(story.title), story.title
        assert not re.match(r"^(?:to )?repair\b", story.i_want, re.I), story.i_want


def test_a_checklist_line_with_allowed_values_gives_no_story_from_inside_the_bracket() -> None:
    requirements = extract(
        "checklist.md",
        "# Mooring checklist\n\n- buoy number\n- sail state (sound, needs repair, condemned)\n",
    )
    for story in requirements.stories:
        assert _balanced(story.title), story.title
        assert not re.match(r"^(?:to )?repair\b", story.i_want, re.I), story.i_want
        assert "condemned)" not in story.title


def test_a_title_is_never_cut_inside_a_bracket() -> None:
    title = title_of(
        "to register a rowing boat and its storage rack (upper, middle or lower) for the whole winter season"
    )
    assert _balanced(title), title
    assert title == "Register a rowing boat and its storage rack"


# --- passives -------------------------------------------------------------------------------------

PASSIVES = """\
# Moorings

A harbour clerk runs the office. A mooring can be rented to a boat owner.
Each refund must be approved by the harbour master. A berth booking can be cancelled.
"""


def test_a_passive_with_can_is_a_story_of_the_main_actor() -> None:
    requirements = extract("moorings.md", PASSIVES)
    rent = having(requirements, "rent")
    assert rent.title == "Rent a mooring to a boat owner"
    assert rent.as_a == "harbour clerk"
    cancel = having(requirements, "cancel")
    assert cancel.title == "Cancel a berth booking"


def test_a_passive_by_a_person_is_that_persons_story() -> None:
    requirements = extract("moorings.md", PASSIVES)
    approve = having(requirements, "approve")
    assert approve.as_a == "harbour master"
    assert approve.title == "Approve each refund"
    assert "by the harbour master" not in approve.i_want


def test_a_passive_phrasal_verb_keeps_its_particle() -> None:
    requirements = extract("visitors.md", "Visiting yachts can be checked in by the night porter.\n")
    check = having(requirements, "check")
    assert check.title == "Check in visiting yachts"
    assert check.as_a == "night porter"


def test_a_passive_of_a_state_is_no_story() -> None:
    requirements = extract("notes.md", "The quay can be busy in summer. The slipway can be slippery.\n")
    assert requirements.stories == []


# --- today ----------------------------------------------------------------------------------------


def test_currently_leaves_out_today_but_keeps_what_is_wanted() -> None:
    requirements = extract(
        "harbour-notes.md",
        "The harbour app is for our small marina.\n\n"
        "Currently we keep the bookings in a paper diary. Currently we can't tell which moorings are "
        "free, so we need a map of free moorings.\n",
    )
    story = having(requirements, "map")
    assert "free moorings" in story.i_want
    assert "can't" not in story.i_want and "refuse" not in story.title.lower()
    excluded = " | ".join(item.text for item in requirements.excluded)
    assert "paper diary" in excluded
    assert "which moorings are free" in excluded
    assert "map" not in excluded


# --- phrasal verbs --------------------------------------------------------------------------------

TABLE = """\
| Feature | Who | Priority |
|---|---|---|
| Hand over the gate keys | Harbour master | Must |
| Check in a visiting yacht | Night porter | Must |
| Pick up a lost fender | Boat owner | Could |
"""


def test_a_phrasal_verb_stays_one_verb_in_criteria() -> None:
    requirements = extract("features.md", TABLE)
    hand = having(requirements, "hand over")
    assert hand.title == "Hand over the gate keys"
    text = criteria_text(hand)
    assert "the over" not in text
    assert "the gate keys are handed over" in text
    assert "the visiting yacht is checked in" in criteria_text(having(requirements, "check in"))
    assert "the lost fender is picked up" in criteria_text(having(requirements, "pick up"))


# --- groupings ------------------------------------------------------------------------------------


def test_a_summary_per_two_groupings_keeps_both_in_its_criterion() -> None:
    requirements = extract(
        "fees.md", "The treasurer wants to see the mooring fees per pontoon and per month.\n"
    )
    story = having(requirements, "fees")
    assert "per pontoon and per month" in story.i_want
    assert "per pontoon and per month" in criteria_text(story)


def test_a_report_bullet_with_two_groupings_is_a_story_that_keeps_them() -> None:
    requirements = extract("reports.md", "# Reports\n\n- Monthly totals of fees per pontoon and per month\n")
    story = having(requirements, "fees")
    assert "per pontoon and per month" in story.i_want


def test_a_title_keeps_groupings_joined_by_and_whole() -> None:
    title = title_of("to see the monthly totals of fees per pontoon and per month")
    assert title == "See the monthly totals of fees per pontoon and per month"


# --- a noun that is a verb too --------------------------------------------------------------------


def test_a_feature_named_by_a_noun_before_of_is_no_action() -> None:
    requirements = extract("features.md", "# Features\n\n- List of moorings with their depth\n")
    [story] = requirements.stories
    assert story.title == "See the list of moorings"
    assert not story.i_want.lower().startswith("to list of")


# --- the actor named in the text --------------------------------------------------------------------


def test_a_person_who_needs_a_thing_is_its_actor() -> None:
    requirements = extract(
        "fees-note.md", "The harbour treasurer needs a report of mooring fees per pontoon and per month.\n"
    )
    story = having(requirements, "report")
    assert story.as_a == "harbour treasurer"
    assert "per pontoon and per month" in story.i_want


def test_a_thing_that_needs_details_is_no_person() -> None:
    requirements = extract(
        "berths.md", "The harbour clerk keeps the berths. Each berth needs a number, a length and a depth.\n"
    )
    assert all(story.as_a != "berth" for story in requirements.stories)
