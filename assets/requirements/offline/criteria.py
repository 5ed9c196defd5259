"""Acceptance criteria a tester can check, derived from a story's want and its condition.

A criterion names the record, the action and what is seen afterwards; a condition in the want
("only when ...", "unless ...") gives a second criterion where it is refused.
"""

from __future__ import annotations

import re

from assets.requirements.drafts import DEFAULT_SO_THAT, DraftCriterion, DraftStory
from assets.requirements.language import singular, third_person
from assets.requirements.offline.people import looks_like_person
from assets.requirements.offline.phrasing import (
    DETERMINERS,
    PARTICLES,
    POSSESSIVES,
    as_statement,
    participle,
    third_person_pronouns,
    verb_lemma,
    with_article,
)
from pipeline_core.verbs import VERB_OPERATIONS

_CONDITION = re.compile(
    r"\s+(?P<kind>only (?:once|when|if|after)|unless|when|whenever|if|once)\s+(?P<cond>.+)$", re.I
)
_AUXILIARIES = re.compile(r"\b(is|are|was|were|has|have|can|does|do|will|should)\b", re.I)


def negate(condition: str) -> str:
    """ "it is paid" -> "it is not paid"; "all its tasks are done" -> "not all its tasks are done"."""
    text = condition.strip()
    swaps = {
        "no one": "someone",
        "nobody": "somebody",
        "nothing": "something",
        "none": "some",
        "never": "already",
    }
    found = re.search(r"\b(?:no one|nobody|nothing|none|never)\b", text, re.I)
    if found:
        return text[: found.start()] + swaps[found.group(0).lower()] + text[found.end() :]
    if re.search(r"\bnot\s", text, re.I):
        return re.sub(r"\bnot\s+", "", text, count=1, flags=re.I)
    if re.match(r"^(?:all|every|both)\b", text, re.I):
        return "not " + text
    match = _AUXILIARIES.search(text)
    if match:
        return f"{text[: match.end()]} not{text[match.end() :]}"
    return f"it is not the case that {text}"


def _object_phrase(rest: str) -> str:
    """The object a verb acts on, up to the first preposition: "a class from the timetable" -> "a class"."""
    tokens = rest.split()
    out: list[str] = []
    for token in tokens:
        bare = token.lower().strip(",.;")
        if out and bare in (
            "from",
            "to",
            "for",
            "with",
            "by",
            "in",
            "on",
            "at",
            "into",
            "as",
            "when",
            "once",
            "up",
            "so",
            "before",
            "after",
            "only",
            "and",
            "or",
            "of",
            "within",
            "via",
            "per",
            "if",
            "unless",
        ):
            break
        if out and bare in _TRAILING_ADVERBS:
            break
        out.append(token.strip(",.;"))
        if token.endswith((",", ";")):
            break
    return " ".join(out)


# Where a list of things ends at the latest: a condition, a reason, or the end of the statement.
_LIST_END = re.compile(
    r"\s+(?:when|whenever|once|if|unless|so that|so|because|before|after|while|until|but|then)\s+"
    r"|[.;:!?]|\s[-–—]\s"
)


def whole_list(rest: str, phrase: str) -> str:
    """`phrase`, or the whole list it starts when `rest` goes on ", B and C" after it.

    "the opening times, the address and the phone number of each branch" is one object: a list
    of things is never cut after its first item (or its first two).
    """
    phrase = phrase.strip()
    if not phrase or not rest.startswith(phrase) or not rest[len(phrase) :].startswith(","):
        return phrase
    parts = [part.strip() for part in _LIST_END.split(rest, maxsplit=1)[0].split(",")]
    for end, part in enumerate(parts[1:], start=1):
        if not part or len(part.split()) > 12:
            return phrase
        joined = re.match(r"^(?:(?:and|or)\s+(?P<alone>.+)|(?P<head>.+?)\s+(?:and|or)\s+\S.*)$", part, re.I)
        if joined:
            return ", ".join(parts[: end + 1])
        if len(part.split()) > 4:
            return phrase  # a clause after the comma, not an item of a list
    return phrase


def _the(noun_phrase: str) -> str:
    tokens = noun_phrase.split()
    if tokens and tokens[0].lower() in DETERMINERS | POSSESSIVES:
        tokens = tokens[1:]
    return "the " + " ".join(tokens) if tokens else ""


def _fields(details: str) -> list[str]:
    parts = re.split(r",\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+", details.strip(" ."))
    fields = []
    for part in parts:
        tokens = [t for t in part.split() if t.lower() not in DETERMINERS | POSSESSIVES]
        if tokens:
            fields.append(" ".join(tokens))
    return fields


_LIGHT_VERBS = frozenset("keep have make take do use give".split())
_TRAILING_ADVERBS = frozenset("online offline together again instantly automatically now later".split())


