"""The three-way file merge `reviews` carries a person's edits with (git's own `git merge-file`)."""

from __future__ import annotations

import pytest

from assets.reviews.file_merge import CONFLICT, Conflict, merge_file

BASE = b"".join(f"line {n}\n".encode() for n in range(1, 11))


def _edit(text: bytes, line: int, new: bytes) -> bytes:
    lines = text.splitlines(keepends=True)
    lines[line - 1] = new
    return b"".join(lines)


def test_edits_of_different_lines_merge_cleanly() -> None:
    ours = _edit(BASE, 2, b"regenerated 2\n")
    theirs = _edit(BASE, 8, b"person 8\n")
    merged = merge_file(BASE, ours, theirs)
    assert merged == _edit(ours, 8, b"person 8\n")


def test_lines_added_at_both_ends_merge_cleanly() -> None:
    ours = b"header\n" + BASE
    theirs = BASE + b"footer"  # no newline at the end of the file stays so
    assert merge_file(BASE, ours, theirs) == b"header\n" + BASE + b"footer"


def test_edits_of_the_same_line_conflict() -> None:
    ours = _edit(BASE, 5, b"regenerated 5\n")
    theirs = _edit(BASE, 5, b"person 5\n")
    assert merge_file(BASE, ours, theirs) is CONFLICT
    assert isinstance(merge_file(BASE, ours, theirs), Conflict)


def test_the_same_edit_on_both_sides_is_no_conflict() -> None:
    same = _edit(BASE, 5, b"both 5\n")
    assert merge_file(BASE, same, same) == same
    # Equal edits among other, different ones: git merges the identical hunk.
    ours = _edit(_edit(BASE, 5, b"both 5\n"), 1, b"regenerated 1\n")
    theirs = _edit(_edit(BASE, 5, b"both 5\n"), 10, b"person 10\n")
    assert merge_file(BASE, ours, theirs) == _edit(ours, 10, b"person 10\n")


def test_one_side_unchanged_takes_the_other() -> None:
    changed = _edit(BASE, 3, b"changed 3\n")
    assert merge_file(BASE, BASE, changed) == changed
    assert merge_file(BASE, changed, BASE) == changed


def test_a_file_added_on_one_side_is_kept() -> None:
    assert merge_file(None, None, b"new by a person\n") == b"new by a person\n"
    assert merge_file(None, b"new by the generator\n", None) == b"new by the generator\n"


def test_a_file_added_on_both_sides_merges_like_any_other() -> None:
    assert merge_file(None, b"same\n", b"same\n") == b"same\n"
    assert merge_file(None, b"one\n", b"other\n") is CONFLICT


def test_a_file_deleted_on_one_side_and_untouched_on_the_other_is_deleted() -> None:
    assert merge_file(BASE, BASE, None) is None
    assert merge_file(BASE, None, BASE) is None
    assert merge_file(BASE, None, None) is None


def test_a_deletion_against_an_edit_conflicts() -> None:
    changed = _edit(BASE, 3, b"changed 3\n")
    assert merge_file(BASE, None, changed) is CONFLICT
    assert merge_file(BASE, changed, None) is CONFLICT


@pytest.mark.parametrize("binary", [b"\x89PNG\r\n\x1a\n\x00\x00", b"\xff\xfe not utf-8\n"])
def test_edits_of_a_binary_file_conflict(binary: bytes) -> None:
    assert merge_file(binary, binary + b"a", binary + b"b") is CONFLICT


def test_the_users_git_configuration_does_not_change_the_result(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    config = tmp_path / "gitconfig"
    config.write_text("[merge]\n\tconflictStyle = diff3\n[core]\n\tautocrlf = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    ours = _edit(BASE, 2, b"regenerated 2\r\n")
    theirs = _edit(BASE, 8, b"person 8\n")
    assert merge_file(BASE, ours, theirs) == _edit(ours, 8, b"person 8\n")
