"""Misspellings in the stories' words, corrected before the domain rules read them.

Requirement texts are typed in a hurry ("Facolity", "acocunt"): a word the stories use once, that
is one edit (a letter changed, added, dropped, or two neighbours swapped) away from a word they use
more often, is read as that word, so that a typo never becomes an entity of its own. Only longer
words count (six letters or more), and never two forms of one word ("lesson", "lessons").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from assets.requirements.language import singular
from assets.requirements.models import UserStory

MIN_LENGTH = 6
_WORD = re.compile(r"[A-Za-z]+")
_CRITERION_PARTS = ("given", "when", "then")


def one_edit_apart(a: str, b: str) -> bool:
    """True if one substitution, insertion, deletion or swap of neighbours turns `a` into `b`."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        differ = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(differ) == 1:
            return True
        first, second = differ[0], differ[-1]
        return len(differ) == 2 and second == first + 1 and a[first] == b[second] and a[second] == b[first]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    for index in range(len(long)):
        if long[:index] + long[index + 1 :] == short:
            return True
    return False


def corrections(texts: Iterable[str]) -> dict[str, str]:
    """Lowercase word -> the word it is a misspelling of (one edit away, and used in more texts).
    Each text counts a word once (a story repeats its own words in title, want and quote), and
    singular and plural count as one word."""
    per_text = [{word.lower() for word in _WORD.findall(text)} for text in texts]
    usage = Counter(singular(word) for words in per_text for word in {singular(w) for w in words})
    vocabulary = {word for words in per_text for word in words}
    common = [word for word in vocabulary if usage[singular(word)] >= 2]
    out: dict[str, str] = {}
    for word in vocabulary:
        if usage[singular(word)] != 1 or len(word) < MIN_LENGTH:
            continue
        candidates = [
            other for other in common if one_edit_apart(word, other) and singular(other) != singular(word)
        ]
        if len({singular(other) for other in candidates}) == 1:
            out[word] = sorted(candidates)[0]
    return out


def _fix(text: str, fixes: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        word = match.group(0)
        fixed = fixes.get(word.lower())
        if fixed is None:
            return word
        return fixed.capitalize() if word[0].isupper() else fixed

    return _WORD.sub(replace, text) if fixes else text


def corrected_stories(stories: list[UserStory]) -> list[UserStory]:
    """The stories with their want, criteria and quotes spelt as the rest of the text spells them."""
    texts = [
        " ".join(
            (
                story.title,
                story.i_want,
                story.so_that,
                *(trace.quote for trace in story.traces),
                *(f"{c.given} {c.when} {c.then}" for c in story.acceptance_criteria),
            )
        )
        for story in stories
    ]
    fixes = corrections(texts)
    if not fixes:
        return stories
    out = []
    for story in stories:
        out.append(
            story.model_copy(
                update={
                    "i_want": _fix(story.i_want, fixes),
                    "traces": [t.model_copy(update={"quote": _fix(t.quote, fixes)}) for t in story.traces],
                    "acceptance_criteria": [
                        c.model_copy(update={key: _fix(getattr(c, key), fixes) for key in _CRITERION_PARTS})
                        for c in story.acceptance_criteria
                    ],
                }
            )
        )
    return out
