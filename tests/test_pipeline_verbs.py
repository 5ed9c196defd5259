"""The one verb table: what a verb does, its coarse operation, multi-word verbs, and that the
requirements, architecture and story_builds stages read the same meaning from it."""

from __future__ import annotations

import pytest

from assets.architecture.models import Entity, EntityField
from assets.architecture.phrases import VerbUse, verb_uses
from assets.requirements.language import verb_objects
from assets.story_builds.offline.actions import read_clause
from pipeline_core.verbs import (
    PHRASAL_VERBS,
    VERB_KINDS,
    is_verb,
    makes_records,
    operation,
    verb_at,
    verb_kind,
)


@pytest.mark.parametrize(
    ("verb", "kind", "coarse"),
    [
        ("add", "create", "create"),
        ("store", "create", "create"),
        ("reserve", "create", "create"),
        ("view", "read", "read"),
        ("export", "list", "list"),
        ("search", "search", "list"),
        ("filter", "filter", "list"),
        ("sort", "sort", "list"),
        ("rename", "update", "update"),
        ("remove", "delete", "delete"),
        ("track", "manage", "create"),
        ("approve", "state", "update"),
        ("close", "state", "update"),
    ],
)
def test_a_verb_has_one_kind_and_one_coarse_operation(verb: str, kind: str, coarse: str) -> None:
    assert verb_kind(verb) == kind
    assert operation(verb) == coarse


def test_words_that_are_no_verb_of_a_record_have_no_meaning() -> None:
    for word in ("happen", "task", "quickly", "be"):
        assert verb_kind(word) is None
        assert operation(word) is None
        assert not is_verb(word)
        assert not makes_records(word)


def test_multi_word_verbs_are_one_entry_whichever_way_they_are_written() -> None:
    assert verb_kind("set up") == verb_kind("set_up") == "create"
    assert verb_kind("look up") == "read"
    assert verb_kind("keep track of") == "manage"
    assert ("keep", "track", "of") in PHRASAL_VERBS
    assert all("_".join(words) in VERB_KINDS for words in PHRASAL_VERBS)


def test_verb_at_reads_the_longest_verb_and_says_where_it_ends() -> None:
    tokens = "to keep track of donations".split()
    assert verb_at(tokens, 1) == ("keep_track_of", 4)
    assert verb_at("keep the receipts".split(), 0) == ("keep", 1)
    assert verb_at("set up a club".split(), 0) == ("set_up", 2)
    assert verb_at("the club".split(), 0) is None
    assert verb_at(["add"], 1) is None  # past the end


def test_records_are_made_by_create_and_manage_verbs_only() -> None:
    assert makes_records("record") and makes_records("book") and makes_records("keep_track_of")
    assert not makes_records("view") and not makes_records("approve") and not makes_records("delete")


def test_requirements_read_every_verb_of_the_table() -> None:
    # "store", "track", "reserve" were unknown to the requirements' own table.
    [stored] = verb_objects("to store a recipe with its ingredients")
    assert (stored.verb, stored.operation, stored.noun) == ("store", "create", "recipe")
    [tracked] = verb_objects("to keep track of donations")
    assert (tracked.verb, tracked.operation, tracked.noun) == ("keep_track_of", "create", "donation")
    [booked, cancelled] = verb_objects("to reserve or cancel a room")
    assert (booked.operation, cancelled.operation, cancelled.noun) == ("create", "update", "room")
    [looked] = verb_objects("to look up a book")
    assert (looked.verb, looked.operation, looked.noun) == ("look_up", "read", "book")


def test_architecture_and_requirements_agree_on_a_verb() -> None:
    [use] = [use for use in verb_uses("to capture a decision") if use.obj is not None]
    assert isinstance(use, VerbUse) and use.verbs == ("capture",)
    [found] = verb_objects("to capture a decision")
    assert operation(use.verbs[0]) == found.operation == "create"


def _entity(name: str) -> Entity:
    fields = [EntityField(name="id", type="integer"), EntityField(name="name", type="string")]
    return Entity(name=name, fields=fields)


def test_story_builds_read_the_same_operation_as_the_requirements() -> None:
    entities = [_entity("Donation"), _entity("Recipe")]
    stored = read_clause("they store a recipe", entities)
    assert (stored.kind, stored.entity) == ("create", "Recipe")
    tracked = read_clause("they keep track of a donation", entities)
    assert (tracked.kind, tracked.entity) == ("create", "Donation")
    # A state change no field names is only shown by the model's transition, never a generic edit.
    assert read_clause("they approve a donation", entities).kind == "other"
