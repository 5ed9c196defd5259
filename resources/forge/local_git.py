"""The local forge's git plumbing: git run with a minimal environment, commits written by one
`git fast-import` and branches moved by one `git update-ref --stdin` transaction with a lease.

A commit's blobs, trees and commit object are written by one `git fast-import` (under a temporary ref),
then the branch is moved by one `git update-ref --stdin` transaction with a lease on its old value, so a
failure anywhere before that leaves the branch untouched and two writers cannot silently overwrite each
other. git runs with no system or user configuration, a fixed identity, and explicit dates.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from resources.forge.base import FileChange, ForgeError, GitIdentity, check_branch_name, is_commit_sha

GIT_OPTIONS = (
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


def fast_import_path(path: str) -> bytes:
    """A path as fast-import reads it: C-quoted when it holds a newline, a backslash or a leading quote."""
    if "\n" not in path and "\\" not in path and not path.startswith('"'):
        return path.encode("utf-8")
    escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'.encode()


def read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0:
        chunk = stream.read(size)
        if not chunk:
            raise ForgeError("git cat-file --batch ended early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def git_date(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return f"{int(value.timestamp())} +0000"


class GitPlumbing:
    """The git commands of the local forge (mixed into `LocalForge`)."""

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
            stamp = git_date(date or utc_now())
            env |= {
                "GIT_AUTHOR_NAME": identity.name,
                "GIT_AUTHOR_EMAIL": identity.email,
                "GIT_COMMITTER_NAME": identity.name,
                "GIT_COMMITTER_EMAIL": identity.email,
                "GIT_AUTHOR_DATE": stamp,
                "GIT_COMMITTER_DATE": stamp,
            }
        command = ["git", *GIT_OPTIONS]
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
        stamp = git_date(date or utc_now())
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
            path = fast_import_path(change.path)
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
