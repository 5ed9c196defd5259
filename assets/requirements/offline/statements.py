"""One sentence read as requirements: which form it is written in, and the reader for that form.

- user stories ("As a clerk, I want to ..."; "When I open a class I want to ...") are read here;
- product prose, feature lists and one-line briefs: `product`;
- modal statements ("shall / must / should / need to / can / will / nice to have"): `modal`, with
  limits and prohibitions in `limits` and wanted noun phrases in `wanted`;
- present-tense statements and bare feature bullets under a features heading: `present`;
- what a thing holds ("Every boat has a name, a type and a seat count"): `possession`.

A sentence may hold several actions ("add their pets and record each vet visit"): one story each.
"""

from __future__ import annotations

import re

from lemminflect import getLemma

from assets.requirements.language import singular
from assets.requirements.models import Priority
from assets.requirements.offline.actions import (
    Context,
    Found,
    actions_of,
    default_actor,
    draft,
    items,
    meaningful,
    remember_object,
    split_why,
    strip_leading_to,
)
from assets.requirements.offline.modal import HEDGES, RELATIVE_WANT, read_modal
from assets.requirements.offline.people import actor_of, looks_like_person, named_role
from assets.requirements.offline.phrasing import is_verb, plural_noun, with_article
from assets.requirements.offline.possession import possession
from assets.requirements.offline.present import read_bare_feature, read_present_tense
from assets.requirements.offline.product import (
    APP_WORDS,
    BRIEF,
    PRODUCT_NAME,
    read_brief,
    read_feature_list,
    read_product_description,
)
from assets.requirements.offline.wanted import wanted_thing

_AS_A = re.compile(
    r"\bas an?\s+(?P<role>[^,]+?),?\s+I\s+(?P<verb>want|need|would like|wish)\s+(?P<want>.+)$", re.I
)


_I_WANT = re.compile(r"\bI\s+(?P<verb>want|need|would like|wish)\s+(?P<want>to\s+.+)$", re.I)


_WOULD = re.compile(r"\b(i|we|they|you|he|she|it|that|this|there)['’]d\b", re.I)


# Where a sentence starts a second clause with its own subject and modal verb: "..., and if
# something changes she should be able to cancel it", "...; members can also ...".
_SECOND_CLAUSE = re.compile(
    r"(?:,\s+(?:and|but)|;)\s+(?!(?:how|what|which|where|who|whether)\b)"
    r"(?=(?:(?:if|when|once|after|before)\s[^,]{1,60},?\s+)?"
    r"(?:\w+\s+){0,4}?(?:should|must|shall|can|could|will|would|needs? to|wants? to|has to|have to)\b)",
    re.I,
)


def read_statement(sentence: str, segment: int, context: Context) -> list[Found]:
    """The draft stories one sentence states (none when it states no requirement)."""
    sentence = _WOULD.sub(r"\1 would", sentence)
    parts = [part for part in _SECOND_CLAUSE.split(sentence) if part.strip()]
    if len(parts) < 2 or any(len(part.split()) < 4 for part in parts):
        parts = [sentence]
    found: list[Found] = []
    reported = _REPORT_IN_CONDITION.match(sentence.strip())
    if reported and not context.today:  # "When someone reports damage the boat ...": reporting is a story
        who = reported["who"]
        actor = default_actor(context) if who.lower() in ("someone", "anyone", "somebody") else who
        verb = reported["verb"].lower()[:-1] if reported["verb"].lower().endswith("s") else reported["verb"]
        found += actions_of(actor, f"{verb} {reported['what']}", sentence, segment, context)
    for part in parts:
        stories = _read_clause(part, segment, context)
        for story in stories:
            remember_object(story.story.i_want, context, segment)
        found += stories
    return found


