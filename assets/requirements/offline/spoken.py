"""Conversational text made readable: disfluency markers, filler words and repeated words removed.

Transcripts (meeting tools, the AMI corpus), chats and e-mails carry speech marks such as
`{vocalsound}` and `{disfmarker}`, filler ("um", "uh", "you know", "I mean"), restarts ("we we
should") and spelled-out acronyms ("T_V_"). None of it may reach a story.
"""

from __future__ import annotations

import re

# Speech marks, and chat emoji codes (":thumbsup:", ":bar_chart:").
_MARKERS = re.compile(
    r"\{[a-z_]+\}|\[(?:laughter|inaudible|crosstalk|noise|music|pause)\]|<[^>]+>|(?<!\w):[a-z0-9_+-]+:(?!\w)",
    re.I,
)
# Spelled acronyms of transcripts: "T_V_" -> "TV", "L_C_D_" -> "LCD".
_SPELLED = re.compile(r"\b((?:[A-Za-z]_){2,})(?=\W|$)")
_FILLERS = re.compile(
    r"(?<![\w'])(?:um+|uh+|erm*|er|ah+|hmm+|mm+(?:-hmm)?|uh-huh|you know|i mean|sort of|kind of|kinda"
    r"|basically|like i said|i guess|okay so|well)(?![\w'])[,.]?",
    re.I,
)
_REPEATS = re.compile(r"\b((?:\w+(?:'\w+)?\s+){0,2}\w+(?:'\w+)?)(?:\s*,?\s+\1\b)+", re.I)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_LEADING = re.compile(
    r"^(?:(?:so|and|but|okay|ok|yeah|yes|yep|right|alright|also,|well|now|then|oh|anyway|actually)\b[,\s]*)+",
    re.I,
)
_AGREEMENT = re.compile(
    r"^\W*(?:(?:oh|ah|well|right),?\s+)?"
    r"(?:\+1|yes|yeah|yep|yup|agreed|agree|sure|definitely|absolutely|exactly|good idea|great idea"
    r"|sounds good|makes sense|let'?s do (?:it|that)|ok(?:ay)?|fine|love it|me too)\b",
    re.I,
)


def _drop_fragments(text: str) -> str:
    """Cut-off words ("deci decisions", "y you") and stray letters of speech recognition go."""
    tokens = text.split(" ")
    out: list[str] = []
    for index, token in enumerate(tokens):
        bare = token.strip(",.;:!?").lower()
        following = tokens[index + 1].strip(",.;:!?").lower() if index + 1 < len(tokens) else ""
        if (
            bare
            and following.startswith(bare)
            and len(bare) < len(following)
            and bare not in _KEEP_PREFIXES
            and not _function_word(bare)
        ):
            continue
        if len(bare) == 1 and bare.isalpha() and bare not in ("a", "i") and token == bare:
            continue
        out.append(token)
    return " ".join(out)


_KEEP_PREFIXES = frozenset("a an i in on to at be we us it is as or so no do go up".split())
# Words a restart never cuts to: "they can cancel" keeps its "can".
_FUNCTION_WORDS = frozenset(
    """can will may might must shall should would could not for and but the our all any one off out
    their them they this that then than with have has had are was were""".split()
)


def _function_word(word: str) -> bool:
    return word in _FUNCTION_WORDS


def clean_spoken(text: str) -> str:
    """The words a person meant: markers, filler and restarts removed, punctuation re-attached."""
    text = _MARKERS.sub(" ", text)
    text = _SPELLED.sub(lambda match: match.group(1).replace("_", ""), text)
    text = text.replace("_", " ")
    previous = None
    while previous != text:
        previous = text
        text = _FILLERS.sub(" ", text)
        text = _REPEATS.sub(r"\1", text)
        text = _drop_fragments(re.sub(r"\s+", " ", text))
    text = _drop_fragments(re.sub(r"\s+", " ", text))
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    # "book a place in a class, yes, and ...": an interjection between commas is no part of the request
    text = re.sub(r",\s*(?:yes|yeah|yep|right|okay|ok|sure|exactly)\s*(?=[,.;!?]|$)", "", text, flags=re.I)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"(^|[.!?]\s+)[,;:]\s*", r"\1", text)
    return text.strip(" ,;")


def strip_lead_in(sentence: str) -> str:
    """ "So, and also we need ..." -> "also we need ..." is not wanted: only the lead-in words go."""
    stripped = _LEADING.sub("", sentence).strip(" ,")
    return stripped or sentence


def is_agreement(text: str) -> bool:
    """True for a turn that agrees with the one before ("+1", "yes, good idea", "agreed")."""
    return bool(_AGREEMENT.match(clean_spoken(text)))


_YES = (
    r"(?:yes|yeah|yep|yup|definitely|absolutely|exactly|sure|for sure|please|agreed|right|correct"
    r"|of course|totally|100%)"
)
# "the vet visits, yes", "yes, the rota", "feeding times - definitely": a noun phrase and a yes.
_NOUN_ANSWER = re.compile(
    rf"^\W*(?:{_YES}\W+)*(?P<phrase>[^,.!?;:]{{2,60}}?)(?:\s*(?:,|[-–—]|\btoo\b|\bas well\b|!)\s*)*"
    rf"(?:\b{_YES}\b(?:\W+{_YES}\b)*)?[\s.!)]*$",
    re.I,
)
# Words that make a phrase a clause (someone doing or being something), not a thing named.
_ARTICLES = frozenset("a an the".split())
_CLAUSE_WORDS = frozenset(
    """i we you he she they it this that there is are was were be been am can could should would will
    shall must may might need needs want wants have has had do does did let lets not no don't can't
    won't isn't what how why when where who which if so but""".split()
)


def noun_answer(text: str, answered: str = "") -> str | None:
    """The thing a turn names when it only names a thing in answer ("the vet visits, yes"), else None.

    Such a turn asks for nothing of its own: it agrees with the turn it answers. A bare noun that
    repeats the turn before it counts too ("feeding times?" - "feeding times").
    """
    cleaned = re.sub(r"\s+", " ", _FILLERS.sub(" ", _MARKERS.sub(" ", text))).strip()  # keeps its "yes"
    match = _NOUN_ANSWER.match(cleaned)
    if match is None:
        return None
    phrase = match["phrase"].strip()
    tokens = re.findall(r"[\w'’]+", phrase.lower())
    if not tokens or len(tokens) > 5 or any(token in _CLAUSE_WORDS for token in tokens):
        return None
    if any(a in _ARTICLES and i > 1 for i, a in enumerate(tokens)):
        return None  # "members book a kayak, yes": a verb and its object, a statement, not a bare name
    said_yes = re.search(
        rf"\b{_YES}\b", cleaned[: match.start("phrase")] + cleaned[match.end("phrase") :], re.I
    )
    content = [token for token in tokens if token not in ("the", "a", "an", "our", "their", "those", "these")]
    heard = set(re.findall(r"[\w'’]+", answered.lower()))
    echoed = bool(content) and all(token in heard or token.rstrip("s") in heard for token in content)
    return phrase if (said_yes and content) or echoed else None
