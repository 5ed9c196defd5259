"""Records of the documents stage that later stages read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from pipeline_core.hashing import content_hash

DocumentKind = Literal["pdf", "docx", "eml", "msg", "vtt", "srt", "slack", "chat", "markdown", "text", "html"]


class Location(BaseModel):
    """Where in a document a piece of text stands: page, line, or timestamp (with speaker)."""

    page: int | None = None
    line: int | None = None
    start: str | None = None  # "HH:MM:SS.mmm" for transcripts, ISO time for chats and e-mails
    end: str | None = None
    speaker: str | None = None

    def describe(self) -> str:
        parts = []
        if self.page is not None:
            parts.append(f"page {self.page}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.start:
            parts.append(f"{self.start}" + (f"–{self.end}" if self.end else ""))
        if self.speaker:
            parts.append(f"({self.speaker})")
        return " ".join(parts) or "whole document"


class Segment(BaseModel):
    """A run of text with its location: a page, a paragraph, a cue, a chat message."""

    text: str
    location: Location = Field(default_factory=Location)
    heading: str | None = None  # the nearest heading above this segment, if the format has headings
    list_item: bool = False  # an item of a bulleted or numbered list (its marker is not in `text`)


class ParsedDocument(BaseModel):
    """One document version parsed to text with structure."""

    path: str  # key relative to the project folder; attachments: "<mail path>#<attachment name>"
    kind: DocumentKind
    title: str = ""
    headers: dict[str, str] = Field(default_factory=dict)  # e-mail headers (From, To, Subject, Date)
    segments: list[Segment] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(segment.text for segment in self.segments)


class DocumentVersion(BaseModel):
    """One version of a document: a content hash, or a tombstone when the file was removed."""

    number: int
    status: Literal["active", "tombstone"]
    content_hash: str | None = None
    etag: str | None = None
    size: int = 0
    parsed_key: str | None = None  # artifact key of the ParsedDocument of this version
    recorded_at: str  # ISO timestamp


class DocumentRecord(BaseModel):
    """A document with its whole version history; earlier versions stay readable."""

    path: str
    kind: DocumentKind
    source_key: str  # the inbox key it came from (the containing e-mail for an attachment)
    versions: list[DocumentVersion]

    @property
    def current(self) -> DocumentVersion:
        return self.versions[-1]

    @property
    def is_active(self) -> bool:
        return self.current.status == "active"


class RejectedFile(BaseModel):
    """An input file that could not be used, with the reason a person can act on."""

    path: str
    reason: str
    size: int = 0
    etag: str | None = None


class DocumentsSnapshot(BaseModel):
    """The value of the `documents` asset for one project."""

    project: str
    documents: list[DocumentRecord] = Field(default_factory=list)
    rejected: list[RejectedFile] = Field(default_factory=list)

    def active(self) -> list[DocumentRecord]:
        return [record for record in self.documents if record.is_active]

    def data_version(self) -> str:
        """Changes exactly when the set of (document, version) changes."""
        return content_hash(sorted((record.path, record.current.content_hash) for record in self.active()))
