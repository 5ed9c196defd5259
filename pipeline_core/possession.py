"""The verbs by which a sentence says what a kind of thing holds: "each boat has a name, a type and
a seat count", "a loan holds the score, the singer and the date", "a singer comes with a name".

One list for both offline readers: the requirements stage finds such a sentence and makes it a story
to keep the thing (`assets.requirements.offline.possession`), the architecture reads the thing and
its fields (`assets.architecture.descriptions`). Plain English words, never the words of a document.
"""

from __future__ import annotations

from typing import Final


def verb_forms(bases: tuple[str, ...]) -> frozenset[str]:
    """The base forms and their third person ("have" -> has, "carry" -> carries, "hold" -> holds)."""
    forms: set[str] = set()
    for base in bases:
        forms.add(base)
        if base == "have":
            forms.add("has")
        elif base.endswith("y") and base[-2:-1] not in "aeiou":
            forms.add(base[:-1] + "ies")
        elif base.endswith(("s", "sh", "ch", "x", "z")):
            forms.add(base + "es")
        else:
            forms.add(base + "s")
    return frozenset(forms)


# What a thing has, whoever keeps it: "each member has ...", "every kit contains ...".
HOLDING_BASES: Final = ("have", "hold", "contain", "include", "carry", "store", "keep", "list", "need")
# What a thing shows of itself: "each card shows the title and the due date".
SHOWING_BASES: Final = ("show",)
# Verbs of keeping a record that a person also does ("the family records feeding times"): a thing's
# fields only after "each", "every", "a" or "an" ("each stay records the dog, ...").
RECORDING_BASES: Final = ("record", "capture", "note", "track")
# "a singer comes with a name and an e-mail address": the fields follow "with".
COMING_WITH_BASES: Final = ("come", "arrive")
# Words of having made of more than one: "a kit is made up of ...", "a menu consists of ...".
HOLDING_PHRASES: Final = (
    "is made up of",
    "are made up of",
    "consists of",
    "consist of",
    "comes with",
    "come with",
)

HOLDING_VERBS: Final = verb_forms(HOLDING_BASES)
SHOWING_VERBS: Final = verb_forms(SHOWING_BASES)
RECORDING_VERBS: Final = verb_forms(RECORDING_BASES)
COMING_WITH_VERBS: Final = verb_forms(COMING_WITH_BASES)
# The possession verbs a person does too ("we keep ...", "they list ..."): a thing's fields only
# when the subject is a thing named with "each", "every", "a" or "an".
PERSON_DOABLE_VERBS: Final = RECORDING_VERBS | verb_forms(("store", "keep", "list", "carry", "need"))
# What a person has, by which a person is a record too: "a member has a name and an e-mail".
PERSON_HAVING_VERBS: Final = verb_forms(("have", "come", "need"))


def alternation(verbs: frozenset[str], phrases: tuple[str, ...] = ()) -> str:
    """A regular-expression alternation of the words and phrases, longest first (no groups)."""
    choices = sorted({*verbs, *phrases}, key=lambda text: (-len(text), text))
    return "|".join(choice.replace(" ", r"\s+") for choice in choices)
