"""Modal statements ("shall / must / should / need to / can / will / nice to have"): the actor from
the subject or named after the modal, a product subject turned into an imperative, a wanted thing,
a limit or a prohibition."""

from __future__ import annotations

import re
from typing import NamedTuple

from lemminflect import getAllLemmas, getInflection, getLemma

from assets.requirements.language import words
from assets.requirements.models import Priority
from assets.requirements.offline.actions import (
    PRONOUNS,
    SO_SUBJECT,
    Context,
    Found,
    actions_of,
    default_actor,
    draft,
    lower_first,
    meaningful,
    remember_object,
    resolve_object,
    split_actions,
    split_why,
    strip_leading_to,
)
from assets.requirements.offline.criteria import whole_list
from assets.requirements.offline.limits import read_limit, read_prohibition
from assets.requirements.offline.people import actor_of, looks_like_person
from assets.requirements.offline.phrasing import (
    DETERMINERS,
    POSSESSIVES,
    inside_brackets,
    is_verb,
)
from assets.requirements.offline.present import OPENERS, acts_like_person, described_record
from assets.requirements.offline.product import (
    APP_WORDS,
    BRIEF,
    actor_end,
    is_product,
    product_action,
    read_brief,
    system_part,
)
from assets.requirements.offline.wanted import wanted_thing

# "a mooring can be rented to a boat owner": an ability stated in the passive (kept only where a
# participle follows: "it can be slow" states no action).
_PASSIVE_ABILITY = re.compile(r"\b(?:can|could|will)\b(?=\s+(?:also\s+)?be\s+[a-z]+)", re.I)
_MODALS: list[tuple[re.Pattern[str], Priority]] = [
    (re.compile(r"\b(?:would be |is )?nice to have\b|\bwould be nice(?: to have)?\b", re.I), "Could"),
    # "it would be really useful to see ...", "it would be great if we could ...": a wish.
    (
        re.compile(
            r"\bwould (?:also |really )?be (?:\w+ly )?(?:useful|great|good|helpful|handy|ideal|brilliant"
            r"|lovely|amazing|cool|wonderful|awesome|fantastic|perfect)\s+"
            r"(?:to|if (?:we|i|you|they|it) (?:could|can|would))\b",
            re.I,
        ),
        "Could",
    ),
    (re.compile(r"\bwould (?:also |really |just )?love(?: to)?\b", re.I), "Could"),
    # "volunteers want a reminder ...": wanting a thing
    (re.compile(r"\bwants?\b(?=\s+(?:a|an|the|some|more|their|our|his|her)\s)", re.I), "Should"),
    # A prohibition: "cannot", "mustn't", "may not" (the "not" of "shall not" follows its modal).
    (
        re.compile(r"\bcan(?:not|['’]t)\b|\bcan not\b|\bmustn['’]t\b|\bshouldn['’]t\b|\bmay not\b", re.I),
        "Must",
    ),
    (
        re.compile(
            r"\bmust\b|\bshall\b|\b(?:has|have|needs?) to\b|\b(?:is|are) required to\b|\bneeds?\b", re.I
        ),
        "Must",
    ),
    (
        re.compile(
            r"\bshould\b|\bwants? (?:us |you |them )?to\b|\b(?:we|i) want\b|\b(?:is|are) able to\b", re.I
        ),
        "Should",
    ),
    (re.compile(r"\bcould\b|\bwould (?:also |really |just )?like(?: to)?\b|\bmight\b", re.I), "Could"),
    (re.compile(r"\bcan\b(?!\s+be\b)(?!not\b)(?!'t)", re.I), "Should"),
    (re.compile(r"\bwill\b(?!\s+be\b)(?!\s+not\b)|\bwill be able to\b", re.I), "Should"),
    (_PASSIVE_ABILITY, "Should"),
]


HEDGES = re.compile(
    r"^(?:(?:also|and|but|so|then|plus|maybe|perhaps|probably|definitely|really|well|anyway|now|i think"
    r"|i guess|of course)\b[,\s]*)+",
    re.I,
)


