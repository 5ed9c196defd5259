"""Records of the requirements stage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from assets.documents.models import Location
from pipeline_core.hashing import content_hash

Priority = Literal["Must", "Should", "Could", "Won't"]


class Trace(BaseModel):
    """Where a story comes from: document, version (content hash) and location, with the quote."""

    document: str
    version: str
    location: Location
    quote: str


class AcceptanceCriterion(BaseModel):
    """A Given/When/Then criterion; `id` is stable within its story (AC1, AC2, ...)."""

    id: str
    given: str
    when: str
    then: str


class UserStory(BaseModel):
    """A user story with a stable id and a hash of its content (traces excluded)."""

    id: str
    title: str
    as_a: str
    i_want: str
    so_that: str
    acceptance_criteria: list[AcceptanceCriterion] = Field(default_factory=list)
    priority: Priority = "Should"
    depends_on: list[str] = Field(default_factory=list)
    traces: list[Trace] = Field(default_factory=list)
    content_hash: str = ""

    def compute_hash(self) -> str:
        """Hash of what the story asks for; where it was found (traces) does not count."""
        return content_hash(self.model_dump(mode="json", exclude={"traces", "content_hash"}), length=16)


class ExcludedStatement(BaseModel):
    """A statement the documents mark as out of scope, kept visible but not turned into a story."""

    document: str
    location: Location
    text: str
    reason: str


class RequirementsSet(BaseModel):
    """The value of the `requirements` asset for one project."""

    project: str
    stories: list[UserStory] = Field(default_factory=list)
    excluded: list[ExcludedStatement] = Field(default_factory=list)

    def data_version(self) -> str:
        return content_hash(sorted((story.id, story.content_hash) for story in self.stories))
