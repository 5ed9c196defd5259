"""What every parser shares: the outcome and rejection types, decoding, paragraphs, size limits."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assets.documents.models import Location, ParsedDocument, Segment


class RejectedInput(ValueError):
    """A file that cannot be used; `reason` says why, in words a person can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class SourceFacts:
    """Size and sha256 of the raw bytes a parsed document came from (a file or an attachment)."""

    size: int
    sha256: str


@dataclass
class ParseOutcome:
    """What one file yields: its documents (an e-mail: itself, then its attachments) and skips."""

    documents: list[ParsedDocument]
    sources: dict[str, SourceFacts] = field(default_factory=dict)  # document path -> raw bytes facts
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (attachment path, reason)


def human_size(size: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def check_size(size: int, max_bytes: int) -> str | None:
    """The reason a file of `size` bytes is refused, or None if its size is acceptable."""
    if size == 0:
        return "empty file (0 bytes)"
    if size > max_bytes:
        return f"file is {human_size(size)}, over the {human_size(max_bytes)} limit (PIPELINE_MAX_FILE_MB)"
    return None


def single(document: ParsedDocument) -> ParseOutcome:
    return ParseOutcome(documents=[document])


_WHITESPACE = re.compile(r"[ \t\r\f\v\u00a0]+")


def squash(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def decode_text(data: bytes, what: str = "text file") -> str:
    """Bytes to text: BOMs honoured, UTF-8 first, else the most likely legacy encoding."""
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:8192]:
        raise RejectedInput(f"binary data, not a {what} (contains NUL bytes)")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            import charset_normalizer

            best = charset_normalizer.from_bytes(data).best()
            if best is None:
                raise RejectedInput(f"binary data, not a {what} (no text encoding fits)") from None
            text = str(best)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def paragraphs(text: str, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """(line number of the first line, paragraph) for each blank-line separated paragraph."""
    block: list[str] = []
    start = first_line
    for number, line in enumerate(text.split("\n"), start=first_line):
        if line.strip():
            if not block:
                start = number
            block.append(line.rstrip())
        elif block:
            yield start, "\n".join(block).strip()
            block = []
    if block:
        yield start, "\n".join(block).strip()


def text_segments(text: str, **location: Any) -> list[Segment]:
    return [Segment(text=para, location=Location(line=line, **location)) for line, para in paragraphs(text)]


def short(error: BaseException, limit: int = 200) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
