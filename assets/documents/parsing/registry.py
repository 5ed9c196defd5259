"""Which parser reads which file: the registry by extension, and the entry points around it."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

from assets.documents.models import ParsedDocument
from assets.documents.parsing.base import ParseOutcome, RejectedInput, SourceFacts, check_size
from assets.documents.parsing.captions import parse_srt, parse_vtt
from assets.documents.parsing.chat import parse_chat_json
from assets.documents.parsing.mail import parse_eml, parse_msg
from assets.documents.parsing.pdf import load_pymupdf, parse_pdf
from assets.documents.parsing.text import parse_text
from assets.documents.parsing.web import parse_html, parse_markdown
from assets.documents.parsing.word import parse_docx

Parser = Callable[[str, str, bytes, int, int], ParseOutcome]

PARSERS: dict[str, Parser] = {
    ".pdf": parse_pdf,
    ".docx": parse_docx,
    ".eml": parse_eml,
    ".msg": parse_msg,
    ".vtt": parse_vtt,
    ".srt": parse_srt,
    ".json": parse_chat_json,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_text,
    ".html": parse_html,
    ".htm": parse_html,
}

_LIBRARIES: dict[str, tuple[str, ...]] = {
    ".pdf": ("pymupdf",),
    ".docx": ("docx",),
    ".eml": ("bs4",),
    ".msg": ("extract_msg", "bs4"),
    ".vtt": ("webvtt",),
    ".srt": ("pysrt",),
    ".md": ("markdown_it", "bs4"),
    ".markdown": ("markdown_it", "bs4"),
    ".html": ("bs4",),
    ".htm": ("bs4",),
}

_KIND_NAMES: dict[str, str] = {
    "pdf": "PDF",
    "docx": "DOCX document",
    "eml": "e-mail (empty body and no readable attachment)",
    "msg": "Outlook message (empty body and no readable attachment)",
    "vtt": "WebVTT transcript",
    "srt": "SubRip transcript",
    "slack": "Slack export",
    "chat": "chat export",
    "markdown": "Markdown file",
    "text": "text file",
    "html": "HTML page",
}


def parse_file(path: str, data: bytes, max_bytes: int) -> list[ParsedDocument]:
    """Parse `data` as the file at `path`; an e-mail yields itself plus one document per attachment."""
    return parse_source(path, data, max_bytes).documents


def parse_source(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    """Like `parse_file`, also reporting raw size / hash per document and skipped attachments."""
    return parse_nested(path, PurePosixPath(path).name, data, max_bytes, depth=0)


def supported_extensions() -> list[str]:
    return sorted(PARSERS)


def is_supported(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in PARSERS


def unsupported_reason(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    what = f"file type '{suffix}'" if suffix else "file without an extension"
    return f"unsupported {what}; supported: {', '.join(supported_extensions())}"


def preload(names: Iterable[str] = ()) -> None:
    """Import the libraries the parsers of these file names need (all formats if none are given)."""
    suffixes = {PurePosixPath(name).suffix.lower() for name in names} or set(PARSERS)
    for suffix in suffixes:
        for module in _LIBRARIES.get(suffix, ()):
            importlib.import_module(module)
    if ".pdf" in suffixes:
        load_pymupdf()


def parse_nested(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    """One file (or attachment `name` at nesting `depth`) through the parser of its extension.

    An attachment gets the archive check a top-level file gets before its parser runs (a zip bomb
    attached to an e-mail is refused with the size it expands to, before anything inflates it).
    """
    reason = check_size(len(data), max_bytes)
    if reason:
        raise RejectedInput(reason)
    parser = PARSERS.get(PurePosixPath(name).suffix.lower())
    if parser is None:
        raise RejectedInput(unsupported_reason(name))
    if depth > 0:
        from assets.documents.limits import nested_archive_rejection  # limits imports this package

        reason = nested_archive_rejection(name, data)
        if reason:
            raise RejectedInput(reason)
    outcome = parser(path, name, data, max_bytes, depth)
    if not any(document.segments for document in outcome.documents):
        raise RejectedInput(f"no extractable text in this {_KIND_NAMES[outcome.documents[0].kind]}")
    outcome.sources[path] = SourceFacts(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    return outcome
