"""What a thing holds, read as a story to keep it: "Every boat has a name, a type and a seat count".

A sentence that says what each thing of a kind has, holds or contains names a record people keep,
with its fields. It gives a story to record that thing, the fields as its criterion, unless another
story of the document already creates or records the same thing: then the fields go to that story.
"""

from __future__ import annotations

import re

from assets.requirements.drafts import DraftCriterion
from assets.requirements.language import singular, words
from assets.requirements.offline.actions import Context, Found, draft, items
from assets.requirements.offline.criteria import derive_criteria
from assets.requirements.offline.people import looks_like_person
from assets.requirements.offline.phrasing import (
    DETERMINERS,
    POSSESSIVES,
    SYSTEM_WORDS,
    plural_noun,
    with_article,
)
from pipeline_core.possession import (
    HOLDING_PHRASES,
    HOLDING_VERBS,
    PERSON_HAVING_VERBS,
    SHOWING_VERBS,
    alternation,
)

_HOLDS = alternation(HOLDING_VERBS | SHOWING_VERBS, HOLDING_PHRASES)
# "Each seed packet has ...", "A member has ...", "Boats have ...": a kind of thing, then its fields.
_POSSESSION = re.compile(
    r"^(?:(?:and|also|then|so)\s+)?(?:(?P<det>each|every|any|an?|one)\s+|(?:the|our|their|all)\s+)?"
    r"(?P<thing>[A-Za-z][\w-]*(?:\s+[A-Za-z][\w-]*){0,2}?)\s+(?:also\s+|always\s+|usually\s+)?"
    rf"(?:{_HOLDS})\s+"
    r"(?:(?P<holder>an?\s+(?:[\w-]+\s+)?(?:profile|record|page|entry|card|form|file|sheet|label))\s+"
    r"(?:with|showing|listing|that (?:has|holds|shows|lists))\s+)?"
    r"(?P<fields>.+?)\.?$",
    re.I,
)
# Words after which a field list stops being one ("..., so that ...", "... when it is sold").
_FIELDS_END = re.compile(r",?\s+(?:so that|so|because|when|whenever|once|if|but|which means)\s+", re.I)
_NOT_THINGS = frozenset("it this that there we i you they he she one everyone someone nobody".split())
# Verbs of a story that makes or keeps the thing itself: such a story covers a possession sentence.
# ("book a boat" makes a booking, "borrow a packet" a loan: neither keeps the boat or the packet.)
_KEEPING_VERBS = frozenset(
    """add create record register enter log keep store track save upload post submit write import
    catalogue catalog capture make issue publish""".split()
)
# What a person has (a name, an e-mail): the verbs by which a person is a record too.
_HAVING = PERSON_HAVING_VERBS
_VIEWS = frozenset("list timetable calendar catalogue catalog overview table schedule rota board".split())


def possession(text: str, segment: int, context: Context) -> list[Found]:
    """The story one possession sentence gives (none when the sentence is no list of fields)."""
    match = _POSSESSION.match(text.strip())
    if match is None or context.today:
        return []
    thing_words = words(match["thing"])
    if not thing_words or thing_words[0] in _NOT_THINGS or thing_words[-1] in SYSTEM_WORDS:
        return []
    if context.product and match["thing"].strip().lower() == context.product.lower():
        return []  # the product's own name: what it offers is read elsewhere
    head = thing_words[-1]
    verb = words(text.strip()[match.end("thing") :])[:2]
    verb = [w for w in verb if w not in ("also", "always", "usually")][:1]
    if verb and verb[0] not in _HAVING and looks_like_person(match["thing"]):
        return []  # "Neighbours list the tools they lend, each with ...": people doing something
    if match["det"] is None and singular(head) == head:
        return []  # "Cooking has a long history": only "each / every / a" thing or a plural kind
    fields = _FIELDS_END.split(match["fields"], maxsplit=1)[0].strip(" ,.")
    listed = items(re.sub(r"^(?:the following|these|fields)\s*:?\s*", "", fields, flags=re.I))
    if any(
        re.match(r"^(?:\d|(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty)\b)", i)
        for i in listed
    ):
        return []  # "holds twelve prints and a timer": how many, not what is recorded
    if len(listed) < 2 or any(len(item.split()) > 7 for item in listed):
        return []  # one thing held ("each member has a locker") or a clause: no record to keep
    if not re.search(r"\b(?:and|or)\b|,", fields):
        return []
    noun = " ".join(thing_words)
    if match["holder"]:
        holder = re.sub(r"^an?\s+", "", match["holder"].strip(), flags=re.I)
        want = f"to keep {with_article(holder)} of each {singular(noun)} with {fields}"
    else:
        want = f"to record {plural_noun(noun) if singular(head) == head else noun} with {fields}"
    priority = context.priority or "Should"
    found = draft(context.actor or "user", want, None, None, priority, text, segment)
    found.describes = " ".join([*thing_words[:-1], singular(head)])
    return [found]


def _covers(found: Found, thing: str) -> bool:
    """True when a story adds or keeps the thing itself: "add boats", "keep a list of fixers".

    A story that only shows the thing ("browse the catalogue of varieties") keeps no record of it.
    """
    tokens = words(found.story.i_want)
    if tokens[:1] == ["to"]:
        tokens = tokens[1:]
    if not tokens or tokens[0] not in _KEEPING_VERBS:
        return False
    rest = [t for t in tokens[1:] if t not in ("up", "in", "out", "on", "track", "of")]
    rest = [t for t in rest if t not in DETERMINERS and t not in POSSESSIVES]
    if len(rest) >= 2 and rest[0] in _VIEWS:  # "keep a list of fixers": the things the list holds
        return singular(rest[1]) == thing.split()[-1]
    wanted = thing.split()
    for size in (len(wanted), 1):
        said = [singular(t) for t in rest[:size]]
        if said == wanted[-size:] and (len(rest) == size or rest[size] in _AFTER_OBJECT):
            return True
    return False


_AFTER_OBJECT = frozenset("with for by from to in on at of and or when once so that as per into".split())


def fold_possessions(found: list[Found]) -> list[Found]:
    """Possession stories whose thing another story already adds or keeps become that story's
    criterion: the fields it saves."""
    kept: list[Found] = []
    for item in found:
        thing = item.describes
        covering = (
            next((o for o in found if o is not item and not o.describes and _covers(o, thing)), None)
            if thing
            else None
        )
        if covering is None or thing is None:
            kept.append(item)
            continue
        fields = re.split(r"\s+with\s+", item.story.i_want, maxsplit=1)[-1]
        if not covering.criteria:
            covering.criteria = derive_criteria(covering.story, covering.why_kind)
        if not re.search(r"\s(?:with|including)\s", covering.story.i_want):
            # "to add singers" + "a singer comes with a name, ...": the story says what it saves
            covering.story.i_want = f"{covering.story.i_want} with {fields}"
        covering.criteria.append(
            DraftCriterion(
                given=with_article(covering.story.as_a or "user"),
                when=f"they {covering.story.i_want.removeprefix('to ')}",
                then=f"each {thing} is saved with {fields}",
            )
        )
    return kept
