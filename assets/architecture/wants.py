"""A want cut short of its list: the story's want may stop after the first items of a list its
quote goes on with ("to put our events in: the name" from "we need to put our events in: the
name, the venue, the date and the start time"); the fields are the quote's.
"""

from __future__ import annotations

import re

from assets.architecture.phrases import clauses, without_purpose
from assets.requirements.models import UserStory

_WORD = re.compile(r"[a-z0-9]+")
_LIST_LEADS = frozenset(": with including giving".split())
_GOES_ON = frozenset(", and or".split())
_TOKEN = re.compile(r"[a-z0-9]+|[,:]")


def fuller_want(story: UserStory) -> str:
    """The want, or "to " + the quote from where the want starts when the want is that quote cut
    short inside a list (the quote goes on with a comma, "and" or "or" right after it)."""
    want = without_purpose(story.i_want).lower()
    words = _WORD.findall(want)
    if words[:1] == ["to"]:
        words = words[1:]
    if len(words) < 3 or not _LIST_LEADS & set(_TOKEN.findall(want)):
        return story.i_want
    for trace in story.traces:
        for clause in clauses(without_purpose(trace.quote)):
            low = clause.lower().replace("’", "'")
            found = list(_TOKEN.finditer(low))
            plain = [(m.group(), m.start()) for m in found if m.group() not in (",", ":")]
            for start in range(len(plain) - len(words) + 1):
                if [word for word, _ in plain[start : start + len(words)]] != words:
                    continue
                end_at = plain[start + len(words) - 1][1]
                after = [m.group() for m in found if m.start() > end_at][:1]
                if after and after[0] in _GOES_ON:
                    return "to " + clause[plain[start][1] :]
    return story.i_want