# In talk a request ends where the speaker moves on: a comma, "but", "so", "or something".
_CONVERSATIONAL_CUT = re.compile(
    rf",\s(?!so that|so\s+{SO_SUBJECT})|\s+(?:but|so(?! that)(?!\s+{SO_SUBJECT})|or something|and then)\s"
    r"|\s+or\s*$",
    re.I,
)


_KEPT_NOUNS = r"catalogue|catalog|register|inventory|archive|directory|database|index|ledger|record"


_WHY_START = re.compile(r",?\s+\b(?:so that|in order to)\s+\w", re.I)


_WAY_FOR = re.compile(
    r"^(?:(?:have|get|give|offer|provide|add|build)\s+)?(?:a|an|the|some)\s+(?:simple\s+|easy\s+|quick\s+)?"
    r"(?:way|option|place|chance|means|form|page|button)\s+for\s+(?=.+?\s+to\s+[a-z])",
    re.I,
)


_KNOWING_VERBS = frozenset("tell know see find remember track work figure keep say guess".split())
# "we should have a way to mark a hive as inspected": the story is what the way does.
_WAY_TO = re.compile(
    r"^(?:(?:have|get|give|offer|provide|add|build|need)\s+)?(?:a|an|the|some)\s+"
    r"(?:(?:simple|easy|quick|better|proper|new|single)\s+)?(?:way|option|means|possibility|ability)\s+"
    r"to\s+(?P<rest>[a-z]+\b.*)$",
    re.I,
)


def spoken_request(action: str) -> str:
    """What a speaker asks for, up to where they move on; a list ("the name, the age and the phone")
    is said in one breath and stays whole."""
    start = 0
    while True:
        cut = _CONVERSATIONAL_CUT.search(action, start)
        if cut is None:
            return action
        listed = whole_list(action, action[: cut.start()])
        if cut.group(0).startswith(",") and len(listed) > cut.start():
            start = len(listed)
            continue
        return action[: cut.start()]


