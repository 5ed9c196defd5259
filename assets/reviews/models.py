"""Records of the reviews stage: each story pull request's state, and what was merged into main."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from pipeline_core.hashing import content_hash

PullState = Literal["open", "approved", "changes_requested", "merged", "closed"]


class Verdict(BaseModel):
    """A reviewer's latest review of a pull request."""

    author: str
    state: Literal["approved", "changes_requested", "commented"]
    at: datetime | None = None


class StoryPullReview(BaseModel):
    """One story's pull request: its state, who reviewed it and when, and what merging did."""

    story_id: str
    number: int
    url: str = ""
    branch: str
    base: str
    state: PullState
    reviewers: list[Verdict] = Field(default_factory=list)
    merged_in_this_run: bool = False
    merge_commit: str | None = None
    waiting_for: list[str] = Field(default_factory=list, description="dependencies not merged yet")
    conflict: bool = False
    conflict_files: list[str] = Field(default_factory=list)
    problem: str | None = Field(None, description="why an approved pull request was not merged")
    updated_with_main: str | None = Field(
        None, description="the merge commit that brought its branch up to date with main (this run)"
    )
    files_regenerated: list[str] = Field(
        default_factory=list, description="files that merge commit regenerated (neither side's copy)"
    )

    def note(self, main: str = "main") -> str:
        """What the reviews table says about it: why it was not merged, or how it was brought up to date."""
        if self.problem:
            return self.problem
        if self.updated_with_main:
            files = ", ".join(self.files_regenerated) or "no file regenerated"
            return f"brought up to date with {main}: {files}"
        return ""


class ReviewsReport(BaseModel):
    """The value of the `reviews` asset for one project."""

    project: str
    repository: str
    main_branch: str
    main_commit: str | None = Field(None, description="the head of main after the merges (for `promote`)")
    merge_order: list[str] = Field(default_factory=list, description="stories in dependency order")
    pulls: list[StoryPullReview] = Field(default_factory=list)

    def merged_now(self) -> list[StoryPullReview]:
        return [pull for pull in self.pulls if pull.merged_in_this_run]

    def conflicts(self) -> list[StoryPullReview]:
        return [pull for pull in self.pulls if pull.conflict]

    def brought_up_to_date(self) -> list[StoryPullReview]:
        return [pull for pull in self.pulls if pull.updated_with_main]

    def data_version(self) -> str:
        return content_hash(
            {
                "main": self.main_commit,
                "pulls": sorted(
                    (
                        p.story_id,
                        p.number,
                        p.state,
                        p.base,
                        tuple(p.conflict_files),
                        p.problem or "",
                        p.updated_with_main or "",
                    )
                    for p in self.pulls
                ),
            },
            length=24,
        )
