"""Parse one input file (path + bytes) into structured text: a pure function, no I/O.

Every format yields `Segment`s that carry a `Location` (page, line, or timestamp with speaker), so a
later stage can trace a requirement back to where it was said or written. Files that cannot be used
raise `RejectedInput` with a reason a person can act on.

Heavy libraries are imported lazily per format; `preload` imports them up front so forked parser
processes share them instead of importing them once each.
"""

from __future__ import annotations

import codecs
import email
import email.message
import email.utils
import hashlib
import importlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from pathlib import PurePosixPath
from typing import Any

from assets.documents.models import DocumentKind, Location, ParsedDocument, Segment


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


_MAX_NESTING = 3  # e-mails attached to e-mails attached to e-mails


def parse_file(path: str, data: bytes, max_bytes: int) -> list[ParsedDocument]:
    """Parse `data` as the file at `path`; an e-mail yields itself plus one document per attachment."""
    return parse_source(path, data, max_bytes).documents


def parse_source(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    """Like `parse_file`, also reporting raw size / hash per document and skipped attachments."""
    return _parse(path, PurePosixPath(path).name, data, max_bytes, depth=0)


def supported_extensions() -> list[str]:
    return sorted(_PARSERS)


def is_supported(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in _PARSERS


def unsupported_reason(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    what = f"file type '{suffix}'" if suffix else "file without an extension"
    return f"unsupported {what}; supported: {', '.join(supported_extensions())}"


def preload(names: Iterable[str] = ()) -> None:
    """Import the libraries the parsers of these file names need (all formats if none are given)."""
    suffixes = {PurePosixPath(name).suffix.lower() for name in names} or set(_PARSERS)
    for suffix in suffixes:
        for module in _LIBRARIES.get(suffix, ()):
            importlib.import_module(module)
    if ".pdf" in suffixes:
        _pymupdf()


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


def _parse(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    reason = check_size(len(data), max_bytes)
    if reason:
        raise RejectedInput(reason)
    parser = _PARSERS.get(PurePosixPath(name).suffix.lower())
    if parser is None:
        raise RejectedInput(unsupported_reason(name))
    outcome = parser(path, name, data, max_bytes, depth)
    if not any(document.segments for document in outcome.documents):
        raise RejectedInput(f"no extractable text in this {_KIND_NAMES[outcome.documents[0].kind]}")
    outcome.sources[path] = SourceFacts(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    return outcome


def _single(document: ParsedDocument) -> ParseOutcome:
    return ParseOutcome(documents=[document])


# --- text helpers -------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\r\f\v\u00a0]+")


def _squash(text: str) -> str:
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


def _paragraphs(text: str, first_line: int = 1) -> Iterator[tuple[int, str]]:
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


def _text_segments(text: str, **location: Any) -> list[Segment]:
    return [Segment(text=para, location=Location(line=line, **location)) for line, para in _paragraphs(text)]


# --- PDF ----------------------------------------------------------------------------------------


def _pymupdf() -> Any:
    import pymupdf

    # MuPDF prints repair warnings to stderr; the reason travels in the exception instead.
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    return pymupdf


def _parse_pdf(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    pymupdf = _pymupdf()
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as error:
        raise RejectedInput(f"corrupt PDF: cannot be opened ({_short(error)})") from None
    with doc:
        if doc.needs_pass:
            raise RejectedInput("password-protected PDF: remove the password and upload it again")
        segments = []
        try:
            for number, page in enumerate(doc, start=1):
                # Plain text extraction only: layout analysis costs far more and adds nothing here.
                text = page.get_text().strip()
                if text:
                    segments.append(Segment(text=text, location=Location(page=number)))
        except Exception as error:
            raise RejectedInput(
                f"corrupt PDF: page {len(segments) + 1} cannot be read ({_short(error)})"
            ) from None
        if doc.page_count == 0:
            raise RejectedInput("corrupt PDF: it has no pages")
        if not segments:
            raise RejectedInput(
                "no extractable text in this PDF (a scan without a text layer? OCR is not done)"
            )
        title = (doc.metadata or {}).get("title") or ""
    return _single(ParsedDocument(path=path, kind="pdf", title=title.strip(), segments=segments))


# --- DOCX ---------------------------------------------------------------------------------------


def _is_heading_style(style_name: str) -> bool:
    return style_name == "Title" or style_name.startswith("Heading")


def _parse_docx(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    """Paragraphs and table rows in body order; `line` numbers every paragraph and table row."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:
        raise RejectedInput(f"not a valid DOCX file (a Word 2007+ zip package): {_short(error)}") from None
    segments: list[Segment] = []
    heading: str | None = None
    title = ""
    number = 0
    try:
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    number += 1
                    cells: list[str] = []
                    seen: set[int] = set()
                    for cell in row.cells:
                        if id(cell._tc) in seen:  # a merged cell repeats across the columns it spans
                            continue
                        seen.add(id(cell._tc))
                        cells.append(_squash(cell.text.replace("\n", " ")))
                    text = " | ".join(cells)
                    if text.strip(" |"):
                        segments.append(Segment(text=text, location=Location(line=number), heading=heading))
                continue
            number += 1
            text = block.text.strip()
            if not text:
                continue
            style = block.style.name if block.style is not None else ""
            if _is_heading_style(style or ""):
                heading = _squash(text)
                if style == "Title" and not title:
                    title = heading
            segments.append(Segment(text=text, location=Location(line=number), heading=heading))
        title = document.core_properties.title or title
    except RejectedInput:
        raise
    except Exception as error:
        raise RejectedInput(f"corrupt DOCX: {_short(error)}") from None
    return _single(ParsedDocument(path=path, kind="docx", title=title.strip(), segments=segments))


# --- HTML ---------------------------------------------------------------------------------------

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "header", "li", "main", "nav", "ol", "p", "section",
    "summary", "table", "tbody", "thead", "tfoot", "ul", "html",
}  # fmt: skip
_HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_DROPPED_TAGS = ["script", "style", "noscript", "template", "head", "svg"]


def html_blocks(markup: str) -> tuple[str, list[tuple[int | None, str, bool]]]:
    """(title, [(source line, text, is_heading)]) for each block of visible text, in order."""
    from bs4 import BeautifulSoup, NavigableString, Tag
    from bs4.element import PreformattedString

    soup = BeautifulSoup(markup, "html.parser")
    title_tag = soup.find("title")
    title = _squash(title_tag.get_text(" ")) if title_tag else ""
    for tag in soup(_DROPPED_TAGS):
        tag.decompose()
    blocks: list[tuple[int | None, str, bool]] = []
    buffer: list[str] = []
    buffer_line: list[int | None] = [None]

    def flush() -> None:
        # Inline elements join without a separator, as a browser renders them; <br> gave "\n".
        lines = (_squash(line) for line in "".join(buffer).split("\n"))
        text = "\n".join(line for line in lines if line)
        if text:
            blocks.append((buffer_line[0], text, False))
        buffer.clear()
        buffer_line[0] = None

    def walk(element: Tag) -> None:
        for child in element.children:
            if isinstance(child, PreformattedString):  # comments, doctype, processing instructions
                continue
            if isinstance(child, NavigableString):
                if buffer_line[0] is None and child.strip():
                    buffer_line[0] = element.sourceline
                buffer.append(str(child).replace("\n", " "))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in _HEADING_TAGS or name in ("pre", "tr"):
                flush()
                if name == "tr":
                    cells = [
                        _squash(cell.get_text(" ")) for cell in child.find_all(["td", "th"], recursive=False)
                    ]
                    text = " | ".join(cells) if any(cells) else ""
                elif name == "pre":
                    text = child.get_text().strip("\n")
                else:
                    text = _squash(child.get_text(" "))
                if text.strip():
                    blocks.append((child.sourceline, text, name in _HEADING_TAGS))
            elif name == "br":
                buffer.append("\n")
            elif name in _BLOCK_TAGS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(soup)
    flush()
    return title, blocks


def _parse_html(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    title, blocks = html_blocks(decode_text(data, "HTML file"))
    segments = []
    heading: str | None = None
    for line, text, is_heading in blocks:
        if is_heading:
            heading = text
        segments.append(Segment(text=text, location=Location(line=line), heading=heading))
    return _single(ParsedDocument(path=path, kind="html", title=title, segments=segments))


# --- Markdown and plain text ---------------------------------------------------------------------


def _inline_text(token: Any) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
        elif child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts).strip()


def _parse_markdown(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    """One segment per paragraph, list item paragraph, heading, code block and table row."""
    from markdown_it import MarkdownIt

    text = decode_text(data, "Markdown file")
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    segments: list[Segment] = []
    heading: str | None = None
    title = ""
    row: list[str] | None = None
    row_line = 0
    for index, token in enumerate(tokens):
        line = token.map[0] + 1 if token.map else None
        if token.type == "heading_open":
            heading = _inline_text(tokens[index + 1])
            title = title or (heading if token.tag == "h1" else "")
            if heading:
                segments.append(Segment(text=heading, location=Location(line=line), heading=heading))
        elif token.type == "paragraph_open":
            content = _inline_text(tokens[index + 1])
            if content:
                segments.append(Segment(text=content, location=Location(line=line), heading=heading))
        elif token.type in ("fence", "code_block") and token.content.strip():
            if token.type == "fence" and line is not None:
                line += 1  # the code starts below the opening ``` line
            segments.append(
                Segment(text=token.content.rstrip(), location=Location(line=line), heading=heading)
            )
        elif token.type == "html_block":
            _, blocks = html_blocks(token.content)
            content = "\n".join(block_text for _, block_text, _ in blocks)
            if content:
                segments.append(Segment(text=content, location=Location(line=line), heading=heading))
        elif token.type == "tr_open":
            row, row_line = [], line or 0
        elif token.type == "inline" and row is not None:
            row.append(_inline_text(token))
        elif token.type == "tr_close" and row is not None:
            if any(row):
                segments.append(
                    Segment(text=" | ".join(row), location=Location(line=row_line), heading=heading)
                )
            row = None
    return _single(ParsedDocument(path=path, kind="markdown", title=title, segments=segments))


def _parse_text(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    segments = _text_segments(decode_text(data))
    return _single(ParsedDocument(path=path, kind="text", title=PurePosixPath(name).stem, segments=segments))


# --- transcripts --------------------------------------------------------------------------------

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


def _parse_vtt(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    text = decode_text(data, "WebVTT file")
    try:
        captions = webvtt.WebVTT.from_string(text).captions
    except (MalformedFileError, MalformedCaptionError) as error:
        raise RejectedInput(f"not a valid WebVTT transcript: {_short(error)}") from None
    segments = []
    for cue in captions:
        speaker = cue.voice
        body = _squash(cue.text.replace("\n", " "))
        if not speaker:
            speaker, body = split_speaker(body)
        if body:
            location = Location(start=cue.start, end=cue.end, speaker=speaker)
            segments.append(Segment(text=body, location=location))
    return _single(ParsedDocument(path=path, kind="vtt", title=PurePosixPath(name).stem, segments=segments))


def _srt_time(value: Any) -> str:
    return str(value).replace(",", ".")


def _parse_srt(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    import pysrt

    text = decode_text(data, "SubRip file")
    try:
        items = pysrt.from_string(text, error_handling=pysrt.ERROR_RAISE)
    except Exception as error:
        raise RejectedInput(f"not a valid SubRip (.srt) transcript: {_short(error)}") from None
    segments = []
    for item in items:
        speaker, body = split_speaker(_squash(item.text_without_tags.replace("\n", " ")))
        if body:
            location = Location(start=_srt_time(item.start), end=_srt_time(item.end), speaker=speaker)
            segments.append(Segment(text=body, location=location))
    return _single(ParsedDocument(path=path, kind="srt", title=PurePosixPath(name).stem, segments=segments))


# --- chat exports -------------------------------------------------------------------------------

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


def _parse_chat_json(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
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
    return _single(ParsedDocument(path=path, kind=kind, title=title, segments=segments))


# --- e-mail -------------------------------------------------------------------------------------


def _attachment_name(raw: str | None, used: set[str], fallback: str) -> str:
    # '#' separates the mail's path from the attachment's name, so it cannot be part of the name.
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].replace("#", "_").strip() or fallback
    candidate, number = name, 1
    stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
    while candidate.lower() in used:
        number += 1
        candidate = f"{stem} ({number}){suffix}"
    used.add(candidate.lower())
    return candidate


def _mail_outcome(
    path: str,
    kind: DocumentKind,
    headers: dict[str, str],
    body_segments: list[Segment],
    attachments: list[tuple[str, bytes | None, str | None]],
    max_bytes: int,
    depth: int,
) -> ParseOutcome:
    """The mail document followed by its attachments; `attachments` holds (name, data, skip reason)."""
    outcome = ParseOutcome(documents=[])
    parsed_names: list[str] = []
    for name, data, skip in attachments:
        attachment_path = f"{path}#{name}"
        if skip is None and data is not None:
            if depth + 1 > _MAX_NESTING:
                skip = "attachment nested too deeply"
            else:
                try:
                    nested = _parse(attachment_path, name, data, max_bytes, depth + 1)
                except RejectedInput as error:
                    skip = error.reason
                else:
                    outcome.documents.extend(nested.documents)
                    outcome.sources.update(nested.sources)
                    outcome.skipped.extend(nested.skipped)
                    parsed_names.append(name)
                    continue
        outcome.skipped.append((attachment_path, f"attachment skipped: {skip}"))
    if parsed_names:
        headers["Attachments"] = ", ".join(parsed_names)
    skipped_here = [(p.rsplit("#", 1)[-1], r) for p, r in outcome.skipped if p.rsplit("#", 1)[0] == path]
    if skipped_here:
        headers["Skipped-Attachments"] = "; ".join(f"{name} ({reason})" for name, reason in skipped_here)
    mail = ParsedDocument(
        path=path, kind=kind, title=headers.get("Subject", ""), headers=headers, segments=body_segments
    )
    outcome.documents.insert(0, mail)
    return outcome


def _attachment_check(name: str) -> str | None:
    return None if is_supported(name) else unsupported_reason(name)


def _mail_location(headers: dict[str, str], date: datetime | None) -> dict[str, Any]:
    sender = headers.get("From")
    if sender:
        display, address = email.utils.parseaddr(sender)
        sender = display or address or sender
    return {"start": date.isoformat() if date else None, "speaker": sender or None}


def _body_segments(text: str | None, html: str | None, location: dict[str, Any]) -> list[Segment]:
    if text and text.strip():
        return _text_segments(text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""), **location)
    if html and html.strip():
        _, blocks = html_blocks(html)
        return [Segment(text=block, location=Location(line=line, **location)) for line, block, _ in blocks]
    return []


def _parse_eml(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    try:
        message = email.message_from_bytes(data, policy=policy.default)
    except Exception as error:
        raise RejectedInput(f"not a readable e-mail: {_short(error)}") from None
    headers: dict[str, str] = {}
    for header in ("From", "To", "Cc", "Subject", "Date"):
        try:
            value = message.get(header)
        except Exception:  # a malformed header must not lose the rest of the mail
            value = None
        if value is not None and str(value).strip():
            headers[header] = _squash(str(value))
    if not headers:
        raise RejectedInput("not an e-mail: no From, To, Subject or Date header found")
    date = None
    if "Date" in headers:
        try:
            date = email.utils.parsedate_to_datetime(headers["Date"])
        except (TypeError, ValueError):
            date = None
    plain, html = _mail_bodies(message)
    segments = _body_segments(plain, html, _mail_location(headers, date))

    attachments: list[tuple[str, bytes | None, str | None]] = []
    used: set[str] = set()
    for part in message.iter_attachments():
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            name = _attachment_name(part.get_filename(), used, "attached-message.eml")
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, email.message.Message):
                attachments.append((name, inner.as_bytes(), None))
            else:
                attachments.append((name, None, "the attached message cannot be read"))
            continue
        name = _attachment_name(part.get_filename(), used, f"unnamed.{content_type.replace('/', '-')}")
        skip = _attachment_check(name)
        content = None if skip else part.get_payload(decode=True)
        if skip is None and not content:
            skip = "empty attachment"
        attachments.append((name, content, skip))
    return _mail_outcome(path, "eml", headers, segments, attachments, max_bytes, depth)


def _mail_bodies(message: email.message.EmailMessage) -> tuple[str | None, str | None]:
    """(text/plain body, text/html body) of the message; plain text is preferred by the caller."""
    found: dict[str, str | None] = {"plain": None, "html": None}
    for subtype in ("plain", "html"):
        part = message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            continue
        try:
            found[subtype] = part.get_content()
        except Exception:
            payload = part.get_payload(decode=True) or b""
            found[subtype] = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return found["plain"], found["html"]


def _parse_msg(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    import extract_msg

    try:
        message = extract_msg.openMsg(data)
    except Exception as error:
        raise RejectedInput(f"not a readable Outlook .msg file: {_short(error)}") from None
    try:
        if not hasattr(message, "body"):
            raise RejectedInput(
                f"unsupported Outlook item ({message.classType}): only e-mail messages are read"
            )
        headers: dict[str, str] = {}
        header_block = message.header if message.headerText else None
        values = {
            "From": message.sender,
            "To": message.to,
            "Cc": message.cc,
            "Subject": message.subject,
            "Date": header_block.get("Date") if header_block is not None else None,
        }
        date = message.date if not values["Date"] else None
        if date is not None:
            values["Date"] = email.utils.format_datetime(date)
        for key, value in values.items():
            if value and str(value).strip("\x00 "):
                headers[key] = _squash(str(value).replace("\x00", ""))
        parsed_date = None
        if "Date" in headers:
            try:
                parsed_date = email.utils.parsedate_to_datetime(headers["Date"])
            except (TypeError, ValueError):
                parsed_date = None
        html = None
        plain = message.body
        if not (plain and plain.strip("\x00 \r\n")):
            raw_html = message.htmlBody
            html = raw_html.decode("utf-8", errors="replace") if isinstance(raw_html, bytes) else raw_html
        segments = _body_segments(plain, html, _mail_location(headers, parsed_date))

        attachments: list[tuple[str, bytes | None, str | None]] = []
        used: set[str] = set()
        for attachment in message.attachments:
            raw_name = getattr(attachment, "longFilename", None) or getattr(attachment, "shortFilename", None)
            name = _attachment_name(raw_name, used, "unnamed-attachment")
            content = getattr(attachment, "data", None)
            if not isinstance(content, bytes):
                attachments.append((name, None, "embedded item, not a file"))
                continue
            skip = _attachment_check(name)
            attachments.append((name, None if skip else content, skip))
    except RejectedInput:
        raise
    except Exception as error:
        raise RejectedInput(f"corrupt Outlook .msg file: {_short(error)}") from None
    finally:
        message.close()
    return _mail_outcome(path, "msg", headers, segments, attachments, max_bytes, depth)


# --- registry -----------------------------------------------------------------------------------


def _short(error: BaseException, limit: int = 200) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


_Parser = Callable[[str, str, bytes, int, int], ParseOutcome]

_PARSERS: dict[str, _Parser] = {
    ".pdf": _parse_pdf,
    ".docx": _parse_docx,
    ".eml": _parse_eml,
    ".msg": _parse_msg,
    ".vtt": _parse_vtt,
    ".srt": _parse_srt,
    ".json": _parse_chat_json,
    ".md": _parse_markdown,
    ".markdown": _parse_markdown,
    ".txt": _parse_text,
    ".html": _parse_html,
    ".htm": _parse_html,
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