_REPORT_IN_CONDITION = re.compile(
    r"^(?:when|whenever|if|once)\s+(?P<who>someone|somebody|anyone|(?:a|an|the)\s+[a-z]+|[a-z]+s)\s+"
    r"(?P<verb>reports|requests|submits|flags|raises)\s+(?P<what>[a-z][\w -]*?)"
    r"(?=,|\s+(?:the|a|an|we|it|they|this|that)\s+(?:[\w-]+\s+)?(?:should|shall|must|can|will|is|are|gets|goes)\b)",
    re.I,
)
# "A small app to plan our quiz nights with ...": a brief that names the product without a verb.
_NOUN_BRIEF = re.compile(
    rf"^(?:an?|one)\s+(?:[\w-]+\s+){{0,3}}?(?:{APP_WORDS})\s+(?:to|for)\s+\w.*\s(?:with|featuring)\s", re.I
)


# "each ticket gets a priority: low, normal or urgent": an attribute and the values it takes.
_GETS_VALUE = re.compile(
    r"^(?:(?:and|also|then)\s+)?(?:each|every|an?)\s+(?P<thing>[a-z-]+)\s+"
    r"(?:gets|has|takes|is given|carries)\s+an?\s+(?P<attribute>[a-z-]+)\s*(?::|-|–)\s*"
    r"(?P<values>[\w -]+(?:,\s*[\w -]+)*,?\s+(?:or|and)\s+[\w -]+)$",
    re.I,
)
_LEAD_PHRASE = re.compile(r"^(?P<lead>(?:for|at|in|on|by|during)\s[^,]{2,40}),\s*(?P<rest>\S.+)$", re.I)
_FOR_EACH_WE_KEEP = re.compile(
    r"^(?:for|of|about)\s+(?:each|every)\s+(?P<thing>[a-z-]+)\s*,?\s+(?:we|i|you|they|the app|it)\s+"
    r"(?:will\s+|would\s+|should\s+|must\s+|can\s+|need to\s+|want to\s+|have to\s+)?(?:also\s+)?"
    r"(?:store|keep|record|track|hold|save|note|log|want|need|list)\s+(?P<details>\S.+)$",
    re.I,
)
# "Owen asked for a count of ...", "the treasurer requested a list of ...": a request reported in notes.
_REPORTED_ASK = re.compile(
    r"^(?P<who>[A-Z][a-z]+|(?:the|our)\s+[a-z]+(?:\s+[a-z]+)?)\s+(?:has\s+)?(?:asked|requested|suggested|proposed)"
    r"\s+(?:for\s+)?(?P<what>(?:an?|the|some)\s+\w.+|(?:us\s+)?to\s+[a-z]+\s.+)$"
)


