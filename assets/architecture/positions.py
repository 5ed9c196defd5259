"""Positions in a clause the domain rules look for: after a verb's object, after a word within a
few words ("with", ":", "as"), where a ", giving A, B and C" list starts."""

from __future__ import annotations

from assets.architecture.phrases import VerbUse
from pipeline_core.verbs import VERB_KINDS


def after_object(use: VerbUse) -> int:
    return use.obj.end if use.obj else use.index + len(use.verbs)


def next_after(toks: list[str], index: int, word: str, limit: int = 8) -> int | None:
    """The position after `word` within `limit` words of `index` (a bracketed aside counts as one):
    "log every stock movement (goods in or goods out) with the product"."""
    position, seen = index, 0
    while position < len(toks) and seen < limit:
        token = toks[position]
        if token == word:
            return position + 1
        if token == "(" and ")" in toks[position:]:
            position = toks.index(")", position) + 1
            seen += 1
            continue
        if token in (";",) or (token in VERB_KINDS and position > index + 1):
            return None
        position += 1
        seen += 1
    return None


_GIVING = frozenset("giving stating including recording noting listing naming".split())


def giving_start(toks: list[str], index: int) -> int | None:
    """Where a ", giving A, B and C" list starts within a few words of `index`."""
    for position in range(index, min(index + 6, len(toks) - 2)):
        if toks[position] == "," and toks[position + 1] in _GIVING:
            return position + 2
        if toks[position] in (";", ":"):
            return None
    return None