def read_modal(sentence: str, text: str, segment: int, context: Context) -> list[Found] | None:
    why = _WHY_START.search(text)
    matches = [
        (match.start(), -len(match.group(0)), match, priority)
        for pattern, priority in _MODALS
        for match in pattern.finditer(text)
        if not _noun_need(text, match)
        and (why is None or match.start() < why.start())
        and not inside_brackets(text, match.start())
        and (pattern is not _PASSIVE_ABILITY or _main_passive(text, match))
    ]  # "..., so that members can see ...": the modal of the benefit is not the requirement's;
    # "a state (in service, needs repair, laid up)": a bracket holds a field's values, not a request
    if not matches:
        return None
    _, _, match, modal_priority = min(matches, key=lambda item: (item[0], item[1]))
    if re.search(
        r"\b(?:don'?t|do not|doesn'?t|does not|not|never|won'?t)\s+(?:\w+ly\s+)?$",
        text[: match.start()],
        re.I,
    ):
        return []  # "users who don't want changes": a negated need asks for nothing
    priority: Priority = context.priority or modal_priority
    subject = re.split(r"[,:;]", text[: match.start()])[-1].strip()
    subject = HEDGES.sub("", subject).strip()
    # "We also need ...", "members really want ...": the adverb before the modal is no part of the subject
    subject = re.sub(
        r"(?:\s+(?:also|really|just|still|definitely|then|all|both|too|only|actually|probably|certainly"
        r"|absolutely|urgently|badly|do|does))+$",
        "",
        subject,
        flags=re.I,
    )
    if context.conversational:
        subject = re.split(r"\b(?:and|but|so|because|if|that|when|then|which)\b", subject, flags=re.I)[
            -1
        ].strip()
    # "For every pupil on a trip we need to ...": the subject is the pronoun next to the modal, what
    # comes before it sets the scene.
    opening = re.match(r"^(?:when|whenever|if|once)\s", subject, re.I)
    lead_subject = re.search(r"\s((?:the|each|every|this|that|its|their|our)\s+[\w-]+)$", subject, re.I)
    if opening and lead_subject and len(subject.split()) > 3:
        subject = lead_subject.group(1)  # "When someone reports a swarm the hive shall ...": the hive
    if re.match(r"^(?:how|what|which|where|whether|when)\b", subject, re.I):
        return None  # "..., and how often it has to be taken": a detail in a list, not a statement
    if re.match(r"(?:we|i)\s", match.group(0), re.I):  # "for the society we want to ...": "we" is the subject
        subject = match.group(0).split()[0]
    pronoun = re.search(r"(?:^|\s)(we|i|you|they|he|she)$", subject, re.I)
    condition_before = re.search(r"\b(?:if|when|once|whenever)\b", text[: match.start()], re.I) is not None
    main_subject = re.search(r"(?:^|\s)((?:the|each|every|this|that|its|their|our)\s+[\w-]+)$", subject, re.I)
    if condition_before and not pronoun and main_subject and len(subject.split()) > 2:
        subject = main_subject.group(1)  # "When someone reports damage the boat should ...": the boat
    if pronoun and (
        words(subject)[0] in OPENERS | {"for", "with", "in", "on", "at", "during"} or condition_before
    ):
        subject = pronoun.group(1)
    if len([w for w in words(subject) if w not in DETERMINERS]) > 4:
        return None  # a clause, not the subject of a requirement: other forms may still read it
    raw_action = text[match.end() :].strip(" ,")
    if context.spoken:
        raw_action = spoken_request(raw_action)
    action, why, why_kind = split_why(raw_action)
    named = re.search(r"\b(?:we|i|they|you)\s+([a-z]+)\s+([a-z]+)\b", text[: match.start()], re.I)
    if named and is_verb(named[1].lower()):  # "We lend books, and we need a catalogue of them"
        remember_object(f"{named[1]} {named[2]}", context, segment)
    action = resolve_object(strip_leading_to(action), context, segment)
    negative_modal = re.search(r"not|n['’]t", match.group(0), re.I) is not None
    prohibited = re.match(r"^(?:not|never|no longer)\s+(?P<rest>\S.*)$", action, re.I)
    if prohibited or negative_modal:
        rest_words = words(prohibited["rest"] if prohibited else action)[:1]
        if subject.lower() in ("we", "i") and rest_words and rest_words[0] in _KNOWING_VERBS:
            return []  # "we can never tell what is running low": what goes wrong today, not a rule
        if context.conversational:
            return []  # in talk, "they shouldn't have the same size" is an opinion, not a rule to build
        rest = prohibited["rest"] if prohibited else action
        return read_prohibition(subject, rest, why, why_kind, priority, sentence, segment, context)
    relative = RELATIVE_WANT.search(text[: match.start()]) or re.search(
        r"\b(?:what|things?|stuff)\s+$", text[: match.start()], re.I
    )  # "what we want from the app": the modal is in a relative clause
    if relative and (context.conversational or re.match(r"^(?:from|of|out of|for|in)\s", action, re.I)):
        return []  # "a couple of things that I would like to see": what is wanted is said elsewhere
    limited = read_limit(subject, action, priority, sentence, segment, context)
    if limited:
        return limited
    passive = passive_of(action)
    if (
        passive is not None
        and not context.spoken
        and subject.lower() not in PRONOUNS
        and (passive.agent is not None or not looks_like_person(subject))
    ):  # "each refund must be approved by the manager": the manager approves each refund
        role = passive.agent or default_actor(context)
        want = f"to {passive.verb} {_object_of(subject)}{passive.rest}"
        return [draft(role, want, why, why_kind, priority, sentence, segment)]
    product_itself = rf"^(?:an?|the|one|our)\s+(?:[\w-]+\s+){{0,3}}(?:{APP_WORDS})"
    qualified = r"(?:\s+(?:for|instead of|to replace|in place of)\s+[^,]+)?\s*$"
    if re.match(product_itself + qualified, action, re.I):
        return []  # "The food bank needs a simple rota app": the product itself, not one of its features
    wanted = wanted_thing(action)
    if wanted is not None:  # "we'd love a count of ...", "we need the pupils in there - name, class"
        if subject.lower() in ("we", "i", "you"):
            role = "user"
        elif looks_like_person(subject):
            role = actor_of(subject)
        else:
            role = default_actor(context)
        return [draft(role, wanted, why, why_kind, priority, sentence, segment)]
    bare_need = match.group(0).lower() in ("need", "needs")
    described = described_record(subject, action) if bare_need else None
    if described:  # "Each trip needs a destination, the date and ...": what is kept of each trip
        return [draft(default_actor(context), described, why, why_kind, priority, sentence, segment)]
    first_words = words(action)[:2]
    someone_to = re.match(r"^(?P<who>.+?)\s+to\s+\w", action)
    named_first = someone_to is not None and (
        looks_like_person(someone_to["who"]) or someone_to["who"].lower() in ("them", "people", "everyone")
    )
    checked = re.match(
        r"^(?:a|an|some)\s+(?:quick\s+|simple\s+)?check\s+(?=(?:that|whether|if)\s)", action, re.I
    )
    if checked:  # "we need a check that a member has passed the drill": to check it
        action = "check " + action[checked.end() :]
    elif bare_need and first_words and not named_first:
        if not is_verb(first_words[0]) or first_words[1:] == ["to"]:
            kept = re.match(rf"^(?:an?|the)\s+(?:\w+\s+)?(?:{_KEPT_NOUNS})\s+of\b", action, re.I)
            # "sitters need access to the notes": to have it; "we need a catalogue of every score": to keep it
            action = f"{'keep' if kept else 'have'} {action}"
    elif re.match(r"^have\s+", action, re.I) and modal_priority == "Could":
        action = re.sub(r"^have\s+", "", action, flags=re.I)
    people_named = subject.lower() in ("they", "he", "she") and context.actor is not None
    if match.group(0).lower() in ("can", "will") and not (
        looks_like_person(subject) or is_product(subject, context.product) or people_named
    ):
        return None  # "it can be slow", "we will see": only people and the product state abilities
    subject_words = [w for w in words(subject) if w not in DETERMINERS]
    brief = BRIEF.match(action)
    if brief and re.search(rf"\b(?:{APP_WORDS})s?\b", brief["thing"], re.I) and subject.lower() in PRONOUNS:
        return read_brief(sentence, brief, segment, context, priority)

    # "we should have a way for people to book ...": the people and what they do
    action = _WAY_FOR.sub("", action)
    way_to = _WAY_TO.match(action)
    if way_to and is_verb(way_to["rest"].split()[0].lower()):  # "have a way to mark a hive as inspected"
        action = way_to["rest"]
    # "we need clerks to ship ...", "they want us to restrict ...": the actor named after the modal.
    named = re.match(
        r"^(?P<who>(?:the|a|an|our|all|every|each)?\s*[\w -]+?)\s+to\s+(?P<rest>\S.*)$", action, re.I
    )
    if (
        subject.lower() in PRONOUNS
        and named
        and (looks_like_person(named["who"]) or named["who"].lower() in ("them", "people", "everyone"))
        and not re.match(
            r"^(?:have|get|give|offer|provide|add|build|make)\s+(?:an?|the|some)\s", named["who"], re.I
        )
        and is_verb(named["rest"].split()[0].lower())
        and named["rest"].split()[0].lower() not in ("be", "have", "do")
    ):
        return actions_of(named["who"], named["rest"], sentence, segment, context, priority, (why, why_kind))

    if is_product(subject, context.product):
        allow = re.match(
            r"^(?:allow|let|enable|permit|help)s?\s+(?P<who>.+?)\s+(?:to\s+)?(?P<rest>(?:\w+).*)$",
            action,
            re.I,
        )
        if allow:
            tokens = allow.group(0).split()[1:]
            index = actor_end(tokens)
            if index is not None:
                rest = tokens[index + 1 :] if tokens[index].lower() == "to" else tokens[index:]
                return actions_of(
                    " ".join(tokens[:index]), " ".join(rest), sentence, segment, context, priority
                )
        acted = product_action(subject, action, why, why_kind, priority, sentence, segment, context)
        if acted or subject.lower() != "it":
            return acted
        # "It would be nice to have a dark mode": "it" names no product here

    if looks_like_person(subject) or (action and acts_like_person(subject, action.split()[0])):
        context.actor, context.actor_segment = actor_of(subject), segment
        if not action:
            return []
        if not is_verb(words(action)[0]) and not context.spoken:
            # "Admins could have a report of overdue loans"; "volunteers want a reminder": to get one
            message = re.match(rf"^(?:an?|the|some)\s+(?:\w+\s+)?(?:{_MESSAGE_NOUNS})\b", action, re.I)
            action = f"{'get' if message else 'have'} {action}"
        return actions_of(subject, action, sentence, segment, context, priority, (why, why_kind)) or []
    if subject.lower() in PRONOUNS:
        if not action:
            return None
        if context.conversational and not meaningful(f"to {action}", True):
            return []
        noun_phrase = re.match(r"^(an?|the|some)\s", action, re.I) is not None
        want = action if noun_phrase else f"to {action}"
        if len(words(want)) < 2:
            return None
        if not noun_phrase and re.match(r"^be\s", action, re.I):
            return []  # "it should be clear ...": a state of mind, not an action
        if not noun_phrase and subject.lower() in ("we", "i") and len(split_actions(action)) > 1:
            # "We need to book a fitting and mark it done": one story per action
            return actions_of(subject, action, sentence, segment, context, priority, (why, why_kind))
        # "they" stands for the people named last; "we", "I" and "you" for the users.
        near = not context.conversational or context.actor_segment >= segment - 1
        third = subject.lower() in ("they", "he", "she")
        role = context.actor if third and context.actor and near else "user"
        return [draft(role, want, why, why_kind, priority, sentence, segment)]
    written_passive = (
        context.conversational
        and not context.spoken
        and re.match(r"^be\s+(?:\w+ed|\w+en|sent|shown|kept|made|set|paid|sold|closed)\s+\w", action, re.I)
    )
    if context.conversational and not written_passive and (not action or re.match(r"^be\s", action, re.I)):
        return []  # in talk, "X would be nice" and "it should be Y" are opinions, not requests
    if not action:  # "A dark mode would be nice to have."
        want = lower_first(subject)
        if len(words(want)) < 2:
            return None
        return [draft("user", want, why, why_kind, priority, sentence, segment)]
    passive = re.match(
        r"^be\s+(?P<participle>\w+ed|\w+en|done|sent|shown|kept|made|set|built|paid|sold|closed)\b(?P<rest>.*)$",
        action,
        re.I,
    )
    if passive and subject_words:
        lemma = getLemma(passive["participle"].lower(), "VERB")
        verb = lemma[0] if lemma else passive["participle"]
        want = f"to {verb} {lower_first(subject)}{passive['rest']}"
        return [draft(default_actor(context), want, why, why_kind, priority, sentence, segment)]
    if context.conversational and not meaningful(f"to {action}", True):
        return []
    first = words(action)[:1]
    if not first or not is_verb(first[0]) or words(subject)[-1:] in (["we"], ["i"], ["you"], ["they"]):
        return None  # "Two things we need from the tracker:" states no action
    if context.spoken and not system_part(subject):
        return []  # "speech recognition could blow out the price": in talk, a thing's ability is an opinion
    want = f"{lower_first(subject)} to {action}"
    if len(words(want)) < 3:
        return None
    return [draft("user", want, why, why_kind, priority, sentence, segment)]


