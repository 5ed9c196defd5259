"""The three-way merge of one file, by git's own file merge (`git merge-file`).

`reviews` carries a person's edits of a story's files onto the story regenerated on main with it: the
base is the file as the pipeline last wrote it on the branch, "ours" the regenerated file, "theirs"
the person's edit. A clean merge is taken; edits of the same (or adjacent) lines conflict, and a
conflict is only reported, never resolved by picking a side.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path


class Conflict:
    """A file whose three-way merge conflicts."""

    def __repr__(self) -> str:
        return "CONFLICT"


CONFLICT = Conflict()


class MergeFailed(Exception):
    """git could not merge the file (not a conflict: git itself failed)."""


# git's file merge exits with the number of conflicts, capped at 127; above that it failed.
_MOST_CONFLICTS = 127


def merge_file(base: bytes | None, ours: bytes | None, theirs: bytes | None) -> bytes | None | Conflict:
    """The three-way merge of one file (None: absent): `ours` one side's change of `base`, `theirs` the
    other's. A side that left the file as it was takes the other's content (or its deletion); a
    deletion against a change, an edit of a binary file (or one that is not UTF-8 text), or edits of
    the same lines conflict. MergeFailed when git cannot run the merge."""
    if ours == base:
        return theirs
    if theirs in (base, ours):
        return ours
    if ours is None or theirs is None:
        return CONFLICT
    sides = (base or b"", ours, theirs)
    try:
        for side in sides:
            side.decode("utf-8")
    except UnicodeDecodeError:
        return CONFLICT
    if any(b"\0" in side for side in sides):  # git's own test for a binary file
        return CONFLICT
    return _git_merge_file(*sides)


def _git_merge_file(base: bytes, ours: bytes, theirs: bytes) -> bytes | Conflict:
    with tempfile.TemporaryDirectory(prefix="merge-file-") as folder:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder, name)
            path.write_bytes(data)
            paths.append(str(path))
        try:
            result = subprocess.run(
                ["git", "merge-file", "--stdout", "--quiet", *paths],
                capture_output=True,
                env=_git_env(),
                cwd=folder,
                check=False,
            )
        except OSError as error:
            raise MergeFailed(f"git merge-file could not run: {error}") from None
    if result.returncode == 0:
        return result.stdout
    if 0 < result.returncode <= _MOST_CONFLICTS:
        return CONFLICT
    why = result.stderr.decode("utf-8", errors="replace").strip() or f"exit code {result.returncode}"
    raise MergeFailed(f"git merge-file failed: {why}")


def _git_env() -> dict[str, str]:
    """git without the machine's or the user's configuration (a merge.conflictStyle, ...)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": tempfile.gettempdir(),
        "LC_ALL": "C",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
    }
