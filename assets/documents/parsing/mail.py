"""E-mail (.eml, .msg): headers, the body (plain text preferred), attachments parsed as documents."""

from __future__ import annotations

import email
import email.message
import email.utils
from datetime import datetime
from email import policy
from pathlib import PurePosixPath
from typing import Any

from assets.documents.models import DocumentKind, Location, ParsedDocument, Segment
from assets.documents.parsing.base import ParseOutcome, RejectedInput, short, squash, text_segments
from assets.documents.parsing.web import html_blocks

_MAX_NESTING = 3  # e-mails attached to e-mails attached to e-mails


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
    from assets.documents.parsing import registry  # the registry imports this module

    outcome = ParseOutcome(documents=[])
    parsed_names: list[str] = []
    for name, data, skip in attachments:
        attachment_path = f"{path}#{name}"
        if skip is None and data is not None:
            if depth + 1 > _MAX_NESTING:
                skip = "attachment nested too deeply"
            else:
                try:
                    nested = registry.parse_nested(attachment_path, name, data, max_bytes, depth + 1)
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
    from assets.documents.parsing import registry

    return None if registry.is_supported(name) else registry.unsupported_reason(name)


def _mail_location(headers: dict[str, str], date: datetime | None) -> dict[str, Any]:
    sender = headers.get("From")
    if sender:
        display, address = email.utils.parseaddr(sender)
        sender = display or address or sender
    return {"start": date.isoformat() if date else None, "speaker": sender or None}


def _body_segments(text: str | None, html: str | None, location: dict[str, Any]) -> list[Segment]:
    if text and text.strip():
        return text_segments(text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""), **location)
    if html and html.strip():
        _, blocks = html_blocks(html)
        return [Segment(text=block, location=Location(line=line, **location)) for line, block, _ in blocks]
    return []


def parse_eml(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    try:
        message = email.message_from_bytes(data, policy=policy.default)
    except Exception as error:
        raise RejectedInput(f"not a readable e-mail: {short(error)}") from None
    headers: dict[str, str] = {}
    for header in ("From", "To", "Cc", "Subject", "Date"):
        try:
            value = message.get(header)
        except Exception:  # a malformed header must not lose the rest of the mail
            value = None
        if value is not None and str(value).strip():
            headers[header] = squash(str(value))
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


def parse_msg(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
    import extract_msg

    try:
        message = extract_msg.openMsg(data)
    except Exception as error:
        raise RejectedInput(f"not a readable Outlook .msg file: {short(error)}") from None
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
                headers[key] = squash(str(value).replace("\x00", ""))
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
        raise RejectedInput(f"corrupt Outlook .msg file: {short(error)}") from None
    finally:
        message.close()
    return _mail_outcome(path, "msg", headers, segments, attachments, max_bytes, depth)
