"""Builders for small input files of every supported format, made by the real libraries.

Used by the parsing and intake tests and by `benchmarks/intake.py`.
"""

from __future__ import annotations

import io
import json
import os
import struct
from collections.abc import Iterable, Sequence
from email.message import EmailMessage
from pathlib import Path

from assets.documents.parsing import ParseOutcome, parse_source


def pdf_bytes(pages: Sequence[str], title: str = "") -> bytes:
    """A PDF with one page per string (lines split on newlines), with a real text layer."""
    import pymupdf

    doc = pymupdf.open()
    for text in pages:
        page = doc.new_page()
        if text:
            page.insert_text((50, 60), text, fontsize=10)
    if title:
        doc.set_metadata({"title": title})
    data = doc.tobytes()
    doc.close()
    return data


def docx_bytes(blocks: Iterable[tuple[str, object]], title: str = "") -> bytes:
    """A DOCX from ("title"|"heading1"|"heading2"|"paragraph"|"table", content) blocks."""
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    for kind, content in blocks:
        if kind == "title":
            document.add_heading(str(content), level=0)
        elif kind.startswith("heading"):
            document.add_heading(str(content), level=int(kind.removeprefix("heading") or 1))
        elif kind == "paragraph":
            document.add_paragraph(str(content))
        elif kind == "table":
            rows = list(content)  # type: ignore[call-overload]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    table.cell(r, c).text = str(value)
        else:
            raise ValueError(kind)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def eml_bytes(
    subject: str = "Requirements for the portal",
    body: str | None = "Hello team,\n\nThe portal must let users reset their password.\n",
    html: str | None = None,
    attachments: Sequence[tuple[str, bytes, str]] = (),
    sender: str = "Alice Example <alice@example.com>",
    to: str = "Bob Builder <bob@example.com>",
    cc: str | None = "Carol <carol@example.com>",
    date: str = "Mon, 15 Jan 2024 09:30:00 +0000",
) -> bytes:
    """An RFC 5322 message; `attachments` are (filename, data, mime type)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = date
    if body is not None:
        message.set_content(body)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        if mime == "message/rfc822":
            from email import message_from_bytes, policy

            message.add_attachment(message_from_bytes(data, policy=policy.default), filename=name)
        elif maintype == "text":
            message.add_attachment(data.decode("utf-8"), subtype=subtype, filename=name)
        else:
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _properties(header: bytes, fixed: dict[int, tuple[int, int]], variable: dict[int, bytes]) -> bytes:
    """A MAPI `__properties_version1.0` stream: header, then 16-byte entries (tag, flags, value)."""
    out = bytearray(header)
    for prop_id, (prop_type, value) in sorted(fixed.items()):
        out += struct.pack("<IIQ", (prop_id << 16) | prop_type, 0x6, value)
    for tag, data in sorted(variable.items()):
        out += struct.pack("<IIII", tag, 0x6, len(data) + (2 if tag & 0xFFFF == 0x001F else 0), 0)
    return bytes(out)


def msg_bytes(
    subject: str,
    body: str,
    sender: str = "Alice Example <alice@example.com>",
    to: str = "Bob Builder <bob@example.com>",
    cc: str = "",
    date: str = "Mon, 15 Jan 2024 09:30:00 +0000",
    attachments: Sequence[tuple[str, bytes]] = (),
) -> bytes:
    """An Outlook .msg (OLE compound file, MS-OXMSG layout) written with extract-msg's OleWriter."""
    from extract_msg.ole_writer import OleWriter

    headers = f"From: {sender}\r\nTo: {to}\r\n" + (f"Cc: {cc}\r\n" if cc else "")
    headers += f"Subject: {subject}\r\nDate: {date}\r\n\r\n"
    writer = OleWriter()
    strings = {
        0x001A001F: _utf16("IPM.Note"),
        0x0037001F: _utf16(subject),
        0x1000001F: _utf16(body),
        0x007D001F: _utf16(headers),
    }
    top = struct.pack("<8xIIII8x", 0, len(attachments), 0, len(attachments))
    writer.addEntry("__properties_version1.0", _properties(top, {0x0E07: (0x0003, 0)}, strings))
    for tag, data in strings.items():
        writer.addEntry(f"__substg1.0_{tag:08X}", data)
    writer.addEntry("__nameid_version1.0", storage=True)
    for stream in ("00020102", "00030102", "00040102"):  # GUID, entry and string streams, empty
        writer.addEntry(f"__nameid_version1.0/__substg1.0_{stream}", b"")
    for index, (name, data) in enumerate(attachments):
        base = f"__attach_version1.0_#{index:08X}"
        writer.addEntry(base, storage=True)
        values = {0x3707001F: _utf16(name), 0x3704001F: _utf16(name), 0x37010102: data}
        fixed = {0x3705: (0x0003, 1), 0x0E21: (0x0003, index)}  # attached by value; attachment number
        writer.addEntry(f"{base}/__properties_version1.0", _properties(b"\x00" * 8, fixed, values))
        for tag, value in values.items():
            writer.addEntry(f"{base}/__substg1.0_{tag:08X}", value)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def vtt_text(cues: Sequence[tuple[str, str, str]]) -> str:
    """WebVTT from (start, end, payload) cues; the payload may hold <v Name> tags or a 'Name:' prefix."""
    blocks = ["WEBVTT", ""]
    for start, end, payload in cues:
        blocks += [f"{start} --> {end}", payload, ""]
    return "\n".join(blocks)


