"""The local forge: bare git repositories in a folder, pull requests and reviews as JSON records.

Layout under `root` (by default `<PIPELINE_DATA_DIR>/forge`):

    <name>.git/                  bare repository (written by `git fast-import` and `git update-ref`)
    <name>.forge/pulls/<n>.json  one pull request with its reviews and comments
    <name>.forge/secrets.json    names of the Actions secrets the pipeline would set (never values)

A commit's blobs, trees and commit object are written by one `git fast-import` (under a temporary ref),
then the branch is moved by one `git update-ref --stdin` transaction with a lease on its old value, so a
failure anywhere before that leaves the branch untouched and two writers cannot silently overwrite each
other. Three processes per commit, whatever its size (a clone, an index and a push took a dozen). git
runs with a minimal environment: no system or user configuration, a fixed identity, and explicit dates.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from pydantic import BaseModel, Field, PrivateAttr, SecretStr

from resources.forge.base import (
    Comment,
    CommitPlan,
    CommitRef,
    FileChange,
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

_GIT_OPTIONS = (
    "-c",
    "core.quotePath=false",
    "-c",
    "commit.gpgSign=false",
    "-c",
    "core.autocrlf=false",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "advice.detachedHead=false",
)

_MAX_PACKS = 50  # git's own gc.autoPackLimit
# Temporary refs fast-import wrote, by (bare repository, commit): `_push` drops them with the update.
_IMPORTED: dict[tuple[str, str], list[str]] = {}
_IMPORTED_LOCK = threading.Lock()


def _fast_import_path(path: str) -> bytes:
    """A path as fast-import reads it: C-quoted when it holds a newline, a backslash or a leading quote."""
    if "\n" not in path and "\\" not in path and not path.startswith('"'):
        return path.encode("utf-8")
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'.encode()


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            raise ForgeError("git cat-file --batch ended early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class _PullRecord(BaseModel):
    """What the local forge stores per pull request."""

    pull: PullRequest
    reviews: list[Review] = Field(default_factory=list)
    comments: list[Comment] = Field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _git_date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return f"{int(value.timestamp())} +0000"


class LocalForge(Forge):
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

    def _records(self, repo: str) -> Path:
        return self._root() / f"{check_repository_name(repo)}.forge"

    def _existing(self, repo: str) -> Path:
        bare = self._bare(repo)
        if not (bare / "HEAD").is_file():
            raise ForgeError(f"repository {repo!r} does not exist in {self._root()}")
        return bare

    def _git(
        self,
        *args: str,
        git_dir: Path | None = None,
        cwd: Path | None = None,
        stdin: bytes | None = None,
        identity: GitIdentity | None = None,
        date: datetime | None = None,
        ok_codes: tuple[int, ...] = (0,),
    ) -> subprocess.CompletedProcess[bytes]:
        env = self._env()
        if identity is not None:
            stamp = _git_date(date or _now())
            env |= {
                "GIT_AUTHOR_NAME": identity.name,
                "GIT_AUTHOR_EMAIL": identity.email,
                "GIT_COMMITTER_NAME": identity.name,
                "GIT_COMMITTER_EMAIL": identity.email,
                "GIT_AUTHOR_DATE": stamp,
                "GIT_COMMITTER_DATE": stamp,
            }
        command = ["git", *_GIT_OPTIONS]
        if git_dir is not None:
            command.append(f"--git-dir={git_dir}")
        command.extend(args)
        result = subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, env=env, check=False)
        if result.returncode not in ok_codes:
            output = (result.stderr + b"\n" + result.stdout).decode("utf-8", "replace")
            reason = " ".join(output.split())[-2000:]
            raise ForgeError(f"git {args[0]} failed with exit code {result.returncode}: {reason}")
        return result

    @staticmethod
    def _env() -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "HOME": tempfile.gettempdir(),
            "LC_ALL": "C",
            "TZ": "UTC",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0",
        }

    def _rev(self, git_dir: Path, name: str) -> str | None:
        result = self._git(
            "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", git_dir=git_dir, ok_codes=(0, 1)
        )
        return result.stdout.decode().strip() or None

    @staticmethod
    def _ref_name(ref: str) -> str:
        """A branch name or commit sha as git reads it: the sha itself, or the branch's full ref."""
        return ref if is_commit_sha(ref) else f"refs/heads/{check_branch_name(ref)}"

    def _commits(self, git_dir: Path, names: Sequence[str]) -> list[str | None]:
        """The commit each name (sha or full ref name) points at, or None: one `cat-file` for all."""
        query = "".join(f"{name}^{{commit}}\n" for name in names).encode()
        lines = self._git("cat-file", "--batch-check", git_dir=git_dir, stdin=query).stdout.splitlines()
        found: list[str | None] = []
        for line in lines:
            fields = line.decode().split(" ")
            found.append(fields[0] if len(fields) == 3 and fields[1] == "commit" else None)
        return found

    def _fast_import(
        self,
        bare: Path,
        base_sha: str,
        changes: Sequence[FileChange],
        message: str,
        identity: GitIdentity,
        date: datetime | None,
        merges: Sequence[str] = (),
    ) -> str:
        """Write the blobs, trees and commit of `changes` on `base_sha` with one `git fast-import`
        (`merges`: further parents, for a merge commit).

        The commit lands on a temporary ref (fast-import always names one); `_push` moves the branch
        and drops that ref in one transaction. Returns the new commit's sha.
        """
        token = os.urandom(8).hex()
        temp_ref = f"refs/forge-import/{token}"
        stamp = _git_date(date or _now())
        who = f"{identity.name} <{identity.email}> {stamp}".encode()
        stream = bytearray()
        for mark, change in enumerate((c for c in changes if not c.delete), start=1):
            data = change.content or b""
            stream += b"blob\nmark :%d\ndata %d\n" % (mark, len(data)) + data + b"\n"
        text = message.encode("utf-8")
        commit_mark = len(changes) + 1
        stream += b"commit %s\nmark :%d\n" % (temp_ref.encode(), commit_mark)
        stream += b"author " + who + b"\ncommitter " + who + b"\n"
        stream += b"data %d\n" % len(text) + text + b"\nfrom " + base_sha.encode() + b"\n"
        for parent in merges:
            stream += b"merge " + parent.encode() + b"\n"
        mark = 0
        for change in changes:
            path = _fast_import_path(change.path)
            if change.delete:
                stream += b"D " + path + b"\n"
            else:
                mark += 1
                mode = b"100755" if change.executable else b"100644"
                stream += b"M " + mode + b" :%d " % mark + path + b"\n"
        stream += b"\ndone\n"
        with tempfile.TemporaryDirectory(prefix="forge-import-") as tmp:
            marks = Path(tmp) / "marks"
            # Small imports would be unpacked into loose objects by a second process: keep the pack
            # (a third of the time) and let `_maintain` roll the packs up.
            self._git(
                "-c",
                "fastimport.unpackLimit=0",
                "fast-import",
                "--quiet",
                "--done",
                f"--export-marks={marks}",
                git_dir=bare,
                stdin=bytes(stream),
            )
            for line in marks.read_text(encoding="ascii").splitlines():
                name, _, sha = line.partition(" ")
                if name == f":{commit_mark}":
                    with _IMPORTED_LOCK:
                        _IMPORTED.setdefault((str(bare), sha.strip()), []).append(temp_ref)
                    return sha.strip()
        raise ForgeError("git fast-import wrote no commit")  # pragma: no cover - fast-import's contract

    def _push(self, bare: Path, sha: str, branch: str, expected_old: str | None) -> None:
        """Move `branch` to `sha` only if it still is at `expected_old` (None: does not exist yet), in
        one `update-ref --stdin` transaction that also drops fast-import's temporary refs."""
        ref = f"refs/heads/{branch}"
        with _IMPORTED_LOCK:
            temporary = _IMPORTED.pop((str(bare), sha), [])
        commands = f"update {ref} {sha} {expected_old or '0' * 40}\n" + "".join(
            f"delete {name}\n" for name in temporary
        )
        try:
            self._git("update-ref", "--stdin", git_dir=bare, stdin=commands.encode())
        except ForgeError as error:
            if temporary:  # the commit is not wanted: let its temporary ref go
                drop = "".join(f"delete {name}\n" for name in temporary).encode()
                self._git("update-ref", "--stdin", git_dir=bare, stdin=drop, ok_codes=(0, 1, 128))
            raise ForgeError(f"update of {ref} rejected (stale info or refused): {error}") from None
        self._maintain(bare)

    def _maintain(self, bare: Path) -> None:
        """Roll fast-import's small packs up geometrically before their number slows every read."""
        packs = bare / "objects" / "pack"
        if sum(1 for name in os.listdir(packs) if name.endswith(".pack")) <= _MAX_PACKS:
            return
        with open(bare / "forge-repack.lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # another writer is repacking right now
            try:
                # A failed roll-up loses nothing (the packs stay as they were): never fail a commit.
                self._git("repack", "-d", "-q", "--geometric=2", git_dir=bare, ok_codes=(0, 1, 128))
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

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
        command = ["git", *_GIT_OPTIONS, f"--git-dir={bare}", "cat-file", "--batch"]
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
                data = _read_exactly(reader, size + 1)[:size]
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

    @contextmanager
    def _locked(self, repo: str) -> Iterator[Path]:
        """Serialise writers of one repository's records (several Dagster processes may run at once)."""
        self._existing(repo)
        records = self._records(repo)
        (records / "pulls").mkdir(parents=True, exist_ok=True)
        with open(records / ".lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield records
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _pull_path(self, repo: str, number: int) -> Path:
        return self._records(repo) / "pulls" / f"{int(number)}.json"

    def _load(self, repo: str, number: int) -> _PullRecord:
        path = self._pull_path(repo, number)
        try:
            return _PullRecord.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise ForgeError(f"pull request #{number} not found in {repo!r}") from None

    def _save(self, repo: str, record: _PullRecord) -> None:
        path = self._pull_path(repo, record.pull.number)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(record.model_dump_json(indent=2).encode("utf-8"))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _records_of(self, repo: str) -> list[_PullRecord]:
        folder = self._records(repo) / "pulls"
        if not folder.is_dir():
            return []
        numbers = sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())
        return [self._load(repo, n) for n in numbers]

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
            now = _now()
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
            self._save(repo, _PullRecord(pull=pull))
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

    # The branch index: `<name>.forge/branches/<quoted branch>` holds the number of the branch's newest
    # pull request, so finding it reads one small file instead of every record. Built from the records
    # on first use (repositories made before it existed); written under the records lock.

    def _branch_index(self, repo: str) -> Path:
        folder = self._records(repo) / "branches"
        if not (folder / ".complete").is_file():
            folder.mkdir(parents=True, exist_ok=True)
            for record in self._records_of(repo):
                self._index_branch(repo, record.pull.branch, record.pull.number)
            (folder / ".complete").write_bytes(b"")
        return folder

    def _index_branch(self, repo: str, branch: str, number: int) -> None:
        folder = self._records(repo) / "branches"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / urllib.parse.quote(branch, safe="")
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".partial")
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(str(number))
        os.replace(tmp, path)

    def _open_record(self, repo: str, branch: str) -> _PullRecord | None:
        """The open pull request of `branch` (callers hold the records lock)."""
        pointer = self._branch_index(repo) / urllib.parse.quote(branch, safe="")
        try:
            number = int(pointer.read_text(encoding="ascii"))
        except FileNotFoundError:
            return None
        except ValueError:
            number = 0
        try:
            record = self._load(repo, number)
        except ForgeError:
            record = None
        if record is None or record.pull.branch != branch:  # a damaged index: the records decide
            matching = [r for r in self._records_of(repo) if r.pull.branch == branch]
            if not matching:
                return None
            record = matching[-1]
            self._index_branch(repo, branch, record.pull.number)
        return record if record.pull.state == "open" else None

    def _last_number(self, repo: str) -> int:
        folder = self._records(repo) / "pulls"
        names = (entry.name for entry in os.scandir(folder) if entry.name.endswith(".json"))
        return max((int(name[:-5]) for name in names if name[:-5].isdigit()), default=0)

    def _follow(
        self, repo: str, record: _PullRecord, base: str, title: str, body: str, story_id: str | None
    ) -> PullRequest:
        """Bring an open pull request up to its rebuilt story: base, title and (when given) body."""
        changes = pull_request_changes(record.pull, base, title, body, story_id)
        if changes:
            record.pull = record.pull.model_copy(update={**changes, "updated_at": _now()})
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
        review = Review(state=state, author=author or "reviewer", body=body, at=_now())
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
                id=str(len(record.comments) + 1), author=author or "ai-pipeline", body=body, at=_now()
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
                update={"state": "merged", "head_sha": head, "merge_sha": sha, "updated_at": _now()}
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
            known = _SecretNames.model_validate_json(path.read_bytes()) if path.exists() else _SecretNames()
            known.names[name] = _now()
            path.write_text(known.model_dump_json(indent=2), encoding="utf-8")

    def list_actions_secrets(self, repo: str) -> list[str]:
        path = self._records(repo) / "secrets.json"
        if not path.exists():
            return []
        return sorted(_SecretNames.model_validate_json(path.read_bytes()).names)


class _SecretNames(BaseModel):
    """Names of the secrets the pipeline set, with when; the local forge never stores a value."""

    names: dict[str, datetime] = Field(default_factory=dict)
