"""Chat exports: a Slack export channel file or a plain list of messages (.json), and chat logs in text.

A chat app's text export or a copied thread is recognised by its shape, never by names: most lines
start with a time stamp and a sender (`[09:12] Ana: ...`, `12/03/2024, 09:12 - Ana: ...`,
`[2024-03-01 09:12] Ana: ...`), or a sender and a time head each message and its lines follow
(`Ana Lopez  9:12 AM`, as Slack and Teams copy a thread). Each message keeps its sender and time.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from assets.documents.models import DocumentKind, Location, ParsedDocument, Segment
from assets.documents.parsing.base import ParseOutcome, RejectedInput, decode_text, single

_SLACK_TS = re.compile(r"^\d{9,11}\.\d{1,6}$")
_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]+))?>")
_SKIPPED_SUBTYPES = {"channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name"}


def _slack_markup(text: str) -> str:
    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#")):
            return target[0] + (label or target[1:])
        if target.startswith("!"):
            return "@" + (label or target[1:])
        return f"{label} ({target})" if label and label != target else target

    text = _SLACK_LINK.sub(link, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _iso_time(value: Any) -> str | None:
    """Slack `ts` ("1700000000.000200"), epoch seconds or milliseconds, or ISO text -> ISO 8601."""
    if value is None or value == "":
        return None
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        number = float(value)
    if number is not None:
        if number > 1e11:
            number /= 1000.0
        try:
            return datetime.fromtimestamp(number, tz=UTC).isoformat(timespec="milliseconds")
        except (OverflowError, OSError, ValueError):
            return str(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).isoformat()
    except ValueError:
        return str(value)


def _speaker(message: dict[str, Any]) -> str | None:
    profile = message.get("user_profile")
    if isinstance(profile, dict):
        for key in ("real_name", "display_name", "name"):
            if profile.get(key):
                return str(profile[key])
    for key in ("user_name", "username", "author", "user", "bot_id"):
        if message.get(key):
            return str(message[key])
    return None


def _is_message(item: Any) -> bool:
    return isinstance(item, dict) and "text" in item and ("ts" in item or "user" in item or "author" in item)


def parse_chat_json(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    """A Slack export channel file, or a plain list of {user, text, ts} messages."""
    try:
        value = json.loads(decode_text(data, "JSON file"))
    except json.JSONDecodeError as error:
        raise RejectedInput(f"invalid JSON: {error}") from None
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    expected = (
        "expected a chat export: a list of messages with 'user', 'text' and 'ts' "
        "(a Slack export channel file)"
    )
    if not isinstance(value, list):
        raise RejectedInput(f"unsupported JSON: {expected}, found a {type(value).__name__}")
    messages = [item for item in value if _is_message(item)]
    if not messages:
        hint = ""
        if value and all(isinstance(item, dict) for item in value):
            keys = set().union(*(item.keys() for item in value if isinstance(item, dict)))
            if {"id", "name"} <= keys and ("real_name" in keys or "profile" in keys):
                hint = " (this looks like a Slack export's users.json)"
            elif {"id", "name"} <= keys and ("members" in keys or "created" in keys):
                hint = " (this looks like a Slack export's channels.json)"
        raise RejectedInput(f"unsupported JSON: {expected}; no message found{hint}")
    slack = any(
        item.get("type") == "message" or "user_profile" in item or _SLACK_TS.match(str(item.get("ts", "")))
        for item in messages
    )
    segments = []
    for number, message in enumerate(messages, start=1):
        if message.get("subtype") in _SKIPPED_SUBTYPES:
            continue
        text = str(message.get("text") or "")
        if slack:
            text = _slack_markup(text)
        files = [
            str(item.get("name") or item.get("title"))
            for item in message.get("files") or []
            if isinstance(item, dict)
        ]
        if files:
            text = (text + "\n" if text else "") + "[files: " + ", ".join(files) + "]"
        if not text.strip():
            continue
        location = Location(line=number, start=_iso_time(message.get("ts")), speaker=_speaker(message))
        segments.append(Segment(text=text.strip(), location=location))
    pure = PurePosixPath(name if depth else path)
    title = f"#{pure.parent.name} {pure.stem}" if slack and pure.parent.name else pure.stem
    kind: DocumentKind = "slack" if slack else "chat"
    return single(ParsedDocument(path=path, kind=kind, title=title, segments=segments))


@dataclass
class Turn:
    """One message or spoken turn of a text log: where it starts, who said it, what, and when."""

    line: int
    speaker: str
    text: str
    time: str | None


# Invisible marks some exports put before a line (WhatsApp on iOS: U+200E).
_INVISIBLE = dict.fromkeys(map(ord, "\u200e\u200f\ufeff\u2068\u2069"), None)
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?"
_STAMP = rf"(?:\d{{1,4}}[/.-]\d{{1,2}}[/.-]\d{{1,4}}(?:,\s*|\s+|T))?{_CLOCK}"
# "[09:12] ...", "12/03/2024, 09:12 - ...", "[2024-03-01 09:12] ...": a stamp, then the message.
_STAMPED = re.compile(rf"^\s*(?:\[(?P<bracketed>{_STAMP})\]|(?P<bare>{_STAMP})\s+[-–—])\s*(?P<rest>.*)$")
# The sender before the first ": " of a stamped line: a name or a phone number, no sentence in it.
_SENDER = re.compile(
    r"^(?P<speaker>[^\s:][^:.!?]{0,39}?)\s*:\s+(?P<text>\S.*)$|^(?P<alone>[^\s:][^:.!?]{0,39}?):$"
)
# "Ana Lopez  9:12 AM", "ben_k [14:02]", "Ana Lopez  Yesterday at 9:12 AM": a message header.
_HEADER = re.compile(
    r"^(?P<speaker>[^\W\d][^:!?]{0,39}?)\s+(?:[-–—]\s+)?\[?(?P<time>(?:(?:today|yesterday)(?:\s+at)?\s+)?"
    rf"{_CLOCK})\]?$",
    re.I,
)
# Day separators of a copied thread ("Today", "Tuesday, March 5th"), and edit marks.
_DAY_LINE = re.compile(
    r"^[-—–\s]*(?:today|yesterday|(?:mon|tues|wednes|thurs|fri|satur|sun)day\b[^:]{0,30}"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\s+\d{1,2}\w{0,2}(?:,?\s+\d{4})?)[-—–\s]*$",
    re.I,
)
_EDITED = re.compile(r"\s*\(edited\)\s*$", re.I)
MIN_MESSAGES = 4


def _lines(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.translate(_INVISIBLE).rstrip())
        for number, line in enumerate(text.split("\n"), start=1)
        if line.translate(_INVISIBLE).strip()
    ]


def _talk(turns: list[Turn]) -> bool:
    """Several people, some of whom write again: a conversation, not a list of dated notes."""
    counts = Counter(turn.speaker for turn in turns)
    return len(turns) >= MIN_MESSAGES and len(counts) >= 2 and max(counts.values()) >= 2


def stamped_turns(text: str) -> list[Turn] | None:
    """The messages of a log whose lines start with a time stamp, or None for other text.

    A stamped line without a sender is the app's own notice ("Ana added Ben") and is left out; a
    line without a stamp goes on with the message before it (a message over several lines).
    """
    lines = _lines(text)
    turns: list[Turn] = []
    stamped = 0
    last: Turn | None = None
    for number, line in lines:
        match = _STAMPED.match(line)
        if match is None:
            if last is not None:
                last.text = f"{last.text}\n{line.strip()}".strip()
            continue
        stamped += 1
        sender = _SENDER.match(match["rest"].strip())
        if sender is None:
            last = None  # a notice of the app; what follows it until the next stamp is the notice's
            continue
        speaker = " ".join((sender["speaker"] or sender["alone"]).split())
        last = Turn(number, speaker, sender["text"] or "", match["bracketed"] or match["bare"])
        turns.append(last)
    if stamped < 0.5 * len(lines) or len(turns) < 0.6 * stamped or not _talk(turns):
        return None
    return turns


def headed_turns(text: str) -> list[Turn] | None:
    """The messages of a copied thread (`Name  9:12 AM`, then its lines), or None for other text.

    Each line under a header is a message of that sender, as the app shows them one under another.
    """
    lines = _lines(text)
    turns: list[Turn] = []
    current: tuple[str, str] | None = None
    bodies: list[int] = []  # per header, how many lines it heads
    before = 0
    for number, line in lines:
        header = _HEADER.match(line.strip())
        if header is not None:
            current = (" ".join(header["speaker"].split()), header["time"])
            bodies.append(0)
            continue
        if current is None:
            before += 1  # a title or the channel name above the first message
            continue
        body = _EDITED.sub("", line.strip())
        if _DAY_LINE.match(body):
            continue
        bodies[-1] += 1
        turns.append(Turn(number, current[0], body, current[1]))
    headless = sum(1 for count in bodies if count == 0)
    if len(bodies) < 3 or before > 2 or headless > len(bodies) // 4 or not _talk(turns):
        return None
    return turns


def chat_log_turns(text: str) -> list[Turn] | None:
    """The messages of a chat app's text export or copied thread, or None when the text is no chat log."""
    return stamped_turns(text) or headed_turns(text)