def srt_text(cues: Sequence[tuple[str, str, str]]) -> str:
    """SubRip from (start, end, text) cues with times as HH:MM:SS,mmm."""
    blocks = []
    for number, (start, end, text) in enumerate(cues, start=1):
        blocks += [str(number), f"{start} --> {end}", text, ""]
    return "\n".join(blocks)


def slack_messages(messages: Sequence[tuple[str, str, str, str]]) -> bytes:
    """A Slack export channel file from (user id, real name, text, ts) tuples."""
    items = [
        {
            "type": "message",
            "user": user,
            "text": text,
            "ts": ts,
            "user_profile": {"real_name": name, "display_name": name.split()[0].lower()},
        }
        for user, name, text, ts in messages
    ]
    items.insert(
        1, {"type": "message", "subtype": "channel_join", "user": "U0", "text": "<@U0> has joined", "ts": "1"}
    )
    return json.dumps(items, indent=2).encode("utf-8")


def chat_messages(messages: Sequence[tuple[str, str, object]]) -> bytes:
    """A plain chat export: a list of {user, text, ts}."""
    return json.dumps([{"user": u, "text": t, "ts": ts} for u, t, ts in messages]).encode("utf-8")


MARKDOWN = """# Portal requirements

The portal serves customers of the shop.

## Accounts

- Users must be able to sign up with an e-mail address.
- Users must be able to reset their password.

| Role | May |
|------|-----|
| Admin | delete accounts |

```
GET /accounts
```

## Reports

Managers need a weekly sales report
that arrives on Monday morning.
"""

HTML = """<!doctype html>
<html>
<head><title>Portal spec</title><style>p { color: red; }</style></head>
<body>
<h1>Portal</h1>
<p>The portal must show <b>order history</b>
for every customer.</p>
<script>console.log("not text")</script>
<h2>Billing</h2>
<ul><li>Invoices must be downloadable as PDF.</li><li>Prices include VAT.</li></ul>
<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Basic</td><td>10 EUR</td></tr></table>
<div>Loose text in a div<p>and a nested paragraph</p></div>
</body>
</html>
"""


def sample_files() -> dict[str, bytes]:
    """One small valid file of each supported format, keyed by a path inside a project."""
    return {
        "spec/portal.pdf": pdf_bytes(
            ["Portal specification\nThe system shall export invoices.", "Users must log in with SSO."],
            title="Portal spec",
        ),
        "spec/plan.docx": docx_bytes(
            [
                ("heading1", "Scope"),
                ("paragraph", "The app must track orders."),
                ("table", [["A", "B"], ["1", "2"]]),
            ]
        ),
        "mail/kickoff.eml": eml_bytes(
            attachments=[("notes.txt", b"Attachment: users must export CSV.\n", "text/plain")]
        ),
        "mail/outlook.msg": msg_bytes("Outlook kickoff", "The portal must support dark mode.\r\n"),
        "meetings/standup.vtt": vtt_text(
            [("00:00:01.000", "00:00:04.000", "<v Alice>We need audit logs.</v>")]
        ).encode(),
        "meetings/review.srt": srt_text(
            [("00:00:01,000", "00:00:02,000", "Bob: Reports must be weekly.")]
        ).encode(),
        "slack/general/2024-01-15.json": slack_messages(
            [("U1", "Alice Example", "The app must send reminders.", "1705311000.000100")]
        ),
        "chat/team.json": chat_messages([("dana", "Exports should be in CSV.", "2024-01-15T10:00:00Z")]),
        "notes/readme.md": MARKDOWN.encode(),
        "notes/todo.txt": b"First paragraph line one.\nline two.\n\nSecond paragraph.\n",
        "notes/page.html": HTML.encode(),
    }


def write_files(root: Path, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        path = root.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def crashing_parser(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    """The real parser, except that a file named crash* kills its process and boom* raises."""
    name = path.rsplit("/", 1)[-1]
    if name.startswith("crash"):
        os._exit(3)
    if name.startswith("boom"):
        raise RuntimeError("parser exploded")
    return parse_source(path, data, max_bytes)
