"""The local forge: bare git repositories in a folder, pull requests and reviews as JSON records.

Layout under `root` (by default `<PIPELINE_DATA_DIR>/forge`):

    <name>.git/                  bare repository (written by `git fast-import` and `git update-ref`)
    <name>.forge/pulls/<n>.json  one pull request with its reviews and comments
    <name>.forge/secrets.json    names of the Actions secrets the pipeline would set (never values)

A commit is written by one `git fast-import` and the branch moved by one `git update-ref --stdin`
transaction with a lease: three processes per commit, whatever its size (a clone, an index and a push
took a dozen). The git plumbing lives in `local_git`, the pull-request records in `local_pulls`; this
module is the `Forge` the pipeline uses.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from pydantic import Field, PrivateAttr, SecretStr

from resources.forge.base import (
    Comment,
    CommitPlan,
    CommitRef,
    Forge,
    ForgeError,
    GitIdentity,
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
)
from resources.forge.local_git import GIT_OPTIONS, GitPlumbing, read_exactly, utc_now
from resources.forge.local_pulls import PullRecord, PullRecords, SecretNames


class LocalForge(GitPlumbing, PullRecords, Forge):
    """Bare git repositories under `root`, driven with the `git` command."""

    root: str = Field(description="Folder of the bare repositories and their pull-request records.")
    default_branch_name: str = Field(default="main", description="Default branch of new repositories.")

    # --- paths and git -------------------------------------------------------------------------

    # Resolved once: a story build asks for it a few times per story, each a realpath walk.
    _resolved_root: Path | None = PrivateAttr(default=None)

    def _root(self) -> Path:
        if self._resolved_root is None:
            self._resolved_root = Path(self.root).resolve()
        return self._resolved_root

    def _bare(self, repo: str) -> Path:
        return self._root() / f"{check_repository_name(repo)}.git"

    def _existing(self, repo: str) -> Path:
        bare = self._bare(repo)
        if not (bare / "HEAD").is_file():
            raise ForgeError(f"repository {repo!r} does not exist in {self._root()}")
        return bare

    # --- repositories ---------------------------------------------------------------------------

    def repository_url(self, repo: str) -> str:
        return self._bare(repo).as_uri()

    def _ref(self, repo: str) -> RepositoryRef:
        url = self.repository_url(repo)
        return RepositoryRef(
            name=repo, full_name=repo, url=url, clone_url=url, default_branch=self.default_branch(repo)
        )

    def ensure_repository(self, name: str, description: str = "") -> RepositoryRef:
        bare = self._bare(name)
        if (bare / "HEAD").is_file():
            return self._ref(name)
        root = self._root()
        root.mkdir(parents=True, exist_ok=True)
        branch = check_branch_name(self.default_branch_name)
        identity = GitIdentity()
        # Build the whole repository beside its final place, then rename it in: never half-made.
        with tempfile.TemporaryDirectory(dir=root, prefix=".init-") as tmp:
            staging = Path(tmp) / "repo.git"
            self._git("init", "--quiet", "--bare", f"--initial-branch={branch}", str(staging))
            (staging / "description").write_text((description or name).strip() + "\n", encoding="utf-8")
            readme = (
                f"# {name}\n\n{description.strip()}\n".encode()
                if description.strip()
                else f"# {name}\n".encode()
            )
            blob = (
                self._git("hash-object", "-w", "--stdin", git_dir=staging, stdin=readme)
                .stdout.decode()
                .strip()
            )
            tree = self._git("mktree", git_dir=staging, stdin=f"100644 blob {blob}\tREADME.md\n".encode())
            commit = self._git(
                "commit-tree",
                tree.stdout.decode().strip(),
                "-F",
                "-",
                git_dir=staging,
                stdin=b"Initial commit\n",
                identity=identity,
            )
            self._git(
                "update-ref", f"refs/heads/{branch}", commit.stdout.decode().strip(), "", git_dir=staging
            )
            try:
                os.rename(staging, bare)
            except OSError:
                if not (bare / "HEAD").is_file():
                    raise
        return self._ref(name)

    def list_repositories(self) -> list[str]:
        root = self._root()
        if not root.is_dir():
            return []
        return sorted(p.name[: -len(".git")] for p in root.glob("*.git") if (p / "HEAD").is_file())

    def repository_exists(self, repo: str) -> bool:
        return (self._bare(repo) / "HEAD").is_file()

    def default_branch(self, repo: str) -> str:
        head = (self._existing(repo) / "HEAD").read_text(encoding="utf-8").strip()
        return head.removeprefix("ref: refs/heads/")

    def branch_head(self, repo: str, branch: str) -> str | None:
        return self._rev(self._existing(repo), f"refs/heads/{check_branch_name(branch)}")

    def get_commit(self, repo: str, sha: str) -> CommitRef:
        bare = self._existing(repo)
        if not is_commit_sha(sha):
            raise ValueError(f"{sha!r} is not a full commit sha")
        result = self._git("cat-file", "commit", sha, git_dir=bare, ok_codes=(0, 128))
        if result.returncode:
            raise ForgeError(f"commit {sha} not found in {repo!r}")
        header, _, message = result.stdout.decode("utf-8", "replace").partition("\n\n")
        parents = [line.split(" ", 1)[1] for line in header.splitlines() if line.startswith("parent ")]
        return self._commit_ref(repo, sha, message, parents)

    def find_commit_with_trailer(self, repo: str, branch: str, key: str, value: str) -> CommitRef | None:
        """As `Forge.find_commit_with_trailer`, in one `cat-file --batch` (the head and its message)."""
        commit = self.branch_commits(repo, [branch])[branch]
        return commit if commit is not None and commit.trailers.get(key) == value else None

    def branch_commits(self, repo: str, branches: Sequence[str]) -> dict[str, CommitRef | None]:
        """Every branch's head commit through one `cat-file --batch`."""
        bare = self._existing(repo)
        query = "".join(f"refs/heads/{check_branch_name(b)}^{{commit}}\n" for b in branches).encode()
        answer = self._git("cat-file", "--batch", git_dir=bare, stdin=query).stdout if branches else b""
        found: dict[str, CommitRef | None] = {}
        offset = 0
        for branch in branches:
            end = answer.index(b"\n", offset)
            fields = answer[offset:end].decode().split(" ")
            offset = end + 1
            if len(fields) != 3 or fields[1] != "commit":
                found[branch] = None  # no such branch
                continue
            sha, size = fields[0], int(fields[2])
            text = answer[offset : offset + size].decode("utf-8", "replace")
            offset += size + 1
            head, _, message = text.partition("\n\n")
            parents = [line.split(" ", 1)[1] for line in head.splitlines() if line.startswith("parent ")]
            found[branch] = self._commit_ref(repo, sha, message, parents, branch)
        return found

    def commit_url(self, repo: str, sha: str) -> str:
        return f"{self.repository_url(repo)}#{sha}"

    # --- commits --------------------------------------------------------------------------------

    def _write_commit(self, repo: str, branch: str, plan: CommitPlan) -> CommitRef:
        bare = self._existing(repo)
        names = [self._ref_name(ref) for ref in plan.parents]
        *shas, current = self._commits(bare, [*names, f"refs/heads/{branch}"])
        missing = [ref for ref, sha in zip(plan.parents, shas, strict=True) if sha is None]
        if missing:
            raise ForgeError(f"{' or '.join(map(repr, missing))} not found in {repo!r}")
        parents = [sha for sha in shas if sha is not None]
        if plan.lease is not None and current != plan.lease:
            raise ForgeError(f"branch {branch!r} of {repo!r} is at {current}, not {plan.lease}: it moved")
        sha = self._fast_import(
            bare, parents[0], plan.changes, plan.message, plan.author, plan.date, merges=parents[1:]
        )
        # With a lease on the head read above: two writers never silently overwrite each other.
        self._push(bare, sha, branch, current)
        return self._commit_ref(repo, sha, plan.message, parents, branch)

    def read_tree(self, repo: str, ref: str) -> dict[str, bytes]:
        return self.read_trees(repo, [ref])[0]

    def read_trees(self, repo: str, refs: Sequence[str]) -> list[dict[str, bytes]]:
        """Every file of each ref through one `cat-file --batch`, walking the trees; a tree or blob
        shared by several refs (stacked stories share most) is read once."""
        bare = self._existing(repo)
        names = [self._ref_name(ref) for ref in refs]
        objects: dict[str, tuple[str, bytes]] = {}
        command = ["git", *GIT_OPTIONS, f"--git-dir={bare}", "cat-file", "--batch"]
        with subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self._env(), bufsize=0
        ) as process:
            assert process.stdin is not None and process.stdout is not None
            reader = process.stdout

            def read(name: str) -> tuple[str, bytes] | None:
                if name in objects:
                    return objects[name]
                process.stdin.write(name.encode() + b"\n")  # type: ignore[union-attr]
                header = reader.readline().decode().split(" ")
                if len(header) != 3:
                    return None  # "<name> missing"
                sha, kind, size = header[0], header[1], int(header[2])
                data = read_exactly(reader, size + 1)[:size]
                objects[name] = objects[sha] = (kind, data)
                return kind, data

            def walk(tree: bytes, prefix: str, files: dict[str, bytes]) -> None:
                offset = 0
                while offset < len(tree):
                    space = tree.index(b" ", offset)
                    nul = tree.index(b"\0", space)
                    mode, name = tree[offset:space], tree[space + 1 : nul].decode("utf-8")
                    sha = tree[nul + 1 : nul + 21].hex()
                    offset = nul + 21
                    if mode == b"40000":
                        found = read(sha)
                        if found is not None:
                            walk(found[1], f"{prefix}{name}/", files)
                    elif mode != b"160000":  # a submodule is no file of this tree
                        blob = read(sha)
                        if blob is not None:
                            files[prefix + name] = blob[1]

            trees: list[dict[str, bytes]] = []
            try:
                for ref, name in zip(refs, names, strict=True):
                    found = read(f"{name}^{{tree}}")
                    if found is None or found[0] != "tree":
                        raise ForgeError(f"{ref!r} not found in {repo!r}")
                    files: dict[str, bytes] = {}
                    walk(found[1], "", files)
                    trees.append(dict(sorted(files.items())))
            finally:
                process.stdin.close()
                process.wait()
        return trees

    # --- pull requests --------------------------------------------------------------------------

    def _live(self, repo: str, pull: PullRequest) -> PullRequest:
        if pull.state != "open":
            return pull
        head = self.branch_head(repo, pull.branch)
        return pull.model_copy(update={"head_sha": head}) if head else pull

    def pull_request_path(self, repo: str, number: int) -> Path:
        return self._pull_path(repo, number)

    def open_pull_request(
        self, repo: str, branch: str, base: str, title: str, body: str = "", story_id: str | None = None
    ) -> PullRequest:
        bare = self._existing(repo)
        with self._locked(repo):
            head, base_head = self._commits(
                bare, [f"refs/heads/{check_branch_name(branch)}", f"refs/heads/{check_branch_name(base)}"]
            )
            if head is None:
                raise ForgeError(f"branch {branch!r} not found in {repo!r}")
            if base_head is None:
                raise ForgeError(f"base branch {base!r} not found in {repo!r}")
            record = self._open_record(repo, branch)
            if record is not None:
                pull = self._follow(repo, record, base, title, body, story_id)
                return pull.model_copy(update={"head_sha": head})
            number = self._last_number(repo) + 1
            now = utc_now()
            pull = PullRequest(
                number=number,
                url=self._pull_path(repo, number).as_uri(),
                branch=branch,
                base=base,
                title=title,
                body=pull_request_body(body, story_id),
                state="open",
                story_id=story_id,
                head_sha=head,
                created_at=now,
                updated_at=now,
            )
            self._save(repo, PullRecord(pull=pull))
            self._index_branch(repo, branch, number)
            return pull

    def open_pull_request_of(self, repo: str, branch: str) -> PullRequest | None:
        bare = self._existing(repo)
        with self._locked(repo):
            record = self._open_record(repo, branch)
        if record is None:
            return None
        (head,) = self._commits(bare, [f"refs/heads/{check_branch_name(branch)}"])
        return record.pull.model_copy(update={"head_sha": head}) if head else record.pull

    def _follow(
        self, repo: str, record: PullRecord, base: str, title: str, body: str, story_id: str | None
    ) -> PullRequest:
        """Bring an open pull request up to its rebuilt story: base, title and (when given) body."""
        changes = pull_request_changes(record.pull, base, title, body, story_id)
        if changes:
            record.pull = record.pull.model_copy(update={**changes, "updated_at": utc_now()})
            self._save(repo, record)
        return record.pull

    def list_pull_requests(self, repo: str) -> list[PullRequest]:
        bare = self._existing(repo)
        pulls = [record.pull for record in self._records_of(repo)]
        open_branches = sorted({pull.branch for pull in pulls if pull.state == "open"})
        heads = dict(
            zip(open_branches, self._commits(bare, [f"refs/heads/{b}" for b in open_branches]), strict=True)
        )
        return [
            pull.model_copy(update={"head_sha": heads[pull.branch]})
            if pull.state == "open" and heads.get(pull.branch)
            else pull
            for pull in pulls
        ]

    def get_pull_request(self, repo: str, number: int) -> PullRequest:
        self._existing(repo)
        return self._live(repo, self._load(repo, number).pull)

    def get_reviews(self, repo: str, number: int) -> list[Review]:
        self._existing(repo)
        return list(self._load(repo, number).reviews)

    def add_review(
        self, repo: str, number: int, state: ReviewState, body: str = "", author: str = ""
    ) -> Review:
        review = Review(state=state, author=author or "reviewer", body=body, at=utc_now())
        if state == "changes_requested" and not body.strip():
            raise ValueError("requesting changes needs a comment saying what to change")
        with self._locked(repo):
            record = self._load(repo, number)
            if record.pull.state != "open":
                raise ForgeError(f"pull request #{number} in {repo!r} is {record.pull.state}, not open")
            record.reviews.append(review)
            record.pull = record.pull.model_copy(update={"updated_at": review.at})
            self._save(repo, record)
        return review

    def comment_on_pull_request(self, repo: str, number: int, body: str, author: str = "") -> Comment:
        if not body.strip():
            raise ValueError("a comment needs a text")
        with self._locked(repo):
            record = self._load(repo, number)
            comment = Comment(
                id=str(len(record.comments) + 1), author=author or "ai-pipeline", body=body, at=utc_now()
            )
            record.comments.append(comment)
            record.pull = record.pull.model_copy(update={"updated_at": comment.at})
            self._save(repo, record)
        return comment

    def list_comments(self, repo: str, number: int) -> list[Comment]:
        self._existing(repo)
        return list(self._load(repo, number).comments)

    def merge_pull_request(self, repo: str, number: int) -> PullRequest:
        bare = self._existing(repo)
        with self._locked(repo):
            record = self._load(repo, number)
            pull = record.pull
            if pull.state == "merged":
                return pull
            if pull.state != "open":
                raise ForgeError(f"pull request #{number} in {repo!r} is closed")
            head = self.branch_head(repo, pull.branch)
            base_head = self.branch_head(repo, pull.base)
            if head is None or base_head is None:
                raise ForgeError(
                    f"pull request #{number}: branch {pull.branch!r} or base {pull.base!r} is gone"
                )
            merged = self._git(
                "merge-tree", "--write-tree", "--name-only", base_head, head, git_dir=bare, ok_codes=(0, 1)
            )
            if merged.returncode:
                # The tree, the conflicting paths, a blank line, then git's messages.
                listing, _, messages = merged.stdout.decode("utf-8", "replace").partition("\n\n")
                files = list(dict.fromkeys(line for line in listing.splitlines()[1:] if line))
                conflicts = [line for line in messages.splitlines() if line.startswith("CONFLICT")]
                raise MergeConflictError(
                    f"pull request #{number} in {repo!r} does not merge cleanly into {pull.base}: "
                    + "; ".join(conflicts or files)[:2000],
                    files,
                )
            tree = merged.stdout.decode().splitlines()[0].strip()
            message = f"Merge pull request #{number} from {pull.branch}\n\n{pull.title}\n"
            sha = (
                self._git(
                    "commit-tree",
                    tree,
                    "-p",
                    base_head,
                    "-p",
                    head,
                    "-F",
                    "-",
                    git_dir=bare,
                    stdin=message.encode("utf-8"),
                    identity=GitIdentity(),
                )
                .stdout.decode()
                .strip()
            )
            self._push(bare, sha, pull.base, base_head)
            record.pull = pull.model_copy(
                update={"state": "merged", "head_sha": head, "merge_sha": sha, "updated_at": utc_now()}
            )
            self._save(repo, record)
            return record.pull

    def changed_files(self, repo: str, number: int) -> list[tuple[str, str]]:
        """(status letter, path) of every file the pull request changes against its base."""
        bare = self._existing(repo)
        pull = self.get_pull_request(repo, number)
        if pull.state == "merged" and pull.merge_sha:
            left, right = f"{pull.merge_sha}^1", pull.merge_sha
        else:
            base_head = self.branch_head(repo, pull.base)
            if base_head is None or pull.head_sha is None:
                return []
            left, right = f"{base_head}...{pull.head_sha}", ""
        args = ["diff", "--name-status", "-z", "--no-renames", left] + ([right] if right else [])
        parts = self._git(*args, git_dir=bare).stdout.decode("utf-8", "replace").split("\0")
        return [(parts[i], parts[i + 1]) for i in range(0, len(parts) - 1, 2)]

    # --- secrets --------------------------------------------------------------------------------

    def set_actions_secret(self, repo: str, name: str, value: str | SecretStr) -> None:
        check_secret_name(name)
        with self._locked(repo) as records:
            path = records / "secrets.json"
            known = SecretNames.model_validate_json(path.read_bytes()) if path.exists() else SecretNames()
            known.names[name] = utc_now()
            path.write_text(known.model_dump_json(indent=2), encoding="utf-8")

    def list_actions_secrets(self, repo: str) -> list[str]:
        path = self._records(repo) / "secrets.json"
        if not path.exists():
            return []
        return sorted(SecretNames.model_validate_json(path.read_bytes()).names)
