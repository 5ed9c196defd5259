"""The forge interface: repositories, story branches, pull requests and reviews.

Two implementations share it: `LocalForge` (bare git repositories in a folder, pull requests as JSON
records beside them) and `GitHubForge` (GitHub through PyGithub). Callers name a repository by its
short name; the forge knows where it lives (a folder, or an owner on GitHub).

Half-written branches: `commit_files` moves a branch only after the whole commit exists, and callers put
a build key in the commit message's trailers (`Build-Key: <hash>`). `find_commit_with_trailer` tells a
later run whether a branch head is the commit it built; anything else is untrusted and gets redone.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

import dagster as dg
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

BUILD_KEY_TRAILER = "Build-Key"
STORY_ID_TRAILER = "Story-Id"

_REPO_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$")
_TRAILER_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
_TRAILER_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*): (.*)$")
_STORY_MARKER = re.compile(r"<!-- ai-pipeline:story-id=([^\s>]+) -->")
# Comments the pipeline writes carry this marker (and a key saying what about), so they are never read
# back as a person's feedback and the same one is never written twice.
_PIPELINE_COMMENT = re.compile(r"<!-- ai-pipeline:comment=([^\s>]+) -->")
_SECRET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,199}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


class ForgeError(RuntimeError):
    """A forge operation failed; the message says which and why (never any credential)."""


class MergeConflictError(ForgeError):
    """A pull request does not merge cleanly into its base; `files` names the conflicting files where
    the forge says which (GitHub's API does not)."""

    def __init__(self, message: str, files: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.files = list(files)


class GitIdentity(BaseModel):
    """Author and committer of the pipeline's commits."""

    name: str = "ai-pipeline"
    email: str = "ai-pipeline@users.noreply.localhost"

    @field_validator("name", "email")
    @classmethod
    def _single_line(cls, value: str) -> str:
        if not value.strip() or any(ch in value for ch in "\n\r<>\x00"):
            raise ValueError(f"{value!r} is empty or contains a newline, '<', '>' or NUL")
        return value


class RepositoryRef(BaseModel):
    """Where a repository lives."""

    name: str
    full_name: str = Field(description="owner/name on GitHub; the name for the local forge")
    url: str = Field(description="For people: the repository's page or folder")
    clone_url: str
    default_branch: str


class FileChange(BaseModel):
    """One file written (content) or removed (delete=True) by a commit."""

    path: str
    content: bytes | None = None
    delete: bool = False
    executable: bool = False

    @field_validator("path")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        return check_file_path(value)

    @field_validator("content", mode="before")
    @classmethod
    def _text_as_utf8(cls, value: object) -> object:
        return value.encode("utf-8") if isinstance(value, str) else value

    @model_validator(mode="after")
    def _content_or_delete(self) -> FileChange:
        if self.delete == (self.content is not None):
            raise ValueError(f"{self.path}: give either content or delete=True, not both or neither")
        return self


class CommitRef(BaseModel):
    """A commit as the forge stores it."""

    sha: str
    branch: str | None = None
    parents: list[str] = Field(default_factory=list)
    message: str = ""
    trailers: dict[str, str] = Field(default_factory=dict)
    url: str = ""


class CommitPlan(BaseModel):
    """A commit for a forge to write, once checked: `changes` on the tree of `parents[0]`, with
    `parents` (branch names or commit shas). The branch moves from wherever it is when `lease` is
    None, else only while it is still at the commit `lease` (a fast-forward, never forced)."""

    parents: list[str]
    changes: list[FileChange]
    message: str
    author: GitIdentity
    date: datetime | None = None
    lease: str | None = None


PullRequestState = Literal["open", "merged", "closed"]
ReviewState = Literal["approved", "changes_requested", "commented"]


class PullRequest(BaseModel):
    """One pull request: a story branch proposed for merging into its base."""

    number: int
    url: str
    branch: str
    base: str
    title: str
    body: str = ""
    state: PullRequestState = "open"
    story_id: str | None = None
    head_sha: str | None = None
    merge_sha: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Review(BaseModel):
    """One review of a pull request."""

    state: ReviewState
    author: str
    body: str = ""
    at: datetime | None = None


class Comment(BaseModel):
    """One comment on a pull request (on GitHub: its conversation, or a line of its diff with `path`)."""

    id: str = Field(description="the forge's id of the comment")
    author: str
    body: str = ""
    at: datetime | None = None
    path: str | None = Field(None, description="the file a review comment is on, if it is on one")

    @property
    def pipeline_key(self) -> str | None:
        """The key the pipeline wrote this comment under, or None: a person wrote it."""
        match = _PIPELINE_COMMENT.search(self.body)
        return match.group(1) if match else None


def pipeline_comment_body(text: str, key: str) -> str:
    """A comment body written by the pipeline: `text` plus a hidden marker with `key` (what it is
    about, e.g. a feedback hash), so readers can tell it from a person's comment and find it again."""
    if not re.match(r"^[^\s>]+$", key):
        raise ValueError(f"comment key {key!r} must not contain spaces or '>'")
    return f"{text.rstrip()}\n\n<!-- ai-pipeline:comment={key} -->\n"


def check_repository_name(name: str) -> str:
    """Return `name` if it is usable as a repository name on every forge, else raise ValueError."""
    if not _REPO_NAME.match(name) or name.endswith(".git") or name in (".", ".."):
        raise ValueError(
            f"repository name {name!r} must be 1-100 letters, digits, '.', '_' or '-', "
            "not start with '.' or '-' and not end with '.git'"
        )
    return name


def check_branch_name(branch: str) -> str:
    """Return `branch` if it is a safe git branch name (a conservative `git check-ref-format`)."""
    problems = (
        not branch
        or branch.startswith(("/", "-"))
        or branch.endswith(("/", ".", ".lock"))
        or "//" in branch
        or ".." in branch
        or "@{" in branch
        or branch == "@"
        or any(ch in branch for ch in " ~^:?*[\\\x7f")
        or any(ord(ch) < 32 for ch in branch)
        or any(part.startswith(".") for part in branch.split("/"))
    )
    if problems:
        raise ValueError(f"branch name {branch!r} is not a valid git branch name")
    return branch


def check_file_path(path: str) -> str:
    """Return `path` if it is a relative repository path that stays inside the repository."""
    if not path or path.startswith("/") or "\\" in path or "\x00" in path:
        raise ValueError(f"file path {path!r} is empty, absolute, or contains a backslash or NUL")
    for segment in path.split("/"):
        if segment in ("", ".", "..") or segment.lower() == ".git":
            raise ValueError(f"file path {path!r} has an empty, '.', '..' or '.git' segment")
    return path


def check_secret_name(name: str) -> str:
    """Return `name` if GitHub accepts it as an Actions secret name."""
    if not _SECRET_NAME.match(name) or name.upper().startswith("GITHUB_"):
        raise ValueError(
            f"secret name {name!r} must be letters, digits and '_', not start with a digit or GITHUB_"
        )
    return name


def is_commit_sha(value: str) -> bool:
    return bool(_SHA.match(value))


def format_commit_message(message: str, trailers: Mapping[str, str] | None = None) -> str:
    """The full commit message: the text, a blank line, then `Key: value` trailer lines."""
    text = message.strip()
    if not text:
        raise ValueError("a commit message must not be empty")
    if not trailers:
        return text + "\n"
    lines = []
    for key, value in trailers.items():
        if not _TRAILER_KEY.match(key):
            raise ValueError(f"trailer key {key!r} must be letters, digits and '-'")
        if not value or "\n" in value or "\r" in value:
            raise ValueError(f"trailer {key!r} needs a one-line, non-empty value")
        lines.append(f"{key}: {value}")
    return f"{text}\n\n" + "\n".join(lines) + "\n"


def checked_commit_message(
    branch: str, changes: Sequence[FileChange], message: str, trailers: Mapping[str, str] | None
) -> str:
    """The full message of a commit of `changes` on `branch`, once the branch name is safe and no
    path is changed twice (what every forge checks before it writes anything)."""
    check_branch_name(branch)
    paths = [change.path for change in changes]
    if len(set(paths)) != len(paths):
        raise ValueError("a commit may change each path only once")
    return format_commit_message(message, trailers)


def parse_trailers(message: str) -> dict[str, str]:
    """The trailers of a commit message: its last paragraph, if every line there is `Key: value`."""
    paragraphs = [p for p in re.split(r"\n\s*\n", message.strip()) if p.strip()]
    if len(paragraphs) < 2:
        return {}
    trailers: dict[str, str] = {}
    for line in paragraphs[-1].splitlines():
        match = _TRAILER_LINE.match(line.strip())
        if not match:
            return {}
        trailers[match.group(1)] = match.group(2).strip()
    return trailers


def pull_request_body(body: str, story_id: str | None) -> str:
    """The body as stored on the forge: the text plus a hidden marker naming the story."""
    if not story_id:
        return body
    if not re.match(r"^[^\s>]+$", story_id):
        raise ValueError(f"story id {story_id!r} must not contain spaces or '>'")
    return f"{body.rstrip()}\n\n<!-- ai-pipeline:story-id={story_id} -->\n"


def pull_request_changes(
    pull: PullRequest, base: str, title: str, body: str, story_id: str | None
) -> dict[str, str]:
    """What an open pull request must change to match its rebuilt story (empty body: keep it)."""
    changes: dict[str, str] = {}
    if pull.base != base:
        changes["base"] = base
    if pull.title != title:
        changes["title"] = title
    if body:
        wanted = pull_request_body(body, story_id or pull.story_id)
        if pull.body.replace("\r\n", "\n").strip() != wanted.strip():
            changes["body"] = wanted
    return changes


def story_id_from_body(body: str | None) -> str | None:
    match = _STORY_MARKER.search(body or "")
    return match.group(1) if match else None


class Forge(dg.ConfigurableResource, ABC):
    """Repositories, one branch per story, pull requests and reviews.

    Every method names the repository by its short name (see `check_repository_name`).
    """

    @abstractmethod
    def ensure_repository(self, name: str, description: str = "") -> RepositoryRef:
        """Create the repository with an initial commit on its default branch, unless it exists."""

    @abstractmethod
    def repository_url(self, repo: str) -> str:
        """Where people find the repository (no request is made)."""

    @abstractmethod
    def repository_exists(self, repo: str) -> bool:
        """Whether the repository exists (an unreachable forge raises ForgeError, never answers False)."""

    @abstractmethod
    def default_branch(self, repo: str) -> str:
        """The repository's default branch name."""

    @abstractmethod
    def branch_head(self, repo: str, branch: str) -> str | None:
        """The commit the branch points at, or None if the branch does not exist."""

    def default_branch_head(self, repo: str) -> str | None:
        return self.branch_head(repo, self.default_branch(repo))

    @abstractmethod
    def get_commit(self, repo: str, sha: str) -> CommitRef:
        """One commit with its message, parsed trailers and parents."""

    @abstractmethod
    def commit_url(self, repo: str, sha: str) -> str:
        """Where people see the commit (no request is made)."""

    def _commit_ref(
        self, repo: str, sha: str, message: str, parents: list[str], branch: str | None = None
    ) -> CommitRef:
        return CommitRef(
            sha=sha,
            branch=branch,
            parents=parents,
            message=message,
            trailers=parse_trailers(message),
            url=self.commit_url(repo, sha),
        )

    def commit_files(
        self,
        repo: str,
        branch: str,
        base: str,
        changes: Sequence[FileChange],
        message: str,
        author: GitIdentity | None = None,
        trailers: Mapping[str, str] | None = None,
        date: datetime | None = None,
    ) -> CommitRef:
        """One commit of `changes` on top of `base` (a branch name or commit sha), then point `branch` at it.

        The branch is created or moved (also backwards: a re-run redoes a story from its base) only
        after the commit exists, so a failure leaves the branch where it was. `date` (default now)
        is the author and committer date.
        """
        plan = CommitPlan(
            parents=[base],
            changes=list(changes),
            message=checked_commit_message(branch, changes, message, trailers),
            author=author or GitIdentity(),
            date=date,
        )
        return self._write_commit(repo, branch, plan)

    def commit_merge(
        self,
        repo: str,
        branch: str,
        head: str,
        other: str,
        changes: Sequence[FileChange],
        message: str,
        author: GitIdentity | None = None,
        trailers: Mapping[str, str] | None = None,
        date: datetime | None = None,
    ) -> CommitRef:
        """A merge commit on `branch` with parents `head` (the branch's head) and `other` (a branch name
        or commit sha), whose tree is `head`'s with `changes`: GitHub's "Update branch" with the
        conflicts resolved. The branch moves only while it is still at `head` (a fast-forward, never
        forced); if it moved meanwhile, ForgeError and nothing changes."""
        if not is_commit_sha(head):
            raise ValueError(f"{head!r} is not a full commit sha")
        plan = CommitPlan(
            parents=[head, other],
            changes=list(changes),
            message=checked_commit_message(branch, changes, message, trailers),
            author=author or GitIdentity(),
            date=date,
            lease=head,
        )
        return self._write_commit(repo, branch, plan)

    @abstractmethod
    def _write_commit(self, repo: str, branch: str, plan: CommitPlan) -> CommitRef:
        """Write the commit `plan` describes and point `branch` at it (what `commit_files` and
        `commit_merge` share); a branch no longer at `plan.lease` is ForgeError and nothing changes."""

    @abstractmethod
    def read_tree(self, repo: str, ref: str) -> dict[str, bytes]:
        """Every file (path -> content) at `ref` (a branch name or commit sha)."""

    def read_trees(self, repo: str, refs: Sequence[str]) -> list[dict[str, bytes]]:
        """`read_tree` of each ref, in order; forges that can read many at once override this."""
        return [self.read_tree(repo, ref) for ref in refs]

    @abstractmethod
    def open_pull_request(
        self, repo: str, branch: str, base: str, title: str, body: str = "", story_id: str | None = None
    ) -> PullRequest:
        """Open a pull request of `branch` into `base`.

        If the branch has an open one already (the story was built before), it is brought up to
        date instead: its base, title and, when `body` is given, its body follow the rebuilt story.
        """

    @abstractmethod
    def list_pull_requests(self, repo: str) -> list[PullRequest]:
        """Every pull request of the repository (open, merged and closed), oldest first."""

    def open_pull_request_of(self, repo: str, branch: str) -> PullRequest | None:
        """The open pull request of `branch`, if any (the newest). Forges with an index override this:
        listing every pull request per story makes a large project's builds quadratic."""
        open_pulls = [p for p in self.list_pull_requests(repo) if p.branch == branch and p.state == "open"]
        return open_pulls[-1] if open_pulls else None

    @abstractmethod
    def get_pull_request(self, repo: str, number: int) -> PullRequest:
        """One pull request; raises ForgeError if there is none with that number."""

    @abstractmethod
    def get_reviews(self, repo: str, number: int) -> list[Review]:
        """The reviews of a pull request, oldest first."""

    @abstractmethod
    def add_review(
        self, repo: str, number: int, state: ReviewState, body: str = "", author: str = ""
    ) -> Review:
        """Approve, request changes or comment (on GitHub the token's user is the author)."""

    @abstractmethod
    def comment_on_pull_request(self, repo: str, number: int, body: str, author: str = "") -> Comment:
        """Add a comment to the pull request's conversation (on GitHub the token's user is the author)."""

    @abstractmethod
    def list_comments(self, repo: str, number: int) -> list[Comment]:
        """The comments on a pull request (its conversation and, where the forge has them, on its diff),
        oldest first."""

    def comment_once(self, repo: str, number: int, text: str, key: str) -> Comment:
        """The pipeline's comment `key` on the pull request: written the first time, found afterwards."""
        for comment in self.list_comments(repo, number):
            if comment.pipeline_key == key:
                return comment
        return self.comment_on_pull_request(repo, number, pipeline_comment_body(text, key))

    @abstractmethod
    def merge_pull_request(self, repo: str, number: int) -> PullRequest:
        """Merge the pull request (a merge commit) and return it as merged; a conflict raises
        MergeConflictError (nothing is forced)."""

    @abstractmethod
    def set_actions_secret(self, repo: str, name: str, value: str | SecretStr) -> None:
        """Make a secret available to the repository's CI workflows (the local forge keeps only the name)."""

    def branch_commits(self, repo: str, branches: Sequence[str]) -> dict[str, CommitRef | None]:
        """The head commit of each branch (None: no such branch); forges that can read many heads at
        once override this."""
        heads = {branch: self.branch_head(repo, branch) for branch in branches}
        return {
            branch: self.get_commit(repo, sha).model_copy(update={"branch": branch}) if sha else None
            for branch, sha in heads.items()
        }

    def find_commit_with_trailer(self, repo: str, branch: str, key: str, value: str) -> CommitRef | None:
        """The branch head if its commit carries the trailer `key: value`, else None.

        Only the head counts: a branch whose head is anything else (missing, moved by someone, or left
        by an earlier failed run) is not the one the caller built, and the caller redoes it.
        """
        head = self.branch_head(repo, branch)
        if head is None:
            return None
        commit = self.get_commit(repo, head)
        if commit.trailers.get(key) != value:
            return None
        return commit.model_copy(update={"branch": branch})
