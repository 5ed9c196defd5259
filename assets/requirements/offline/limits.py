"""Rules that bound or forbid: "at most three parcels" becomes a limit, "shall not be shipped before ..."
a refusal, each with the refusal as its criterion."""

from __future__ import annotations

import re

from lemminflect import getLemma

from assets.requirements.drafts import DraftCriterion
from assets.requirements.language import singular, words
from assets.requirements.models import Priority
from assets.requirements.offline.actions import (
    PRONOUNS,
    Context,
    Found,
    clean,
    default_actor,
    draft,
    lower_first,
)
from assets.requirements.offline.criteria import negate
from assets.requirements.offline.people import actor_of, looks_like_person
from assets.requirements.offline.phrasing import (
    DETERMINERS,
    POSSESSIVES,
    is_verb,
    participle,
    plural_noun,
    with_article,
)

_NUMBER = (
    r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|fifty"
    r"|hundred)"
)


_LIMIT = re.compile(
    rf"^(?P<verb>[a-z]+)\s+(?:(?:not\s+)?more than|at most|no more than|a maximum of|maximum of)\s+"
    rf"(?P<number>{_NUMBER})\s+(?P<things>.+)$",
    re.I,
)


_BREAK_NOUN = frozenset(
    "in on at of for per with by from to during within out over under each every any this that".split()
)


def read_limit(
    subject: str, action: str, priority: Priority, sentence: str, segment: int, context: Context
) -> list[Found]:
    """ "A household can have at most three parcels in any six months" -> "Limit households to three
    parcels in any six months", with the refusal of one more as its criterion."""
    match = _LIMIT.match(re.sub(r"^not\s+", "", action, flags=re.I))
    head = [w for w in words(subject) if w not in DETERMINERS and w not in POSSESSIVES]
    if match is None or not head or not is_verb(match["verb"].lower()) or subject.lower() in PRONOUNS:
        return []
    if re.search(r"(?<!\bno )(?<!\bnot )\bmore than\b", match.group(0), re.I):
        if not re.match(r"^not\s", action, re.I):
            return []  # "more than three" without "not": a minimum, not a limit
    noun = " ".join([*head[:-1], singular(head[-1])])
    things = clean(match["things"])
    noun_phrase: list[str] = []
    for word in things.split():
        if word.lower() in _BREAK_NOUN or not word.isalpha():
            break
        noun_phrase.append(word.lower())
    thing_head = " ".join([*noun_phrase[:-1], singular(noun_phrase[-1])]) if noun_phrase else "one"
    verb = match["verb"].lower()
    person = looks_like_person(subject)
    who = "who" if person else "that"
    done = "already has" if verb == "have" else f"has already {participle(verb)}"
    when_verb = "added" if verb in ("have", "hold", "get", "keep") else participle(verb)
    many = plural_noun(noun) if " " not in noun else noun + "s"
    want = f"to limit {many} to {match['number']} {things}"
    role = actor_of(subject) if person else default_actor(context)
    found = draft(role, want, None, None, priority, sentence, segment)
    found.criteria.append(
        DraftCriterion(
            given=f"{with_article(noun)} {who} {done} {match['number']} {things}",
            when=f"another {thing_head} is {when_verb}",
            then="it is refused with a message",
        )
    )
    return [found]


def read_prohibition(
    subject: str,
    action: str,
    why: str | None,
    why_kind: str | None,
    priority: Priority,
    sentence: str,
    segment: int,
    context: Context,
) -> list[Found]:
    """ "A case shall not be shipped before it has passed the quality check" -> "Refuse to ship a case
    before it has passed the quality check"; the refusal is its criterion."""
    limited = read_limit(subject, f"not {action}", priority, sentence, segment, context)
    if limited:
        return limited
    passive = re.match(r"^be\s+(?P<participle>[a-z]+)\b\s*(?P<rest>.*)$", action, re.I)
    person = looks_like_person(subject)
    if passive:
        lemma = getLemma(passive["participle"].lower(), "VERB")
        if not lemma or not is_verb(lemma[0]) or not words(subject):
            return []
        thing = lower_first(subject)
        core = f"{lemma[0]} {thing} {passive['rest']}".strip()
        verb, thing_phrase, rest = lemma[0], thing, passive["rest"]
    else:
        first = action.split()[0].lower() if action.split() else ""
        if not is_verb(first) or first in ("be", "have"):
            return []
        core = action
        object_words = action.split()[1:]
        cut = next(
            (
                i
                for i, w in enumerate(object_words)
                if w.lower() in ("before", "after", "until", "unless", "if", "when", "once")
            ),
            len(object_words),
        )
        verb, thing_phrase, rest = first, " ".join(object_words[:cut]), " ".join(object_words[cut:])
    role = actor_of(subject) if person else default_actor(context)
    found = draft(role, f"to refuse to {core}", why, why_kind, priority, sentence, segment)
    before = re.match(r"^before\s+(?:it|they)\s+(?P<clause>.+)$", rest, re.I)
    noun = [w for w in thing_phrase.split() if w.lower() not in DETERMINERS | POSSESSIVES]
    if before and noun:
        given = f"{with_article(' '.join(noun))} that {negate(before['clause'])}"
        when = f"the {role} tries to {verb} it"
    else:
        given, when = with_article(role), f"they try to {core}"
    found.criteria.append(DraftCriterion(given=given, when=when, then="it is refused with a message"))
    return [found]


__all__ = [
    "read_limit",
    "read_prohibition",
]