def _result(verb: str, thing: str, the_thing: str, main: str = "") -> str:
    """What a tester sees after the action: by what the verb does to its object."""
    operation = VERB_OPERATIONS.get(verb)
    rest = main.split(" ", 1)[1] if " " in main else ""
    if verb in ("get", "receive"):
        return f"they receive {rest}"
    if verb == "keep" and rest.lower().startswith("track of "):
        return f"they see {rest[len('track of ') :]}"
    if verb in _LIGHT_VERBS:
        return f"they can {main} in the app"
    if re.match(r"^(?:who|what|which|where|when|how|whether|if)\b", thing, re.I):
        return f"they see {thing}"
    last = thing.split()[-1].lower() if thing else ""
    plural = bool(last) and last.endswith("s") and singular(last) != last
    be = "are" if plural or re.search(r",|\s(?:and)\s", thing) else "is"
    if operation == "create":
        return f"{the_thing} {be} saved and listed"
    if operation == "list" and verb in ("list", "browse", "filter", "search", "find", "sort", "group"):
        first = thing.split()[0].lower() if thing else ""
        if first in ("for", "through", "in", "on", "by") and " " in rest:
            after = rest.split(" ", 1)[1]
            if verb in ("browse", "list"):  # "browse through the list of museums"
                return f"they see {_the(_full_object(after))}"
            return f"they see the matching {_the(_object_phrase(after))[4:]}"  # "search for X"
        return f"they see the matching {the_thing[4:]}"
    if operation == "read":
        return f"they see {the_thing}"
    if operation == "delete":
        return f"{the_thing} {be} removed from the list"
    return f"{the_thing} {be} {participle(verb)}"


# "as beyond repair", "as out of order": the state's words, up to where the sentence goes on.
_STATE_STOP = (
    r"(?:when|whenever|if|once|after|before|while|so|because|until|unless|by|with|and|or|for|on|today|now)"
)
_STATE_WORDS = rf"[\w-]+(?:\s+(?!{_STATE_STOP}\b)[\w-]+){{0,3}}(?<!\bof)(?<!\bthe)"


