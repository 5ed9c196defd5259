"""The local forge's pull-request records: one JSON file per pull request under
`<name>.forge/pulls/`, written atomically under a per-repository lock, and an index from a branch to
its newest pull request.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from resources.forge.base import Comment, ForgeError, PullRequest, Review, check_repository_name


class PullRecord(BaseModel):
    """What the local forge stores per pull request."""

    pull: PullRequest
    reviews: list[Review] = Field(default_factory=list)
    comments: list[Comment] = Field(default_factory=list)


class PullRecords:
    """Where and how the local forge keeps its pull-request records (mixed into `LocalForge`)."""

    def _root(self) -> Path:
        raise NotImplementedError  # the forge's folder: LocalForge gives it

    def _existing(self, repo: str) -> Path:
        raise NotImplementedError  # the bare repository, which must exist: LocalForge gives it

    def _records(self, repo: str) -> Path:
        return self._root() / f"{check_repository_name(repo)}.forge"

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

    def _load(self, repo: str, number: int) -> PullRecord:
        path = self._pull_path(repo, number)
        try:
            return PullRecord.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            raise ForgeError(f"pull request #{number} not found in {repo!r}") from None

    def _save(self, repo: str, record: PullRecord) -> None:
        path = self._pull_path(repo, record.pull.number)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".partial")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(record.model_dump_json(indent=2).encode("utf-8"))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _records_of(self, repo: str) -> list[PullRecord]:
        folder = self._records(repo) / "pulls"
        if not folder.is_dir():
            return []
        numbers = sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())
        return [self._load(repo, n) for n in numbers]

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

    def _open_record(self, repo: str, branch: str) -> PullRecord | None:
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


class SecretNames(BaseModel):
    """Names of the secrets the pipeline set, with when; the local forge never stores a value."""

    names: dict[str, datetime] = Field(default_factory=dict)
