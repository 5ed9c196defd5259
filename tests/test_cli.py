"""The `drop` command: a folder of documents into a project's inbox."""

from __future__ import annotations

from pathlib import Path

from pipeline_defs.cli import drop_folder
from resources.object_store import LocalObjectStore


def test_drop_uploads_new_and_changed_files_and_leaves_out_hidden_paths(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "notes").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "spec.md").write_text("# Spec\n")
    (folder / "notes" / "call.vtt").write_text("WEBVTT\n")
    (folder / ".git" / "config").write_text("[core]\n")
    (folder / ".DS_Store").write_bytes(b"\0")
    inbox = LocalObjectStore(root=str(tmp_path / "inbox"))

    assert drop_folder(inbox, folder, "acme") == ["acme/notes/call.vtt", "acme/spec.md"]
    assert [info.key for info in inbox.list_page()] == ["acme/notes/call.vtt", "acme/spec.md"]
    assert drop_folder(inbox, folder, "acme") == []  # same content: nothing written, so no new run
    (folder / "spec.md").write_text("# Spec, revised\n")
    assert drop_folder(inbox, folder, "acme") == ["acme/spec.md"]
    assert inbox.get_text("acme/spec.md") == "# Spec, revised\n"
