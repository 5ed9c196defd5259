"""How the turns of a conversation ask for things: proposals ("could we ...?", "could section
leaders ...?"), a message that breaks off mid-request and the turn that goes on with it, a question
about what someone needs, small talk and sign-offs that ask for nothing."""

from __future__ import annotations

import re

from assets.requirements.offline.people import looks_like_person
from assets.requirements.offline.phrasing import is_verb

SMALL_TALK = re.compile(
    r"\b(lunch|coffee|pizza|beers?|drinks|hiking|ramen|birthday|haha|lol|thanks|thank you|cheers"
    r"|see you|good morning|morning everyone|how are you|bye|weekend)\b",
    re.IGNORECASE,
)
PROPOSAL = re.compile(
    r"^(?:(?:so|and|also|maybe)\s+)*(?:can|could|should|shall)\s+(?:we|you|it|they"
    r"|the \w+)\s+(?:also\s+)?(?P<rest>.+?)\??$"
    r"|^(?:how|what) about\s+(?P<about>.+?)\??$",
    re.I,
)
# "Could section leaders mark which pieces ...?": a proposal that people of a role do something.
PEOPLE_PROPOSAL = re.compile(
    r"^(?:(?:so|and|also|maybe)\s+)*(?:can|could|should|shall)\s+(?P<words>(?:the\s+|our\s+)?[\w-]+\s.+?)\??$",
    re.I,
)


def proposed_by_role(sentence: str) -> tuple[str, str] | None:
    """ "Could section leaders mark which pieces ...?" -> ("section leaders", "mark which pieces ...")."""
    match = PEOPLE_PROPOSAL.match(sentence.strip())
    if match is None:
        return None
    tokens = match["words"].split()
    for size in (1, 2, 3):
        who, rest = tokens[:size], [t for t in tokens[size:] if t.lower() != "also"]
        if tokens[:1] and tokens[0].lower() in ("the", "our"):
            who, rest = tokens[: size + 1], [t for t in tokens[size + 1 :] if t.lower() != "also"]
        if rest and looks_like_person(" ".join(who)) and is_verb(rest[0].lower()):
            return " ".join(who), " ".join(rest)
    return None


# A message that breaks off where its request starts: "also the coordinator wants to".
BROKEN_OFF = re.compile(
    r"\b(?:to|be able to|should|must|can|could|needs?|wants?|would like|would love)\s*(?:\.\.\.|…)?\s*$", re.I
)
# A turn that goes on with the last request: "and close the opening once it's filled".
CONTINUATION = re.compile(
    r"^(?:and|also|plus|\.\.\.\s*and)\s+(?:\.\.\.\s*)?(?:also\s+)?(?P<verb>[a-z]+)\s+\S", re.I
)
TRAILING_YES = re.compile(r",\s+(?:yes|yeah|yep|right|sure|ok|okay)\s*([.!]?)$", re.I)
NEED_QUESTION = re.compile(
    r"\b(?:do|does|will|would|should)\s+(?P<who>they|we|you|(?:the\s+)?[a-z]+s)\s+(?:need|want|have|get)\s+"
    r"(?P<thing>(?:an?\s+)?[a-z-]+(?:\s+[a-z-]+)?)\s*\?$",
    re.I,
)
SIGN_OFF = re.compile(
    r"^(?:thanks|thank you|best|regards|best regards|kind regards|cheers|br|sincerely)\b", re.I
)