def _noun_need(text: str, match: re.Match[str]) -> bool:
    """ "any dietary needs", "their needs, such as ...": "need" as a noun, not as a modal verb."""
    if match.group(0).lower() not in ("need", "needs"):
        return False
    before = words(text[: match.start()])[-1:]
    after = text[match.end() :].lstrip()
    if not after.strip(" .!?"):
        return True  # "... and how many volunteers it needs": nothing is asked after it
    if before and (before[0] in DETERMINERS or before[0] in POSSESSIVES or _adjective(before[0])):
        return True
    return not before or bool(
        re.match(r"^(?:[,;:)]|like\b|such as\b|and\b|or\b|of\b|are\b|is\b)", after, re.I)
    )


def _adjective(word: str) -> bool:
    lemmas = getAllLemmas(word)
    return "ADJ" in lemmas and not ({"NOUN", "PROPN", "PRON"} & lemmas.keys())


class Passive(NamedTuple):
    """ "be checked in by the night watch before dark" -> verb "check in", agent "night watch",
    rest " before dark"."""

    verb: str
    agent: str | None
    rest: str


_BE_PARTICIPLE = re.compile(
    r"^be\s+(?:(?:also|only|then|easily|quickly)\s+)?(?P<word>[a-z]+)\b(?P<rest>.*)$", re.I
)
# A particle right after the participle, where no object follows it: "checked in by", "handed over."
_PASSIVE_PARTICLE = re.compile(
    r"^\s+(?P<particle>in|out|up|off|over|back|down|away)\b(?=\s*(?:$|[,.;!]|(?:by|before|after|when|once|if|at"
    r"|within|so)\b))",
    re.I,
)
_BY_AGENT = re.compile(
    r"\s+by\s+(?P<who>(?:(?:the|a|an|any|each|every|their|our|its|his|her)\s+)?[a-z][\w-]*(?:\s+[a-z][\w-]*)?)"
    r"(?=\s*(?:$|[,.;!]|(?:before|after|when|once|if|at|within|on|in|for|so|with|and|or|unless)\b))",
    re.I,
)


