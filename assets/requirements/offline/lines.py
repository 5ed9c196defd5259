"""How a document's text is cut into lines and sentences before anything is read from them.

Lines a PDF or DOCX page wrapped are joined back, list markers and requirement ids are recognised,
a sentence ends at . ! ? before a capital (never after "e.g."), and a statement explained after a
colon is read as two.
"""

from __future__ import annotations

import re

from assets.requirements.language import third_person, words
from assets.requirements.offline import sections
from assets.requirements.offline.people import looks_like_person
from assets.requirements.offline.phrasing import is_verb, verb_lemma

MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*$")
BULLET = re.compile(r"^\s*(?:[-*+•]|\d+[.)]|\[[ xX]\])\s+")
# A requirement's identifier before its text: "R12", "FR-3.2", "REQ-PRM-001", "(a)", "3.1.4".
REQ_ID = re.compile(
    r"^\s*(?:\*\*|__)?(?:[A-Z][A-Z0-9]{0,7}(?:[-_.][A-Z]{1,8})*[-_ ]?\d+(?:\.\d+)*|\(\w+\)|\d+(?:\.\d+)+)"
    r"(?:\*\*|__)?\s*[:.)-]?\s+(?=\S)"
)
# A sentence ends at . ! or ? before a capital, but not after "e.g." or "i.e." ("(e.g. Road or Gravel)").
SENTENCE_BREAK = re.compile(r"(?<=[.!?])(?<!e\.g\.)(?<!i\.e\.)\s+(?=[A-Z0-9\"'(])")
SPOKEN_BREAK = re.compile(r"(?<=[.!?])\s+")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")
NEW_LINE_STARTS = re.compile(r"^(?:Given|When|Then|And|But)\s|^#|^>|^Priority\s*[:=]|^[A-Z][\w ]{0,30}:\s*$")


def unwrap_lines(text: str) -> list[str]:
    """Logical lines: a line wrapped by a PDF or DOCX page is joined back to the line it continues."""
    logical: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        previous = logical[-1].strip() if logical else ""
        continues = (
            line
            and previous
            and not re.search(r"[.!?:;]$", previous)
            and not BULLET.match(raw)
            and not REQ_ID.match(line)
            and not NEW_LINE_STARTS.match(line)
            and not (len(previous.split()) <= 6 and line[:1].isupper())
            and sections.standalone_heading(previous) is None
            and sections.standalone_heading(line) is None
        )
        if continues:
            logical[-1] = f"{logical[-1].rstrip()} {line}"
        else:
            logical.append(raw)
    return logical


LEAD_IN = re.compile(
    r"^(?P<subject>(?:the |a |an |all |every )?[\w -]{1,40}?)\s+"
    r"(?P<modal>(?:must|shall|should|can|could|will|need to|needs to|want to|wants to)(?: be able to)?)\s*:$",
    re.I,
)


# "...: a coach creates a session ...": after a colon, a clause of its own with a subject and its verb.
_EXPLANATION = re.compile(
    r"^(?P<head>.{12,}?\w):\s+(?P<tail>(?:(?:an?|the|each|every)\s+[a-z]+|[A-Z][a-z]+|she|he)\s+[a-z]+s\s+\S.{10,})$",
    re.I,
)


def explained(sentence: str) -> list[str]:
    """ "Coaches run taster sessions: a coach creates a session ..." -> the statement, then what it
    is made of, each read on its own; a colon before a list of fields stays."""
    match = _EXPLANATION.match(sentence.strip())
    if match is None or len(match["head"].split()) < 3:
        return [sentence]
    tokens = match["tail"].split()
    determined = tokens[0].lower() in ("a", "an", "the", "each", "every")
    if not determined and not (tokens[0].lower() in ("she", "he") or looks_like_person(tokens[0])):
        return [sentence]  # "Note: Bring ...": only a person's name or "she" / "he" acts without an article
    verb = tokens[2 if determined else 1].lower()
    lemma = verb_lemma(verb)
    if lemma is None or lemma == verb or third_person(lemma) != verb:
        return [sentence]
    return [match["head"], match["tail"]]


def starts_with_action(body: str) -> bool:
    first = words(body)[:1]
    return bool(first) and is_verb(first[0]) and first[0] not in ("be", "is", "are", "have", "do")
