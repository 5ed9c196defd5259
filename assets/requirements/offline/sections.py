"""What a heading or a line says about the text it holds, rather than about the product.

- Priority headings (MoSCoW "Must have" ... "Won't have", "Nice to have", "Phase 2", "Later", "Out
  of scope") set the priority or the exclusion of everything under them.
- Headings of sections about the document itself (purpose, scope, definitions, conventions,
  references, revision history, table of contents) exclude what they hold.
- Sentences about the document ("this document ...", "section 3 describes ...", "takes
  precedence over ..."), glossary entries, table-of-contents lines and page headers and footers
  (lines repeated at the top or bottom of PDF pages, "Page 3 of 10") are excluded with a reason.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from lemminflect import getLemma

from assets.requirements.language import third_person
from assets.requirements.models import Priority

_NUMBERING = re.compile(
    r"^\s*(?:(?:appendix|annex|section|chapter|part)\s+[\w.]+\s*[:.-]?|\d+(?:\.\d+)*\.?|[A-Z]\.|[IVX]+\.)\s+",
    re.I,
)
_PRIORITY_HEADINGS: list[tuple[re.Pattern[str], Priority]] = [
    (
        re.compile(r"^(?:must[- ]haves?|must|mandatory|required|essential|critical|high priority)\b", re.I),
        "Must",
    ),
    (re.compile(r"^(?:should[- ]haves?|should|important|medium priority)\b", re.I), "Should"),
    (
        re.compile(
            r"^(?:could[- ]haves?|could|nice[- ]to[- ]haves?|nice to have|optional|wish ?list|low priority"
            r"|stretch goals?|extras?)\b",
            re.I,
        ),
        "Could",
    ),
]
_OUT_OF_SCOPE = re.compile(
    r"^(?:out[ -]of[ -]scope|not in scope|non[- ]goals?|won'?t[- ]haves?|won'?t|will not|excluded"
    r"|not planned)\b",
    re.I,
)
_LATER = re.compile(
    r"^(?:phase\s*(?:[2-9]|two|three|ii+)|later|future(?: work| releases?| versions?| ideas)?"
    r"|next (?:release|version)"
    r"|v2|version 2|post[- ]mvp|parking lot|someday|icebox)\b",
    re.I,
)
_ABOUT_DOCUMENT = re.compile(
    r"^(?:purpose|scope|document (?:purpose|scope|conventions|overview|history|control)|conventions"
    r"|definitions?|acronyms|abbreviations|glossary|terms|terminology|references?|revision history"
    r"|change (?:history|log)|changelog|version history|document history|table of contents|contents"
    r"|intended (?:audience|readers?)|about this document|how to read this document|approvals?|sign[- ]off"
    r"|traceability(?: matrix| table)?|requirements? traceability)"
    r"(?:\b|$)",
    re.I,
)
_FEATURES = re.compile(
    r"^(?:features?|key features|functional(?:ity| requirements)?|requirements?|user stories|stories|backlog"
    r"|capabilities|in scope|mvp|must|should|could|what\b.{1,40}\b(?:does|do|offers?|should do|will do))\b",
    re.I,
)
# Sections of a product brief that describe the business around the product, not what it does:
# the problem today, who it is for, how success is measured, what it costs, what is still open.
_NOT_REQUIREMENTS = re.compile(
    r"^(?:the )?(?:problem(?: statement)?|background|context|current (?:situation|process|state|system)"
    r"|motivation|pain points|who it is for|who is it for|target (?:users|audience|customers|market)"
    r"|audience|personas?|success (?:metrics|measures)|metrics|kpis?|goals and metrics|pricing|price"
    r"|business model|revenue|open questions|questions|risks?|assumptions|timeline|milestones|team"
    r"|contacts?|competitors|competition|tagline)$",
    re.I,
)


@dataclass(frozen=True)
class Section:
    """How a heading governs the lines under it."""

    heading: str
    priority: Priority | None = None  # set by a MoSCoW heading
    exclude: str | None = None  # the reason everything under it is left out
    features: bool = False  # a list of features: a bullet is a requirement without a modal verb


def heading_name(heading: str) -> str:
    return _NUMBERING.sub("", heading).strip(" :*#_-").strip()


def classify_heading(heading: str) -> Section:
    name = heading_name(heading)
    if _OUT_OF_SCOPE.match(name):
        return Section(heading, exclude=f'listed under "{name}" (out of scope)', features=True)
    if _LATER.match(name):
        return Section(
            heading, exclude=f'listed under "{name}" (a later phase, not this release)', features=True
        )
    for pattern, priority in _PRIORITY_HEADINGS:
        if pattern.match(name):
            return Section(heading, priority=priority, features=True)
    if _ABOUT_DOCUMENT.match(name):
        return Section(heading, exclude=f'about the document itself (section "{name}")')
    if _NOT_REQUIREMENTS.match(name):
        return Section(
            heading, exclude=f'about the business around the product, not a feature (section "{name}")'
        )
    return Section(heading, features=bool(_FEATURES.match(name)))


# A line standing alone as a heading in text without markup (PDF, plain text): a numbered title
# ("1.3 Definitions, acronyms and abbreviations") or a known section name.
_NUMBERED_HEADING = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+[A-Z][^.!?:]{0,70}$")


def standalone_heading(line: str) -> str | None:
    text = line.strip().rstrip(":").strip()
    if not text or len(text.split()) > 8 or re.search(r"[.!?;]$", text):
        return None
    if _NUMBERED_HEADING.match(text) and not re.search(r"\.{3,}", text):
        return text
    name = heading_name(text)
    if len(name.split()) <= 5:
        section = classify_heading(name)
        if section.priority or section.exclude or (section.features and line.strip().endswith(":")):
            return text
    return None


INLINE_PRIORITY = re.compile(
    r"^(?P<label>must[- ]have|should[- ]have|could[- ]have|nice[- ]to[- ]have|won'?t[- ]have|optional"
    r"|later)\s*:\s*(?P<rest>\S.*)$",
    re.I,
)


def inline_label_section(label: str) -> Section:
    return classify_heading(label)


_SELF_REFERENCE = re.compile(
    r"\b(?:this|the present|the following|these)\s+(?:document|specification|spec|srs|section|chapter"
    r"|appendix"
    r"|paper|report|page|requirements? (?:document|specification))\b"
    r"|^\s*(?:section|chapter|appendix|part)\s+\d+(?:\.\d+)*\b"
    r"|\b(?:sections?|chapters?|appendix|appendices)\s+\d+(?:\.\d+)*\s+(?:describes?|contains?|lists?|gives?"
    r"|presents?|states?|defines?|covers?|explains?|provides?|details?)\b"
    r"|\btakes?\s+precedence\b|\bsupersedes?\b"
    r"|\bthe (?:rest|remainder) of this\b"
    r"|\b(?:is|are) (?:organi[sz]ed|structured) as follows\b",
    re.I,
)


def about_the_document(sentence: str) -> bool:
    """True for a sentence that talks about the document rather than the product."""
    return bool(_SELF_REFERENCE.search(sentence))


_GLOSSARY = re.compile(r"^(?P<term>[A-Z][\w/&' -]{0,40}?)\s*(?::|–|—|\s-\s|=)\s*(?P<definition>\S.*)$")
_MODAL = re.compile(r"\b(?:must|shall|should|could|can|will|need|needs|have to|has to|want|wants)\b", re.I)


def glossary_entry(line: str) -> bool:
    """ "FMS: Fleet Maintenance System." / "Work order: a request to repair one vehicle." """
    match = _GLOSSARY.match(line.strip())
    if match is None or len(match["term"].split()) > 4:
        return False
    term, definition = match["term"].strip(), match["definition"].strip()
    if term.isupper() and len(term) <= 8:  # an acronym and its expansion
        initials = "".join(word[0] for word in re.findall(r"[A-Za-z]+", definition)).upper()
        return term.replace(" ", "") in initials or not _MODAL.search(definition)
    if _RULE_ABOUT_TERM.match(definition) and _about_term(term, definition):
        return False  # "Shelves: a shelf holds at most six pots": a rule about the term, not what it means
    if _clause(definition) or _clause(term):
        return False  # "Old scores get retired: the librarian flags ...": statements, not a definition
    return bool(re.match(r"^(?:a|an|the|any|one|each)\s", definition, re.I)) and not _MODAL.search(definition)


# "each shelf has ...", "every loan ...", "a shelf holds ...": a statement about each of the things named.
_RULE_ABOUT_TERM = re.compile(r"^(?:each|every|all|an?|the)\s+(?P<noun>[\w-]+)\s+[a-z]+s\b", re.I)


def _clause(text: str) -> bool:
    """ "the librarian flags a score", "old scores get retired": a subject and its present-tense verb."""
    tokens = text.lower().split()
    start = 1 if tokens[:1] and tokens[0] in ("a", "an", "the", "each", "every", "all", "old", "new") else 0
    for index in range(start + 1, min(len(tokens), start + 3)):
        word = tokens[index].strip(",.;:")
        lemma = getLemma(word, "VERB")
        if word in ("is", "are", "get", "gets") or (
            word.endswith("s") and lemma and lemma[0] != word and third_person(lemma[0]) == word
        ):
            head = tokens[index - 1]
            return not (head.endswith("s") and word.endswith("s") and word not in ("is", "gets"))
    return False


def _about_term(term: str, definition: str) -> bool:
    """True when the definition's subject is the term itself ("Shelves: a shelf holds ...")."""
    match = _RULE_ABOUT_TERM.match(definition)
    if match is None:
        return False
    noun = match["noun"].lower()
    last = term.split()[-1].lower()
    return noun in (last, last.rstrip("s"), last[:-2] if last.endswith("es") else last) or (
        definition.split()[0].lower() in ("each", "every", "all")
    )


_TOC_LINE = re.compile(r"(?:\.{3,}|…+|\s{3,})\s*\d+\s*$")
_PAGE_NUMBER = re.compile(
    r"^\s*(?:page\s+)?\d+\s*(?:of|/)\s*\d+\s*$|^\s*page\s+\d+\s*$|^\s*-\s*\d+\s*-\s*$", re.I
)


def table_of_contents_line(line: str) -> bool:
    return bool(_TOC_LINE.search(line)) and len(line.split()) <= 14


def page_number_line(line: str) -> bool:
    return bool(_PAGE_NUMBER.match(line))


def repeated_page_lines(pages: list[str], edge: int = 2) -> set[str]:
    """Lines at the top or bottom of at least two pages (page headers and footers)."""
    if len(pages) < 2:
        return set()
    counts: Counter[str] = Counter()
    for page in pages:
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        counts.update({*lines[:edge], *lines[-edge:]})
    return {line for line, count in counts.items() if count >= 2 and not page_number_line(line)}