def passive_of(action: str) -> Passive | None:
    """The passive an action states ("be lent to a member"), None when "be" names a state."""
    match = _BE_PARTICIPLE.match(action.strip())
    if match is None:
        return None
    word = match["word"].lower()
    lemmas = getLemma(word, "VERB")
    lemma = lemmas[0] if lemmas else None
    if not lemma or lemma == word or word not in getInflection(lemma, "VBN") or not is_verb(lemma):
        return None  # "be busy", "be open", "be slippery": a state, not something done to the thing
    rest = match["rest"]
    particle = _PASSIVE_PARTICLE.match(rest)
    verb = lemma
    if particle:  # "be checked in": the phrasal verb stays whole
        verb = f"{lemma} {particle['particle'].lower()}"
        rest = rest[particle.end() :]
    agent = None
    by = _BY_AGENT.search(rest)
    if by and looks_like_person(by["who"]):
        agent = actor_of(by["who"])
        rest = rest[: by.start()] + rest[by.end() :]
    return Passive(verb, agent, rest.rstrip(" ,"))


def _main_passive(text: str, match: re.Match[str]) -> bool:
    """ "A berth can be cancelled": a passive that states the requirement; not the one of a clause
    that sets the scene ("Once tasks can be assigned, members should ...")."""
    opens = re.match(r"^\W*(?:once|when|whenever|if|after|before|until|as soon as|since|while)\b", text, re.I)
    return passive_of(text[match.end() :]) is not None and not (opens and opens.end() <= match.start())


def _object_of(subject: str) -> str:
    """ "Each refund" -> "each refund": the passive's subject is what the action is done to."""
    first, _, rest = subject.strip().partition(" ")
    if first[1:].islower() or first in ("A", "An"):  # capitalised as the sentence's first word
        first = first.lower()
    return f"{first} {rest}".strip()


RELATIVE_WANT = re.compile(
    r"\b(?:things?|stuff|something|anything|everything|what|ones?)\s+(?:that\s+|which\s+)?(?:i|we|you|they)\s*$",
    re.I,
)


_MESSAGE_NOUNS = r"reminders?|notifications?|alerts?|messages?|e-?mails?|texts?|warnings?|confirmations?"


__all__ = [
    "HEDGES",
    "RELATIVE_WANT",
    "read_modal",
    "spoken_request",
]
