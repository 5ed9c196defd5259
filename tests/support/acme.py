"""The example project `examples/acme-tasks/` as ParsedDocuments, for requirement and design tests.

`plain_parse` is a small, fixed reading of the committed example formats (Markdown line by line
under its headings, WebVTT cues with speakers, SubRip cues, a plain-text e-mail body paragraph by
paragraph, a JSON chat message by message) so that these tests do not move when the documents
stage's parser changes; `tests/test_requirements.py` also runs the real parser over the same files
when it is present.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from pathlib import Path

import dagster as dg
import pysrt
import pytest
import webvtt

from assets.documents.models import (
    DocumentRecord,
    DocumentsSnapshot,
    DocumentVersion,
    Location,
    ParsedDocument,
    Segment,
)
from pipeline_core.hashing import content_hash
from resources.io_manager import asset_value_key
from resources.object_store import ObjectStore

ACME = Path(__file__).resolve().parents[2] / "examples" / "acme-tasks"
ACME_FILES = (
    "client-email.eml",
    "design-review.srt",
    "kickoff-meeting.vtt",
    "requirements.md",
    "team-chat.json",
)


def _markdown(path: str, text: str) -> ParsedDocument:
    segments, heading, title = [], None, ""
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"^(#{1,6})\s+(.*)$", line)
        if match:
            heading = match.group(2).strip()
            title = title or heading
            continue
        if line.strip():
            segments.append(Segment(text=line.strip(), location=Location(line=number), heading=heading))
    return ParsedDocument(path=path, kind="markdown", title=title, segments=segments)


def _vtt(path: str, text: str) -> ParsedDocument:
    segments = [
        Segment(
            text=caption.text,
            location=Location(start=caption.start, end=caption.end, speaker=caption.voice or None),
        )
        for caption in webvtt.from_string(text)
    ]
    return ParsedDocument(path=path, kind="vtt", segments=segments)


def _srt(path: str, text: str) -> ParsedDocument:
    segments = [
        Segment(
            text=item.text,
            location=Location(start=str(item.start).replace(",", "."), end=str(item.end).replace(",", ".")),
        )
        for item in pysrt.from_string(text)
    ]
    return ParsedDocument(path=path, kind="srt", segments=segments)


def _eml(path: str, data: bytes) -> ParsedDocument:
    message = email.message_from_bytes(data, policy=email.policy.default)
    headers = {name: str(message[name]) for name in ("From", "To", "Subject", "Date") if message[name]}
    body = message.get_body(preferencelist=("plain",)).get_content()
    segments, paragraph, start = [], [], 0
    for number, line in enumerate([*body.splitlines(), ""], start=1):
        if line.strip():
            if not paragraph:
                start = number
            paragraph.append(line.strip())
        elif paragraph:
            segments.append(Segment(text="\n".join(paragraph), location=Location(line=start)))
            paragraph = []
    return ParsedDocument(
        path=path, kind="eml", title=headers.get("Subject", ""), headers=headers, segments=segments
    )


def _chat(path: str, text: str) -> ParsedDocument:
    segments = [
        Segment(text=message["text"], location=Location(start=message["ts"], speaker=message["user"]))
        for message in json.loads(text)
    ]
    return ParsedDocument(path=path, kind="chat", segments=segments)


def plain_parse(path: str, data: bytes) -> ParsedDocument:
    """One example file (by its name's suffix) as a ParsedDocument."""
    suffix = path.rsplit(".", 1)[-1]
    text = data.decode("utf-8")
    readers = {"md": _markdown, "vtt": _vtt, "srt": _srt, "json": _chat}
    if suffix == "eml":
        return _eml(path, data)
    return readers[suffix](path, text)


def acme_file(name: str) -> bytes:
    return (ACME / name).read_bytes()


def acme_parsed(overrides: dict[str, bytes] | None = None) -> list[tuple[tuple[str, str], ParsedDocument]]:
    """((path, version hash), ParsedDocument) for every example file, with some contents replaced."""
    overrides = overrides or {}
    out = []
    for name in ACME_FILES:
        data = overrides.get(name, acme_file(name))
        out.append(((name, content_hash(data)), plain_parse(name, data)))
    return out


@pytest.fixture
def acme_documents() -> list[tuple[tuple[str, str], ParsedDocument]]:
    return acme_parsed()


def stage_project(
    artifacts: ObjectStore,
    project: str,
    documents: list[tuple[tuple[str, str], ParsedDocument]],
    missing: tuple[str, ...] = (),
) -> DocumentsSnapshot:
    """Store parsed documents and the `documents` value the way the documents stage leaves them.

    Paths in `missing` get a record whose parsed artifact was never written (an unreadable input).
    """
    records = []
    for (path, version), doc in documents:
        key = f"parsed/{project}/{version}.json"
        if path not in missing:
            artifacts.put_text(key, doc.model_dump_json())
        current = DocumentVersion(
            number=1,
            status="active",
            content_hash=version,
            size=len(doc.text),
            parsed_key=key,
            recorded_at="2026-03-03T12:00:00+00:00",
        )
        records.append(
            DocumentRecord(path=path, kind=doc.kind, source_key=f"{project}/{path}", versions=[current])
        )
    snapshot = DocumentsSnapshot(project=project, documents=records)
    artifacts.put_text(asset_value_key(dg.AssetKey("documents"), project), snapshot.model_dump_json())
    return snapshot