def _read_clause(sentence: str, segment: int, context: Context) -> list[Found]:
    text = sentence.strip().rstrip(".!;:").strip()
    named = PRODUCT_NAME.match(text)
    if named:  # "Tally is a web application for ...": later "Tally turns ..." is the product acting
        context.product = named["name"]
    kept = _FOR_EACH_WE_KEEP.match(text)
    if kept and re.search(
        r",|\band\b", kept["details"]
    ):  # "For each score we store the title, the composer ..."
        thing = kept["thing"].lower()
        if thing == "one" and context.thing and context.thing_segment >= segment - 1:
            thing = context.thing  # "We have sixty volunteers; for each one we keep ...": the volunteers
        if thing != "one":
            want = f"to record {plural_noun(singular(thing))} with {kept['details'].strip(' .')}"
            return [
                draft(
                    default_actor(context), want, None, None, context.priority or "Should", sentence, segment
                )
            ]
    reported = _REPORTED_ASK.match(text)
    if reported and not context.spoken:  # "Owen asked for a count of copies out per section"
        who, what = reported["who"], re.sub(r"^us\s+", "", reported["what"])
        role = named_role(who) or (
            actor_of(who) if not who[:1].isupper() and looks_like_person(who) else None
        )
        text = f"the {role} needs {what}" if role else f"we need {what}"  # a first name alone is a user
    request = REQUEST.match(text)
    if request:  # "Could you also add a weekly summary?": a request, whoever reads it
        text = f"we need to {request['rest']}"
        sentence = sentence.strip()
    found = _user_story(sentence, text, segment, context)
    if found is not None:
        return found
    for reader in (read_product_description, read_feature_list):
        result = reader(sentence, text, segment, context)
        if result:
            return result
    brief = BRIEF.match(text) or (BRIEF.match(f"build {text}") if _NOUN_BRIEF.match(text) else None)
    if brief and re.search(rf"\b(?:{APP_WORDS})s?\b", brief["thing"], re.I):
        return read_brief(sentence, brief, segment, context, context.priority or "Should")
    result = read_modal(sentence, text, segment, context)
    if result is not None:
        return result
    valued = _GETS_VALUE.match(text)
    if valued and len(items(valued["values"])) >= 2:  # "each ticket gets a priority: low, normal or urgent"
        attribute = with_article(valued["attribute"].lower())
        want = f"to give each {valued['thing'].lower()} {attribute}: {valued['values']}"
        return [
            draft(default_actor(context), want, None, None, context.priority or "Should", sentence, segment)
        ]
    held = possession(text, segment, context)
    if held:  # "Every boat has a name, a type and a seat count": a record to keep
        return held
    if context.feature_item:
        return read_bare_feature(sentence, text, segment, context)
    named = HEDGES.sub("", text).strip()
    lead = _LEAD_PHRASE.match(named)
    if lead:  # "for the trustees' report, the number of parcels ...": the figure first, its occasion after
        named = f"{lead['rest'].rstrip(' .')} {lead['lead']}"
    wanted = wanted_thing(named) if context.conversational or context.bullet else None
    if wanted and wanted.startswith("to see "):  # a turn that names a list or a count: "A list of the books"
        return [
            draft(default_actor(context), wanted, None, None, context.priority or "Should", sentence, segment)
        ]
    gerund = _GERUND.search(text)
    if gerund:  # "the first thing is registering households"
        lemma = getLemma(gerund["verb"].lower(), "VERB")
        if lemma and is_verb(lemma[0]):
            return actions_of("", f"{lemma[0]} {gerund['rest']}", sentence, segment, context)
    found = read_present_tense(sentence, text, segment, context)
    if not found:  # "We meet once a month, so each meeting has a date, a host and an address"
        for tail in re.split(r",\s+(?:so|and|but|then)\s+", text)[1:]:
            held = possession(tail, segment, context)
            if held:
                return held
    return found


_GERUND = re.compile(
    r"\b(?:thing|step|part|priority|feature|need|requirement|job|task|bit|one)\s+(?:is|would be|will be)\s+"
    r"(?P<verb>[a-z]+ing)\s+(?P<rest>\w.+)$",
    re.I,
)


def _user_story(sentence: str, text: str, segment: int, context: Context) -> list[Found] | None:
    as_a = _AS_A.search(text)
    role = None
    if as_a:
        role, verb, want = actor_of(as_a["role"]), as_a["verb"], as_a["want"]
        quote = sentence.strip()[as_a.start() :]
    else:
        i_want = _I_WANT.search(text)
        if i_want is None:
            return None
        if RELATIVE_WANT.search(text[: i_want.start()] + "I"):
            return []  # "things that I would like to see": a relative clause, not a request
        role, verb, want = default_actor(context), i_want["verb"], i_want["want"]
        quote = sentence.strip()
    want, why, why_kind = split_why(want)
    if re.match(r"^(to|be able)\s", want, re.I):
        want = "to " + strip_leading_to(want)
    priority: Priority = context.priority or ("Must" if verb.lower() == "need" else "Should")
    if context.conversational and not meaningful(want, True):
        return []
    return [draft(role, want, why, why_kind, priority, quote, segment)]


REQUEST = re.compile(
    r"^(?:(?:so|and|also|please)\s+)*(?:could|can|would|will) you\s+(?:please\s+|also\s+|kindly\s+)*"
    r"(?P<rest>\w.+?)\??$",
    re.I,
)


__all__ = [
    "REQUEST",
    "read_statement",
]