def derive_criteria(story: DraftStory, why_kind: str | None = "so that") -> list[DraftCriterion]:
    """Criteria drawn from the story's own words: its fields, its rules, its condition, its result."""
    role = story.as_a.strip() or "user"
    given = with_article(role)
    want = third_person_pronouns(story.i_want.strip())
    explicit_why = story.so_that != DEFAULT_SO_THAT and why_kind in ("so that", "in order to")
    why = third_person_pronouns(story.so_that)
    if not want.lower().startswith("to "):
        statement = as_statement(want)
        if statement is None:  # "a dark mode for the web app"
            return [DraftCriterion(given=given, when="they open the app", then=f"the app offers {want}")]
        condition = _CONDITION.search(statement)
        if condition and not condition["kind"].lower().startswith(("only", "unless")):
            then = statement[: condition.start()].strip()
            return [DraftCriterion(given=given, when=condition["cond"].strip(" ."), then=then)]
        return [DraftCriterion(given=given, when="they use the app", then=why if explicit_why else statement)]
    action = want[3:]
    condition = _CONDITION.search(action)
    main = action[: condition.start()] if condition else action
    tokens = main.split()
    verb = tokens[0].lower() if tokens else ""
    rest = " ".join(tokens[1:])
    # "hand over the keys", "check in a guest": a particle before the object belongs to the verb
    particle = ""
    if len(tokens) >= 3 and tokens[1].lower() in PARTICLES and tokens[2].lower() in DETERMINERS | POSSESSIVES:
        particle, rest = tokens[1].lower(), " ".join(tokens[2:])
    # "send people a text": the people receive, the text is what is sent
    receiver = re.match(r"^(?:people|them|everyone|(?:the\s+)?\w+s)\s+(?=(?:a|an|the)\s)", rest, re.I)
    if receiver and (
        receiver.group(0).split()[0].lower() in ("people", "them", "everyone")
        or looks_like_person(receiver.group(0))
    ):
        rest = rest[receiver.end() :]
    thing = whole_list(rest, _object_phrase(rest))
    pronoun_object = (
        thing.split()[0].lower() in ("me", "them", "it", "up", "on", "in", "out") if thing else True
    )
    the_thing = "" if pronoun_object else _the(thing)
    lemma = verb_lemma(verb) or verb
    if condition and condition["kind"].lower().startswith(("only", "unless")) and the_thing:
        # "ship an order only once it is paid": the rule, and its refusal.
        noun = the_thing[4:]
        cond = condition["cond"].strip(" .")
        if condition["kind"].lower() == "unless":
            refused = f"where {cond}"
        elif re.match(r"^(?:it|they)\s", cond, re.I):
            refused = f"that {negate(_that_clause(cond))}"
        else:
            refused = f"where {negate(cond)}"
        return [
            DraftCriterion(
                given=f"{with_article(noun)} {refused}",
                when=f"the {role} {third_person(lemma)} it",
                then="it is refused",
            )
        ]
    when = f"they {action}"
    if verb == "be" and rest:  # "be notified when the attributes change": the state, on its condition
        if condition and not condition["kind"].lower().startswith(("only", "unless")):
            return [DraftCriterion(given=given, when=condition["cond"].strip(" ."), then=f"they are {rest}")]
        return [DraftCriterion(given=given, when="they use the app", then=f"they are {rest}")]
    # A benefit that states what is then true ("old work does not clutter the board") is the result;
    # one that states an ability ("we can phone people") is not checkable: the action's result is.
    ability = re.search(r"\b(?:can|could|will|would|may|might|able)\b", why, re.I) is not None
    if explicit_why and not ability:
        return [DraftCriterion(given=given, when=when, then=why)]
    full = _full_object(rest)
    if verb_lemma(verb) in ("see", "view", "show", "get", "check", "find") and full:
        head = re.split(r"\s+(?:of|per|for|by)\s+|,|\s+and\s+", full.lower(), maxsplit=1)[0].split()
        wh = re.match(r"^(?:who|what|which|where|when|how|whether|if)\b", full, re.I)
        # "the fees per pontoon and per month": what is grouped is information, its groups are checked
        grouped = re.search(r"\b(?:per|for each|grouped by|broken down by)\b", full, re.I) is not None
        if wh or grouped or (head and singular(head[-1]) in _INFORMATION_NOUNS):
            shown = full if wh else _the(full)
            return [
                DraftCriterion(
                    given=given,
                    when=f"they open {_the(full) if not wh else 'the list'}",
                    then=f"they see {shown}",
                )
            ]
    marked = re.match(rf"^{re.escape(thing)}\s+as\s+(?P<state>{_STATE_WORDS})", rest) if thing else None
    if marked and the_thing:  # "mark the loan as returned": the state it ends in
        be = "are" if thing.split()[-1].lower() != singular(thing.split()[-1]) else "is"
        return [DraftCriterion(given=given, when=when, then=f"{the_thing} {be} shown as {marked['state']}")]
    details = re.split(r"\s+(?:with|including)\s+", main, maxsplit=1)
    if len(details) == 2 and the_thing:
        fields = _fields(details[1])
        if fields:
            listed = ", ".join(fields[:-1]) + (" and " if len(fields) > 1 else "") + fields[-1]
            last = thing.split()[-1].lower()
            be, its = ("are", "their") if last.endswith("s") and singular(last) != last else ("is", "its")
            if lemma in ("build", "develop", "make", "design"):
                then = f"{the_thing} runs with {details[1]}"
            else:
                then = f"{the_thing} {be} saved with {its} {listed}"
            return [DraftCriterion(given=given, when=f"they {main}", then=then)]
    if the_thing and particle:  # "the keys are handed over", "the guest is checked in"
        last = thing.split()[-1].lower()
        be = "are" if last.endswith("s") and singular(last) != last else "is"
        then = f"{the_thing} {be} {participle(lemma)} {particle}"
        return [DraftCriterion(given=given, when=when, then=then)]
    if the_thing:
        return [DraftCriterion(given=given, when=when, then=_result(lemma, thing, the_thing, main))]
    particle = re.match(
        r"^(?P<particle>up|in|out|off|on|down|back)\b(?:\s+(?:for|of|to|from|on|with)\s+(?P<noun>.+))?", rest
    )
    if particle and particle["noun"]:  # "sign up for a shift": the shift shows it
        noun = _the(_object_phrase(particle["noun"]))
        return [
            DraftCriterion(
                given=given,
                when=when,
                then=f"{noun} shows that they {participle(lemma)} {particle['particle']}",
            )
        ]
    if particle:  # "check in when I arrive"
        return [
            DraftCriterion(
                given=given, when=when, then=f"they are shown as {participle(lemma)} {particle['particle']}"
            )
        ]
    return [DraftCriterion(given=given, when=when, then=f"they see that it is {participle(lemma)}")]


# Nouns for information shown to a person: wanting to see one is checked by what it shows.
_INFORMATION_NOUNS = frozenset(
    """count number total list summary report overview breakdown chart graph history sum average
    percentage tally log table calendar timeline map timetable rota diary value""".split()
)


def _full_object(rest: str) -> str:
    """What a verb acts on up to its condition or a comma: "the count of open tickets per agent"."""
    text = re.split(r",|\s+(?:when|whenever|once|if|unless|so that|because)\s+", rest, maxsplit=1)[0]
    return whole_list(rest, text.strip(" .;"))


def _that_clause(condition: str) -> str:
    """ "it is paid" -> "is paid" so it reads "an order that is not paid"."""
    return re.sub(r"^(?:it|they)\s+", "", condition.strip(), flags=re.I)
