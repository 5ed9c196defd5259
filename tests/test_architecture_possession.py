"""The one list of possession verbs (`pipeline_core.possession`) that the offline requirements and
the offline architecture both read: the forms it gives, and both readers on sentences written here."""

from __future__ import annotations

import re

from assets.architecture.descriptions import descriptions
from pipeline_core.possession import (
    HOLDING_PHRASES,
    HOLDING_VERBS,
    PERSON_DOABLE_VERBS,
    alternation,
    verb_forms,
)


def test_verb_forms_give_the_third_person() -> None:
    assert verb_forms(("have", "carry", "hold", "finish", "stay")) == {
        "have",
        "has",
        "carry",
        "carries",
        "hold",
        "holds",
        "finish",
        "finishes",
        "stay",
        "stays",
    }


def test_the_alternation_matches_every_form_and_phrase_whole() -> None:
    pattern = re.compile(rf"^(?:{alternation(HOLDING_VERBS, HOLDING_PHRASES)})$")
    for text in ("has", "contains", "carries", "is made up of", "consists  of", "comes with"):
        assert pattern.match(text), text
    assert not pattern.match("hasn") and not pattern.match("made up of")


def test_the_architecture_reads_a_thing_by_every_holding_verb() -> None:
    for verb in sorted(HOLDING_VERBS - PERSON_DOABLE_VERBS):
        if verb in ("have", "hold", "contain", "include"):
            continue  # plural forms: "each crate" takes the third person
        [found] = descriptions(f"each crate {verb} a label, a weight and a shelf")
        assert found.thing.words == ("crate",), verb
        assert [item.name for item in found.fields] == ["label", "weight", "shelf"]


def test_a_person_doing_a_recording_verb_describes_nothing() -> None:
    assert descriptions("the keeper records the feeding time, the food and the amount") == []
    [found] = descriptions("every feeding records the time, the food and the amount")
    assert found.thing.words == ("feeding",)


def test_the_requirements_read_a_possession_sentence_by_the_shared_verbs() -> None:
    from assets.requirements.offline.possession import _POSSESSION

    match = _POSSESSION.match("Each crate carries a label, a weight and a shelf.")
    assert match is not None and match["thing"] == "crate"
    assert _POSSESSION.match("Every kit is made up of a tent, a stove and a map") is not None
