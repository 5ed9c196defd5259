"""Reviewing pull requests: the plain operations behind `ai-pipeline review` (any forge)."""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field

from resources.forge.base import Comment, Forge, PullRequest, Review

StateFilter = Literal["open", "merged", "closed", "all"]


class PullRequestDetail(BaseModel):
    """One pull request with its reviews and, where the forge can say, its changed files."""

    repo: str
    pull: PullRequest
    reviews: list[Review] = Field(default_factory=list)
    comments: list[Comment] = Field(default_factory=list)
    files: list[tuple[str, str]] = Field(default_factory=list, description="(status A/M/D, path)")


def default_author(given: str | None = None) -> str:
    if given:
        return given
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "reviewer"


def repositories(forge: Forge, known: Iterable[str]) -> list[str]:
    """The forge's repositories where it can list them (local), else the known projects' ones."""
    lister = getattr(forge, "list_repositories", None)
    return sorted(lister()) if callable(lister) else sorted(known)


def list_pull_requests(
    forge: Forge, repos: Iterable[str], state: StateFilter = "all"
) -> list[tuple[str, PullRequest]]:
    return [
        (repo, pull)
        for repo in repos
        for pull in forge.list_pull_requests(repo)
        if state == "all" or pull.state == state
    ]


def pull_request_detail(forge: Forge, repo: str, number: int) -> PullRequestDetail:
    pull = forge.get_pull_request(repo, number)
    changed = getattr(forge, "changed_files", None)
    return PullRequestDetail(
        repo=repo,
        pull=pull,
        reviews=forge.get_reviews(repo, number),
        comments=forge.list_comments(repo, number),
        files=changed(repo, number) if callable(changed) else [],
    )


def submit_review(
    forge: Forge, repo: str, number: int, *, approve: bool, comment: str = "", author: str | None = None
) -> Review:
    """Approve, or request changes (which a later run turns into a rebuild of the story)."""
    if not approve and not comment.strip():
        raise ValueError("requesting changes needs a comment saying which")
    state = "approved" if approve else "changes_requested"
    return forge.add_review(repo, number, state, body=comment, author=default_author(author))


def comment(forge: Forge, repo: str, number: int, text: str, author: str | None = None) -> Comment:
    """A comment on the pull request: feedback like a review's (Given/When/Then becomes a criterion)."""
    if not text.strip():
        raise ValueError("a comment needs a text")
    return forge.comment_on_pull_request(repo, number, text, author=default_author(author))


def merge(forge: Forge, repo: str, number: int) -> PullRequest:
    return forge.merge_pull_request(repo, number)
