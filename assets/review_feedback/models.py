"""Records of review feedback: per story the reviews, comments and requested changes on its pull requests."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from pipeline_core.hashing import content_hash

FeedbackKind = Literal["changes_requested", "review_comment", "comment"]
KIND_WORDS: dict[str, str] = {
    "changes_requested": "changes requested",
    "review_comment": "review comment",
    "comment": "comment",
}


class FeedbackItem(BaseModel):
    """One thing a person said that asks for a change: a review requesting changes, a review's
    comment, or a comment on the pull request (the pipeline's own comments never count)."""

    pull_request: int
    kind: FeedbackKind
    author: str
    body: str
    at: datetime | None = None
    path: str | None = Field(None, description="the file a diff comment is on")


class Approval(BaseModel):
    """An approving review."""

    pull_request: int
    author: str
    at: datetime | None = None


class StoryFeedback(BaseModel):
    """Everything reviewers said on one story's pull requests (all of them, oldest first)."""

    story_id: str
    pull_requests: list[int] = Field(default_factory=list)
    items: list[FeedbackItem] = Field(default_factory=list)
    approvals: list[Approval] = Field(default_factory=list)

    def feedback_hash(self) -> str:
        """Changes only when a feedback item is added, edited or removed ("" when there is none)."""
        if not self.items:
            return ""
        return content_hash([item.model_dump(mode="json") for item in self.items], length=16)

    def text(self) -> str:
        """The feedback as one text (what a generator is given, quoted): author, kind and words."""
        lines = []
        for item in self.items:
            where = f" on {item.path}" if item.path else ""
            lines.append(f"{item.author} ({KIND_WORDS[item.kind]}{where}): {item.body.strip()}")
        return "\n\n".join(lines)


class ProjectFeedback(BaseModel):
    """The value observed for one project: the feedback on every story that has a pull request."""

    project: str
    repository_exists: bool = True
    stories: list[StoryFeedback] = Field(default_factory=list)

    def story(self, story_id: str) -> StoryFeedback | None:
        return next((story for story in self.stories if story.story_id == story_id), None)

    def texts(self) -> dict[str, str]:
        """story id -> feedback text, for the stories that have feedback."""
        return {story.story_id: story.text() for story in self.stories if story.items}

    def data_version(self) -> str:
        """Changes only when new feedback arrives (approvals do not change it)."""
        return content_hash(
            sorted((story.story_id, story.feedback_hash()) for story in self.stories if story.items)
        )[:24]

    def approvals_version(self) -> str:
        """Changes when a story pull request is approved (or an approval goes)."""
        return content_hash(
            sorted(
                (story.story_id, approval.pull_request, approval.author)
                for story in self.stories
                for approval in story.approvals
            )
        )[:24]
