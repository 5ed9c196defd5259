"""The draft records one extraction returns (by the model or by the offline rules), before merging."""

from __future__ import annotations

from pydantic import BaseModel, Field

from assets.requirements.models import Priority

DEFAULT_SO_THAT = "I can get my work done with the app"

PRIORITY_RANK: dict[str, int] = {"Must": 0, "Should": 1, "Could": 2, "Won't": 3}


class DraftCriterion(BaseModel):
    given: str
    when: str
    then: str


class DraftStory(BaseModel):
    """A story as found in one document, before merging and id assignment."""

    title: str = Field(description="a short imperative title, at most eight words")
    as_a: str = Field(description="the role, singular, lowercase: 'team member', 'admin', 'user'")
    i_want: str = Field(description="what the role wants: 'to assign a task to a colleague'")
    so_that: str = Field(description="the benefit; a sensible one when the document gives none")
    acceptance_criteria: list[DraftCriterion] = Field(default_factory=list)
    priority: Priority = "Should"
    segment: int = Field(description="N of the [SN] segment the story is drawn from")
    quote: str = Field(description="the exact words of that segment the story is drawn from")


class DraftExclusion(BaseModel):
    """A statement left out on purpose: out of scope, or an instruction aimed at the model."""

    segment: int
    text: str
    reason: str


class ExtractedStories(BaseModel):
    """The answer of one extraction task."""

    stories: list[DraftStory] = Field(default_factory=list)
    excluded: list[DraftExclusion] = Field(default_factory=list)
