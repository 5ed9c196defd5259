"""Chat exports (.json): a Slack export channel file, or a plain list of messages."""

from __future__ import annotations

import json
import re
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
