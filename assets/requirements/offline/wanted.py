"""A wanted noun phrase read as a request: information to see ("a count of ... per ...") or things to
keep with the details listed ("the pupils - name, class and medical notes")."""

from __future__ import annotations

import re

from assets.requirements.language import singular, words
from assets.requirements.offline.phrasing import DETERMINERS, POSSESSIVES, is_verb, plural_noun

# Nouns for information a person looks at: wanting one of them is wanting to see it.
REPORT_NOUNS = frozenset(
    """count number total list summary report overview breakdown view chart graph history sum average
    percentage tally record log table calendar timeline map timetable rota diary""".split()
)


_ATTRIBUTE_LIST = re.compile(
    r"\s+(?:-|–|—|:)\s+(?P<list>[^-–—:]+?\b(?:and|or)\b[^-–—:]+?)(?:\s+[-–—]\s+.*)?$"
)


def wanted_thing(action: str) -> str | None:
    """What a wanted noun phrase asks to do: see information, or keep things with the details listed.

    "a count of applications per stage" -> "to see a count of applications per stage";
    "the pupils in there - name, class and medical notes" -> "to record pupils with their name, class
    and medical notes". None for anything else.
    """
    action = re.split(r"\s+(?:would|will|could|should|can|might)\s+", action, maxsplit=1)[
        0
    ]  # "... would help"
    tokens = words(action)
    if tokens[:2] in (["how", "many"], ["how", "much"]) and len(tokens) >= 4:
        return f"to see {action[:1].lower()}{action[1:]}"  # "how many tickets we've sold and the takings"
    if tokens and tokens[0] not in DETERMINERS | POSSESSIVES and _grouped_figure(action):
        return f"to see the {action[:1].lower()}{action[1:]}"  # "Monthly totals of fees per pontoon"
    if not tokens or tokens[0] not in DETERMINERS | POSSESSIVES:
        return None
    before_of = re.split(r"\s+(?:of|per)\s+", action.lower(), maxsplit=1)[0].split()
    head = before_of[-1] if 2 <= len(before_of) <= 4 else ""
    noun = next((token for token in tokens[1:3] if token not in DETERMINERS), "")
    # "a list of the rooms", "a count per stage"; "a waiting list for full events" is a feature
    if head in REPORT_NOUNS and re.search(r"\b(?:of|per)\b", action, re.I):
        if re.search(r",\s*(?:it|that|this|they|there)(?:['’]s|['’]re| is| are| was)\b", action, re.I):
            return None  # "the average frequency of pushing buttons, it's about ...": a remark
        return f"to see {action[:1].lower()}{action[1:]}"
    listing = _ATTRIBUTE_LIST.search(action)
    if listing and noun and plural_noun(singular(noun)) == noun:
        details = re.sub(r"\s*\(.*?\)", "", listing["list"]).strip(" ,.")
        return f"to record {noun} with their {details}"
    return None


_PERIODIC = frozenset("daily weekly monthly yearly annual quarterly termly nightly".split())


def _grouped_figure(action: str) -> bool:
    """ "Monthly totals of fees per pontoon and per month", "Weekly count of visits per harbour", "List
    of members": information named without an article: of something, grouped, or by its period."""
    action = action.lower()
    head = re.split(r"\s+(?:of|per|by|for each)\s+", action, maxsplit=1)[0]
    before = head.split()
    if not 1 <= len(before) <= 3 or singular(before[-1]) not in REPORT_NOUNS:
        return False
    if any(word in DETERMINERS | POSSESSIVES or is_verb(word) for word in before[:-1]):
        return False  # "see a count of ...": an action on the figure, read as one
    if action[len(head) :].startswith(" of "):  # "List of members", "Number of seats per table"
        return True
    grouped = re.search(r"\b(?:per|for each|grouped by|broken down by)\b|\bby\s+\w+\s+and\s+by\b", action)
    return grouped is not None or before[0] in _PERIODIC


__all__ = [
    "REPORT_NOUNS",
    "wanted_thing",
]
