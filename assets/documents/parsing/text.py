"""Plain text (.txt): paragraphs, or one turn per segment when the text is a transcript or chat log.

Meeting tools export conversations as one `Speaker: text` line per turn (`Alice (00:01:02): ...`).
Such a file is recognised by its shape, not by particular names: most lines are turns, a few
speakers take turns again and again. Chat apps' text exports and copied threads (a time stamp on
every message) are recognised in `chat`. Each turn then keeps its speaker (and time), as cues of a
`.vtt` file do; a chat log is a document of kind "chat", written, not spoken.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import PurePosixPath

from assets.documents.models import DocumentKind, Location, ParsedDocument, Segment
from assets.documents.parsing.base import ParseOutcome, decode_text, single, squash, text_segments
from assets.documents.parsing.chat import Turn, chat_log_turns

# An optional time ("[10:02]", "10:02:13", "12/03/2024, 10:15 -"), then a speaker of at most five
# words (letters, digits as in "Speaker 2", dots, apostrophes, hyphens, underscores), then ": text".
_TURN = re.compile(
    r"^\s*(?:\[?(?P<time>(?:\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4},?\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?"
    r"(?:\s?[AaPp][Mm])?)\]?\s*(?:-\s*)?)?"
    r"(?P<speaker>[^\W\d][\w.'’-]*(?: [\w.'’-]+){0,4}?)\s*(?:\((?P<time2>[\d:.]+)\))?\s*:\s+(?P<text>\S.*)$",
    re.UNICODE,
)
# Labels that start lines of a written document ("Priority: Must", "Note: ..."), not speakers.
_LABEL_WORDS = frozenset(
    """priority note notes given when then and but acceptance criteria title subject date from to cc
    status owner version author summary description goal goals example examples rationale scenario
    tip warning important question answer q a re fw fwd""".split()
)
MIN_TURNS = 4
MIN_TURN_SHARE = 0.6


def _turn(line: str, number: int) -> Turn | None:
    match = _TURN.match(line)
    if match is None:
        return None
    speaker = squash(match["speaker"])
    if speaker.lower() in _LABEL_WORDS or speaker.lower().startswith(("http", "www")):
        return None
    return Turn(number, speaker, match["text"].strip(), match["time"] or match["time2"])


def transcript_turns(text: str) -> list[Turn] | None:
    """The turns of a `Speaker: text` transcript, or None when the text does not have that shape.

    A line that is not a turn continues the turn before it (a long turn wrapped over lines).
    """
    turns: list[Turn] = []
    lines = [(number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]
    if not lines:
        return None
    for number, line in lines:
        turn = _turn(line, number)
        if turn is not None:
            turns.append(turn)
        elif turns:
            turns[-1].text = f"{turns[-1].text} {line.strip()}"
    counts = Counter(turn.speaker for turn in turns)
    recurring = sum(count for count in counts.values() if count >= 2)
    is_transcript = (
        len(turns) >= MIN_TURNS
        and len(turns) >= MIN_TURN_SHARE * len(lines)
        and len(counts) >= 2
        and recurring >= 0.7 * len(turns)  # the same few people speak again and again
    )
    return turns if is_transcript else None


def parse_text(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    text = decode_text(data)
    title = PurePosixPath(name).stem
    kind: DocumentKind = "text"
    turns = chat_log_turns(text)
    if turns is not None:
        kind = "chat"
    else:
        turns = transcript_turns(text)
    if turns is None:
        segments = text_segments(text)
    else:
        segments = [
            Segment(
                text=squash(turn.text),
                location=Location(line=turn.line, start=turn.time, speaker=turn.speaker),
            )
            for turn in turns
            if turn.text.strip()
        ]
    return single(ParsedDocument(path=path, kind=kind, title=title, segments=segments))
