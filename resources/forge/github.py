"""The GitHub forge: repositories, Git Data commits, pull requests, reviews and Actions secrets via PyGithub.

Requests retry with back-off through PyGithub's `GithubRetry`: 5xx and 429 responses, and 403s that
GitHub marks as primary or secondary rate limits (honouring `Retry-After` and `X-RateLimit-Reset`).
The token is only ever handed to PyGithub's `Auth.Token`; it is left out of this resource's repr and
never appears in a log line or an error message (PyGithub masks it in its own debug log).

Objects are always addressed by owner and name from this resource's `api_url`, never by the URLs
GitHub puts in its responses, so the same code works against GitHub Enterprise Server or a local
contract server. Refs are sent URL-encoded (`heads%2Fmain`), as GitHub's own clients do.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlparse

from pydantic import Field, PrivateAttr, SecretStr

from resources.forge.base import (
    Comment,
    CommitPlan,
    CommitRef,
    FileChange,
    Forge,
    ForgeError,
    MergeConflictError,
    PullRequest,
    RepositoryRef,
    Review,
    ReviewState,
    check_branch_name,
    check_repository_name,
    check_secret_name,
    is_commit_sha,
    pull_request_body,
    pull_request_changes,
    story_id_from_body,
)
from resources.forge.sealing import seal_secret

_REVIEW_EVENTS: dict[str, str] = {
    "approved": "APPROVE",
    "changes_requested": "REQUEST_CHANGES",
    "commented": "COMMENT",
}
_REVIEW_STATES: dict[str, ReviewState] = {
    "APPROVED": "approved",
    "CHANGES_REQUESTED": "changes_requested",
    "COMMENTED": "commented",
}


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _comment(data: Any, author: str = "", path: str | None = None) -> Comment:
    login = data.user.login if data.user is not None else author
    body = data.body or ""
    return Comment(id=str(data.id), author=login or author, body=body, at=data.created_at, path=path)


def web_url_for(api_url: str) -> str:
    """The web address matching an API address: api.github.com -> github.com, GHES /api/v3 -> the host."""
    parsed = urlparse(api_url.rstrip("/"))
    if parsed.hostname == "api.github.com":
        return "https://github.com"
    path = parsed.path.removesuffix("/api/v3")
    return f"{parsed.scheme}://{parsed.netloc}{path}"


class GitHubForge(Forge):
    """Repositories under one GitHub user or organisation (`owner`), driven with a token."""

    token: str = Field(repr=False, description="A GitHub token (use dg.EnvVar('GITHUB_TOKEN')).")
    owner: str = Field(description="User or organisation that owns the repositories.")
    api_url: str = Field(
        default="https://api.github.com", description="REST API root (GHES: https://HOST/api/v3)."
    )
    private: bool = Field(default=True, description="Create new repositories as private.")
    timeout_seconds: int = 30
    max_retries: int = Field(
        default=8, ge=0, description="Retries for 5xx, 429 and rate-limited 403 responses."
    )
    backoff_factor: float = Field(default=1.0, ge=0)
    secondary_rate_wait_seconds: float = Field(
        default=60.0, ge=0, description="Wait after a secondary limit."
    )
    max_rate_limit_wait_seconds: float = Field(
        default=900.0, ge=0, description="Fail instead of waiting longer."
    )
    seconds_between_requests: float = Field(default=0.25, ge=0)
    seconds_between_writes: float = Field(
        default=1.0, ge=0, description="GitHub asks for 1 s between writes."
    )
    initial_commit_wait_seconds: float = Field(
        default=10.0, ge=0, description="How long a new repository may take to show its initial commit."
    )

    _client: Any = PrivateAttr(default=None)
    _default_branches: dict[str, str] = PrivateAttr(default_factory=dict)

    # --- client ---------------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            from github import Auth, Github, GithubRetry
            from urllib3 import Retry

            retry = GithubRetry(
                total=self.max_retries,
                backoff_factor=self.backoff_factor,
                secondary_rate_wait=self.secondary_rate_wait_seconds,
                max_rate_limit_wait=self.max_rate_limit_wait_seconds,
                # GithubRetry adds 403 (when it is a rate limit) to these.
                status_forcelist=[429, *range(500, 600)],
                # Every write we send is safe to repeat: git objects are content-addressed, ref updates
                # carry the target sha, and pull-request creation is checked for duplicates.
                allowed_methods=Retry.DEFAULT_ALLOWED_METHODS | {"GET", "POST", "PATCH", "PUT"},
                respect_retry_after_header=True,
                raise_on_status=False,
            )
            self._client = Github(
                base_url=self.api_url.rstrip("/"),
                auth=Auth.Token(self.token),
                retry=retry,
                timeout=self.timeout_seconds,
                per_page=100,
                lazy=True,
                seconds_between_requests=self.seconds_between_requests or None,
                seconds_between_writes=self.seconds_between_writes or None,
            )
        return self._client

    def _repo(self, repo: str) -> Any:
        return self.client.get_repo(f"{self.owner}/{check_repository_name(repo)}", lazy=True)

    def _path(self, repo: str, suffix: str) -> str:
        return f"/repos/{quote(self.owner, safe='')}/{check_repository_name(repo)}{suffix}"

    def _request(self, verb: str, path: str, body: dict[str, Any] | None = None) -> Any:
        _headers, data = self.client.requester.requestJsonAndCheck(verb, path, input=body)
        return data

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn PyGithub's exceptions into ForgeError naming the action (responses never carry the token)."""
        from github import GithubException
        from requests import RequestException

        try:
            yield
        except RequestException as error:
            raise ForgeError(f"{action}: {type(error).__name__} talking to {self.api_url}") from error
        except GithubException as error:
            message = error.data.get("message") if isinstance(error.data, dict) else error.data
            details = error.data.get("errors") if isinstance(error.data, dict) else None
            text = f"{action}: GitHub answered {error.status}: {message}"
            if details:
                text += f" {details}"
            raise ForgeError(text) from error

    @staticmethod
    def _status(error: BaseException) -> int | None:
        cause = error.__cause__
        return getattr(cause, "status", None)

    # --- repositories ---------------------------------------------------------------------------

    def repository_url(self, repo: str) -> str:
        return f"{web_url_for(self.api_url)}/{self.owner}/{check_repository_name(repo)}"

    def _repo_data(self, repo: str) -> dict[str, Any] | None:
        try:
            with self._errors(f"get repository {self.owner}/{repo}"):
                return self._request("GET", self._path(repo, ""))
        except ForgeError as error:
            if self._status(error) == 404:
                return None
            raise

    def _ref_from(self, repo: str, data: dict[str, Any]) -> RepositoryRef:
        self._default_branches[repo] = data.get("default_branch") or "main"
        return RepositoryRef(
            name=repo,
            full_name=f"{self.owner}/{repo}",
            url=data.get("html_url") or self.repository_url(repo),
            clone_url=data.get("clone_url") or f"{self.repository_url(repo)}.git",
            default_branch=self._default_branches[repo],
        )

    def ensure_repository(self, name: str, description: str = "") -> RepositoryRef:
        check_repository_name(name)
        data = self._repo_data(name)
        if data is not None:
            return self._ref_from(name, data)
        body = {"name": name, "description": description, "private": self.private, "auto_init": True}
        with self._errors("get the authenticated user"):
            login = self._request("GET", "/user").get("login")
        path = (
            "/user/repos"
            if (login or "").lower() == self.owner.lower()
            else f"/orgs/{quote(self.owner)}/repos"
        )
        try:
            with self._errors(f"create repository {self.owner}/{name}"):
                data = self._request("POST", path, body)
        except ForgeError as error:
            # 422 "name already exists": someone created it since our check (or a retried POST did).
            if self._status(error) != 422 or (data := self._repo_data(name)) is None:
                raise
        ref = self._ref_from(name, data)
        self._wait_for_initial_commit(name, ref.default_branch)
        return ref

    def _wait_for_initial_commit(self, repo: str, branch: str) -> None:
        deadline = time.monotonic() + self.initial_commit_wait_seconds
        while self.branch_head(repo, branch) is None:
            if time.monotonic() >= deadline:
                raise ForgeError(f"repository {self.owner}/{repo} has no commit on {branch!r} yet")
            time.sleep(1.0)

    def repository_exists(self, repo: str) -> bool:
        return self._repo_data(repo) is not None

    def default_branch(self, repo: str) -> str:
        if repo not in self._default_branches:
            data = self._repo_data(repo)
            if data is None:
                raise ForgeError(f"repository {self.owner}/{repo} does not exist")
            self._ref_from(repo, data)
        return self._default_branches[repo]

    def branch_head(self, repo: str, branch: str) -> str | None:
        ref = quote(f"heads/{check_branch_name(branch)}", safe="")
        try:
            with self._errors(f"get branch {branch!r} of {self.owner}/{repo}"):
                data = self._request("GET", self._path(repo, f"/git/ref/{ref}"))
        except ForgeError as error:
            if self._status(error) in (404, 409):  # 409: the repository is still empty
                return None
            raise
        return data["object"]["sha"]

    def get_commit(self, repo: str, sha: str) -> CommitRef:
        if not is_commit_sha(sha):
            raise ValueError(f"{sha!r} is not a full commit sha")
        with self._errors(f"get commit {sha} of {self.owner}/{repo}"):
            commit = self._repo(repo).get_git_commit(sha)
            message = commit.message or ""
            parents = [parent.sha for parent in commit.parents]
        return self._commit_ref(repo, sha, message, parents)

    def commit_url(self, repo: str, sha: str) -> str:
        return f"{self.repository_url(repo)}/commit/{sha}"

    # --- commits --------------------------------------------------------------------------------

    def _resolve(self, repo: str, ref: str) -> str:
        sha = ref if is_commit_sha(ref) else self.branch_head(repo, ref)
        if sha is None:
            raise ForgeError(f"{ref!r} not found in {self.owner}/{repo}")
        return sha

    def _write_commit(self, repo: str, branch: str, plan: CommitPlan) -> CommitRef:
        from github import InputGitAuthor

        stamp = _iso(plan.date or datetime.now(UTC))
        signature = InputGitAuthor(plan.author.name, plan.author.email, stamp)
        gh_repo = self._repo(repo)
        shas = [self._resolve(repo, ref) for ref in plan.parents]
        if plan.lease is not None and (current := self.branch_head(repo, branch)) != plan.lease:
            raise ForgeError(f"branch {branch!r} of {self.owner}/{repo} is at {current}, not {plan.lease}")

        # Blobs, tree and commit first: until the ref moves, nothing points at them and a failure
        # leaves the branch exactly where it was.
        kind = "merge commit" if len(shas) > 1 else "commit"
        with self._errors(f"write {kind} for {branch!r} in {self.owner}/{repo}"):
            commits = [gh_repo.get_git_commit(sha) for sha in shas]
            tree = (
                gh_repo.create_git_tree(self._tree_elements(gh_repo, plan.changes), base_tree=commits[0].tree)
                if plan.changes
                else commits[0].tree
            )
            commit = gh_repo.create_git_commit(
                plan.message, tree, commits, author=signature, committer=signature
            )
            sha = commit.sha
            parents = [parent.sha for parent in commits]

        if plan.lease is None:
            self._move_branch(repo, branch, sha)
        else:
            # Not forced: GitHub refuses (422) unless the new commit is a fast-forward of the branch head.
            ref_path = self._path(repo, f"/git/refs/{quote(f'heads/{branch}', safe='')}")
            with self._errors(f"move branch {branch!r} of {self.owner}/{repo}"):
                self._request("PATCH", ref_path, {"sha": sha, "force": False})
        return self._commit_ref(repo, sha, plan.message, parents, branch)

    @staticmethod
    def _tree_elements(gh_repo: Any, changes: Sequence[FileChange]) -> list[Any]:
        """A blob per written file (sent base64: any bytes), and the tree entries of every change."""
        from github import InputGitTreeElement

        elements = []
        for change in changes:
            mode = "100755" if change.executable else "100644"
            if change.delete:
                elements.append(InputGitTreeElement(change.path, mode, "blob", sha=None))
                continue
            blob = gh_repo.create_git_blob(base64.b64encode(change.content or b"").decode("ascii"), "base64")
            elements.append(InputGitTreeElement(change.path, mode, "blob", sha=blob.sha))
        return elements

    def _move_branch(self, repo: str, branch: str, sha: str) -> None:
        ref_path = self._path(repo, f"/git/refs/{quote(f'heads/{branch}', safe='')}")
        if self.branch_head(repo, branch) is not None:
            with self._errors(f"move branch {branch!r} of {self.owner}/{repo}"):
                self._request("PATCH", ref_path, {"sha": sha, "force": True})
            return
        try:
            with self._errors(f"create branch {branch!r} in {self.owner}/{repo}"):
                self._request(
                    "POST", self._path(repo, "/git/refs"), {"ref": f"refs/heads/{branch}", "sha": sha}
                )
        except ForgeError as error:
            if self._status(error) != 422:  # 422 "Reference already exists": created meanwhile
                raise
            with self._errors(f"move branch {branch!r} of {self.owner}/{repo}"):
                self._request("PATCH", ref_path, {"sha": sha, "force": True})

    def read_tree(self, repo: str, ref: str) -> dict[str, bytes]:
        sha = self._resolve(repo, ref)
        gh_repo = self._repo(repo)
        with self._errors(f"read the tree of {ref!r} in {self.owner}/{repo}"):
            tree_sha = gh_repo.get_git_commit(sha).tree.sha
            tree = gh_repo.get_git_tree(tree_sha, recursive=True)
            if tree.raw_data.get("truncated"):
                raise ForgeError(
                    f"the tree of {ref!r} in {self.owner}/{repo} is too large to list in one request"
                )
            files: dict[str, bytes] = {}
            for element in tree.tree:
                if element.type != "blob":
                    continue
                blob = gh_repo.get_git_blob(element.sha)
                files[element.path] = (
                    base64.b64decode(blob.content)
                    if blob.encoding == "base64"
                    else blob.content.encode("utf-8")
                )
        return files

    # --- pull requests --------------------------------------------------------------------------

    @staticmethod
    def _pull(data: Any) -> PullRequest:
        merged = data.merged_at is not None
        return PullRequest(
            number=data.number,
            url=data.html_url,
            branch=data.head.ref,
            base=data.base.ref,
            title=data.title or "",
            body=data.body or "",
            state="merged" if merged else ("open" if data.state == "open" else "closed"),
            story_id=story_id_from_body(data.body),
            head_sha=data.head.sha,
            merge_sha=data.merge_commit_sha if merged else None,
            created_at=data.created_at,
            updated_at=data.updated_at,
        )

    def _open_for_branch(self, repo: str, branch: str) -> PullRequest | None:
        """The open pull request of `branch`, whatever its base (a rebuilt story may have a new one)."""
        with self._errors(f"list pull requests of {self.owner}/{repo}"):
            pulls = self._repo(repo).get_pulls(state="open", head=f"{self.owner}:{branch}")
            for pull in pulls:
                if pull.head.ref == branch:
                    return self._pull(pull)
        return None

    def _follow(
        self, repo: str, pull: PullRequest, base: str, title: str, body: str, story_id: str | None
    ) -> PullRequest:
        """Bring an open pull request up to its rebuilt story: base, title and (when given) body."""
        changes = pull_request_changes(pull, base, title, body, story_id)
        if not changes:
            return pull
        with self._errors(f"update pull request #{pull.number} of {self.owner}/{repo}"):
            # Fetched by number, not used as listed: listed objects carry api.github.com URLs.
            live = self._repo(repo).get_pull(pull.number)
            live.edit(**changes)
            return self._pull(live)

    def open_pull_request(
        self, repo: str, branch: str, base: str, title: str, body: str = "", story_id: str | None = None
    ) -> PullRequest:
        check_branch_name(branch)
        check_branch_name(base)
        existing = self._open_for_branch(repo, branch)
        if existing is not None:
            return self._follow(repo, existing, base, title, body, story_id)
        try:
            with self._errors(f"open a pull request for {branch!r} in {self.owner}/{repo}"):
                created = self._repo(repo).create_pull(
                    base=base, head=branch, title=title, body=pull_request_body(body, story_id)
                )
                return self._pull(created)
        except ForgeError as error:
            # 422 "A pull request already exists": opened meanwhile (or by a retried POST).
            if self._status(error) == 422 and (existing := self._open_for_branch(repo, branch)):
                return self._follow(repo, existing, base, title, body, story_id)
            raise

    def list_pull_requests(self, repo: str) -> list[PullRequest]:
        with self._errors(f"list pull requests of {self.owner}/{repo}"):
            pulls = [
                self._pull(p)
                for p in self._repo(repo).get_pulls(state="all", sort="created", direction="asc")
            ]
        return pulls

    def get_pull_request(self, repo: str, number: int) -> PullRequest:
        with self._errors(f"get pull request #{number} of {self.owner}/{repo}"):
            return self._pull(self._repo(repo).get_pull(int(number)))

    def get_reviews(self, repo: str, number: int) -> list[Review]:
        reviews: list[Review] = []
        with self._errors(f"list reviews of pull request #{number} in {self.owner}/{repo}"):
            for review in self._repo(repo).get_pull(int(number)).get_reviews():
                state = _REVIEW_STATES.get(review.state or "")
                if state is None:  # pending or dismissed reviews do not count
                    continue
                author = review.user.login if review.user is not None else ""
                reviews.append(
                    Review(state=state, author=author, body=review.body or "", at=review.submitted_at)
                )
        return reviews

    def add_review(
        self, repo: str, number: int, state: ReviewState, body: str = "", author: str = ""
    ) -> Review:
        if state == "changes_requested" and not body.strip():
            raise ValueError("requesting changes needs a comment saying what to change")
        with self._errors(f"review pull request #{number} in {self.owner}/{repo}"):
            created = (
                self._repo(repo).get_pull(int(number)).create_review(body=body, event=_REVIEW_EVENTS[state])
            )
            login = created.user.login if created.user is not None else author
            return Review(state=state, author=login or author, body=body, at=created.submitted_at)

    def comment_on_pull_request(self, repo: str, number: int, body: str, author: str = "") -> Comment:
        if not body.strip():
            raise ValueError("a comment needs a text")
        with self._errors(f"comment on pull request #{number} in {self.owner}/{repo}"):
            # A pull request's conversation is its issue's comments; the issue is addressed by number.
            created = self._repo(repo).get_issue(int(number)).create_comment(body)
            return _comment(created, author)

    def list_comments(self, repo: str, number: int) -> list[Comment]:
        gh_repo = self._repo(repo)
        with self._errors(f"list comments of pull request #{number} in {self.owner}/{repo}"):
            comments = [_comment(item) for item in gh_repo.get_issue(int(number)).get_comments()]
            comments += [
                _comment(item, path=item.path) for item in gh_repo.get_pull(int(number)).get_review_comments()
            ]
        epoch = datetime.min.replace(tzinfo=UTC)
        return sorted(comments, key=lambda c: c.at or epoch)

    def merge_pull_request(self, repo: str, number: int) -> PullRequest:
        pull = self.get_pull_request(repo, number)
        if pull.state == "merged":
            return pull
        try:
            with self._errors(f"merge pull request #{number} in {self.owner}/{repo}"):
                status = self._repo(repo).get_pull(int(number)).merge(merge_method="merge", sha=pull.head_sha)
        except ForgeError as error:
            if self._status(error) in (405, 409):  # "not mergeable" (a conflict) or the head moved
                raise MergeConflictError(str(error)) from error
            raise
        if not status.merged:
            raise ForgeError(
                f"pull request #{number} in {self.owner}/{repo} was not merged: {status.message}"
            )
        return pull.model_copy(update={"state": "merged", "merge_sha": status.sha})

    # --- secrets --------------------------------------------------------------------------------

    def _actions_public_key(self, repo: str) -> tuple[str, str]:
        with self._errors(f"get the Actions public key of {self.owner}/{repo}"):
            key = self._repo(repo).get_public_key("actions")
            return str(key.key_id), key.key

    def set_actions_secret(self, repo: str, name: str, value: str | SecretStr) -> None:
        check_secret_name(name)
        key_id, public_key = self._actions_public_key(repo)
        sealed = seal_secret(public_key, value)
        with self._errors(f"set Actions secret {name} of {self.owner}/{repo}"):
            self._request(
                "PUT",
                self._path(repo, f"/actions/secrets/{quote(name, safe='')}"),
                {"encrypted_value": sealed, "key_id": key_id},
            )
