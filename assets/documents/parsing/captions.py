"""Caption transcripts (.vtt, .srt): one segment per cue with its times and speaker."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

from assets.documents.models import Location, ParsedDocument, Segment
from assets.documents.parsing.base import ParseOutcome, RejectedInput, decode_text, short, single, squash

# "Alice:" or "Dr. Alice Smith:" at the start of a cue: at most four words, no digits.
_SPEAKER_PREFIX = re.compile(
    r"^\s*(?:-\s*)?([^\W\d][\w.'’-]*(?: [^\W\d][\w.'’-]*){0,3})\s*:\s+(?=\S)", re.UNICODE
)


def split_speaker(text: str) -> tuple[str | None, str]:
    """('Alice', 'rest') for 'Alice: rest'; (None, text) when there is no speaker prefix."""
    match = _SPEAKER_PREFIX.match(text)
    if not match:
        return None, text.strip()
    return match.group(1).strip(), text[match.end() :].strip()


def parse_vtt(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    text = decode_text(data, "WebVTT file")
    try:
        captions = webvtt.WebVTT.from_string(text).captions
    except (MalformedFileError, MalformedCaptionError) as error:
        raise RejectedInput(f"not a valid WebVTT transcript: {short(error)}") from None
    segments = []
    for cue in captions:
        speaker = cue.voice
        body = squash(cue.text.replace("\n", " "))
        if not speaker:
            speaker, body = split_speaker(body)
        if body:
            location = Location(start=cue.start, end=cue.end, speaker=speaker)
            segments.append(Segment(text=body, location=location))
    return single(ParsedDocument(path=path, kind="vtt", title=PurePosixPath(name).stem, segments=segments))


def _srt_time(value: Any) -> str:
    return str(value).replace(",", ".")


def parse_srt(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    import pysrt

    text = decode_text(data, "SubRip file")
    try:
        items = pysrt.from_string(text, error_handling=pysrt.ERROR_RAISE)
    except Exception as error:
        raise RejectedInput(f"not a valid SubRip (.srt) transcript: {short(error)}") from None
    segments = []
    for item in items:
        speaker, body = split_speaker(squash(item.text_without_tags.replace("\n", " ")))
        if body:
            location = Location(start=_srt_time(item.start), end=_srt_time(item.end), speaker=speaker)
            segments.append(Segment(text=body, location=location))
    return single(ParsedDocument(path=path, kind="srt", title=PurePosixPath(name).stem, segments=segments))
