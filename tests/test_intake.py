"""The documents stage: versions, tombstones, rejections, attachments, parallel parsing, the asset."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import pytest
from pydantic import PrivateAttr

from assets.documents.asset import IntakeLimits, documents
from assets.documents.intake import CRASH_PREFIX, IntakeResult, ingest_project, listing_rejection, load_parsed
from assets.documents.models import DocumentRecord, DocumentsSnapshot
from assets.documents.parsing import ParseOutcome, parse_source
from resources.io_manager import ArtifactJsonIOManager, asset_value_key
from resources.object_store import (
    LocalObjectStore,
    NotARegularFileError,
    ObjectInfo,
    UnsafeKeyError,
    check_key,
)
from tests.support.corpus import crashing_parser, eml_bytes, pdf_bytes, sample_files

PROJECT = "acme"
LIMIT = 1024 * 1024
_clock = [1_700_000_000_000_000_000]


class CountingStore(LocalObjectStore):
    """A local folder that remembers which keys were downloaded."""

    _downloads: list[str] = PrivateAttr(default_factory=list)

    def get_bytes(self, key: str) -> bytes:
        self._downloads.append(key)
        return super().get_bytes(key)


class ExtraListingStore(CountingStore):
    """Lists keys a local folder cannot hold (traversal, hidden), as a hostile S3 bucket could."""

    extra: list[str] = []

    def list_page(self, prefix: str = "", start_after: str = "", max_keys: int = 1000) -> list[ObjectInfo]:
        page = super().list_page(prefix, start_after, max_keys)
        if start_after:
            return page
        extra = [ObjectInfo(key=key, etag="e", size=10) for key in self.extra if key.startswith(prefix)]
        return sorted(page + extra, key=lambda info: info.key)

    def get_bytes(self, key: str) -> bytes:
        if key in self.extra:
            raise AssertionError(f"unsafe key {key!r} was downloaded")
        return super().get_bytes(key)


class ReuploadStore(CountingStore):
    """ETags that change on every upload even for the same bytes (S3 multipart uploads, copies)."""

    _generation: int = PrivateAttr(default=0)

    def reupload(self) -> None:
        self._generation += 1

    def _tagged(self, info: ObjectInfo) -> ObjectInfo:
        return info.model_copy(update={"etag": f"{info.etag}-{self._generation}"})

    def list_page(self, prefix: str = "", start_after: str = "", max_keys: int = 1000) -> list[ObjectInfo]:
        return [self._tagged(info) for info in super().list_page(prefix, start_after, max_keys)]

    def head(self, key: str) -> ObjectInfo | None:
        info = super().head(key)
        return self._tagged(info) if info else None


def put(inbox_root: Path, key: str, data: bytes) -> None:
    """Write a file with a fresh modification time (as a new upload of it would have)."""
    path = inbox_root / PROJECT / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    _clock[0] += 1_000_000_000
    os.utime(path, ns=(_clock[0], _clock[0]))


class CallLog:
    """The paths a parser was called with, in whichever parser process it ran (kept in a file)."""

    def __init__(self) -> None:
        fd, name = tempfile.mkstemp(prefix="parser-calls-")
        os.close(fd)
        self.path = Path(name)

    def record(self, path: str) -> None:
        with self.path.open("a") as handle:  # one short append per call: whole lines across processes
            handle.write(path + "\n")

    def list(self) -> list[str]:
        return self.path.read_text().splitlines()

    def clear(self) -> None:
        self.path.write_text("")

    def __len__(self) -> int:
        return len(self.list())

    def __eq__(self, other: object) -> bool:
        return self.list() == other


def counting(calls: CallLog) -> Callable[[str, bytes, int], ParseOutcome]:
    def parser(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
        calls.record(path)
        return parse_source(path, data, max_bytes)

    return parser


Stores = tuple[Path, CountingStore, LocalObjectStore]


@pytest.fixture
def stores(tmp_path: Path) -> Stores:
    inbox_root = tmp_path / "inbox"
    inbox_root.mkdir()
    return inbox_root, CountingStore(root=str(inbox_root)), LocalObjectStore(root=str(tmp_path / "artifacts"))


def ingest(
    inbox: LocalObjectStore,
    artifacts: LocalObjectStore,
    previous: DocumentsSnapshot | None,
    workers: int = 1,
    parser: Callable[[str, bytes, int], ParseOutcome] = parse_source,
    max_bytes: int = LIMIT,
    now: str = "2024-01-01T00:00:00+00:00",
) -> IntakeResult:
    return ingest_project(PROJECT, inbox, artifacts, previous, max_bytes, workers, now, parser=parser)


def record(result: IntakeResult, path: str) -> DocumentRecord:
    matches = [r for r in result.snapshot.documents if r.path == path]
    assert matches, f"{path} not in {[r.path for r in result.snapshot.documents]}"
    return matches[0]


def reasons(result: IntakeResult) -> dict[str, str]:
    return {entry.path: entry.reason for entry in result.snapshot.rejected}


# --- first run ----------------------------------------------------------------------------------


def test_first_run_creates_version_1_of_every_document(stores: Stores) -> None:
    inbox_root, inbox, artifacts = stores
    files = sample_files()
    for key, data in files.items():
        put(inbox_root, key, data)
    result = ingest(inbox, artifacts, None)

    paths = sorted(files) + ["mail/kickoff.eml#notes.txt"]
    assert [r.path for r in result.snapshot.documents] == sorted(paths)
    assert result.new == len(paths) and result.parsed == len(files) and result.rejected == 0
    assert result.changes == dict.fromkeys(paths, "new")
    for key, data in files.items():
        version = record(result, key).current
        assert (version.number, version.status) == (1, "active")
        assert version.content_hash == hashlib.sha256(data).hexdigest()
        assert version.size == len(data)
        assert re.fullmatch(rf"documents/{PROJECT}/parsed/[0-9a-f]{{64}}\.json", version.parsed_key or "")
        stored = artifacts.get_bytes(version.parsed_key or "")
        assert hashlib.sha256(stored).hexdigest() in version.parsed_key  # content-addressed
        assert load_parsed(artifacts, version).path == key
    attachment = record(result, "mail/kickoff.eml#notes.txt")
    assert attachment.source_key == f"{PROJECT}/mail/kickoff.eml"
    assert attachment.kind == "text"
    assert "users must export CSV" in load_parsed(artifacts, attachment.current).text


# --- unchanged files are never parsed again ---------------------------------------------------------


def test_unchanged_rerun_neither_downloads_nor_parses(stores: Stores) -> None:
    inbox_root, inbox, artifacts = stores
    for key, data in sample_files().items():
        put(inbox_root, key, data)
    calls = CallLog()
    first = ingest(inbox, artifacts, None, parser=counting(calls))
    assert len(calls) == len(sample_files())
    calls.clear()
    inbox._downloads.clear()

    second = ingest(inbox, artifacts, first.snapshot, parser=counting(calls), now="later")
    assert calls == [] and inbox._downloads == []
    assert (second.parsed, second.unchanged, second.new, second.changed) == (0, len(sample_files()), 0, 0)
    assert second.snapshot == first.snapshot
    assert second.snapshot.data_version() == first.snapshot.data_version()


def test_touched_local_file_is_neither_downloaded_nor_parsed(stores: Stores) -> None:
    inbox_root, inbox, artifacts = stores
    put(inbox_root, "notes/a.txt", b"Users must log in.\n")
    first = ingest(inbox, artifacts, None)
    put(inbox_root, "notes/a.txt", b"Users must log in.\n")  # saved again: new mtime, same content ETag
    calls = CallLog()
    inbox._downloads.clear()
    second = ingest(inbox, artifacts, first.snapshot, parser=counting(calls))
    assert calls == [] and inbox._downloads == []
    assert second.snapshot == first.snapshot


def test_reuploaded_identical_file_is_hashed_but_not_parsed(tmp_path: Path) -> None:
    inbox_root = tmp_path / "inbox"
    inbox = ReuploadStore(root=str(inbox_root))
    artifacts = LocalObjectStore(root=str(tmp_path / "artifacts"))
    put(inbox_root, "notes/a.txt", b"Users must log in.\n")
    first = ingest(inbox, artifacts, None)
    put(inbox_root, "notes/a.txt", b"Users must log in.\n")  # the same bytes uploaded again
    inbox.reupload()
    calls = CallLog()
    inbox._downloads.clear()
    second = ingest(inbox, artifacts, first.snapshot, parser=counting(calls))
    assert calls == [] and inbox._downloads == [f"{PROJECT}/notes/a.txt"]
    version = record(second, "notes/a.txt").current
    assert version.number == 1
    assert version.etag != record(first, "notes/a.txt").current.etag
    assert version.etag == inbox.head(f"{PROJECT}/notes/a.txt").etag  # type: ignore[union-attr]
    assert second.unchanged == 1 and second.snapshot.data_version() == first.snapshot.data_version()

    inbox._downloads.clear()
    third = ingest(inbox, artifacts, second.snapshot, parser=counting(calls))  # the new ETag was kept
    assert calls == [] and inbox._downloads == [] and third.snapshot == second.snapshot


# --- version history -------------------------------------------------------------------------------


def test_changed_file_gets_a_new_version_and_the_old_one_stays_readable(stores: Stores) -> None:
    inbox_root, inbox, artifacts = stores
    put(inbox_root, "spec.md", b"# Spec\n\nUsers must log in.\n")
    put(inbox_root, "other.txt", b"Unrelated.\n")
    first = ingest(inbox, artifacts, None)
    v1 = record(first, "spec.md").current
    v1_bytes = artifacts.get_bytes(v1.parsed_key or "")

    put(inbox_root, "spec.md", b"# Spec\n\nUsers must log in with SSO.\n")
    calls = CallLog()
    second = ingest(inbox, artifacts, first.snapshot, parser=counting(calls), now="2024-02-01T00:00:00+00:00")
    assert calls == ["spec.md"]
    history = record(second, "spec.md").versions
    assert [(v.number, v.status) for v in history] == [(1, "active"), (2, "active")]
    assert (
        history[1].recorded_at == "2024-02-01T00:00:00+00:00"
        and history[0].recorded_at != history[1].recorded_at
    )
    assert history[0].parsed_key != history[1].parsed_key
    assert "Users must log in." in load_parsed(artifacts, history[0]).text
    assert "Users must log in with SSO." in load_parsed(artifacts, history[1]).text
    assert artifacts.get_bytes(v1.parsed_key or "") == v1_bytes  # never overwritten
    assert (second.changed, second.new, second.unchanged) == (1, 0, 1)
    assert second.changes == {"spec.md": "changed"}
    assert second.snapshot.data_version() != first.snapshot.data_version()


def test_removed_file_gets_a_tombstone_and_can_come_back(stores: Stores) -> None:
    inbox_root, inbox, artifacts = stores
    put(inbox_root, "a.txt", b"The app must export CSV.\n")
    put(inbox_root, "b.txt", b"The app must import CSV.\n")
    first = ingest(inbox, artifacts, None)

    (inbox_root / PROJECT / "a.txt").unlink()
    second = ingest(inbox, artifacts, first.snapshot)
    history = record(second, "a.txt").versions
    assert [(v.number, v.status) for v in history] == [(1, "active"), (2, "tombstone")]
    assert second.removed == 1 and second.changes == {"a.txt": "removed"}
    assert [r.path for r in second.snapshot.active()] == ["b.txt"]
    assert second.snapshot.data_version() != first.snapshot.data_version()
    assert "export CSV" in load_parsed(artifacts, history[0]).text
    with pytest.raises(ValueError, match="tombstone"):
        load_parsed(artifacts, history[1])

    third = ingest(inbox, artifacts, second.snapshot)  # still gone: nothing more happens
    assert record(third, "a.txt").versions == history and third.removed == 0

    put(inbox_root, "a.txt", b"The app must export CSV.\n")
    fourth = ingest(inbox, artifacts, third.snapshot)
    history = record(fourth, "a.txt").versions
    assert [(v.number, v.status) for v in history] == [(1, "active"), (2, "tombstone"), (3, "active")]
    assert fourth.new == 1 and fourth.changes == {"a.txt": "new"}
    assert fourth.snapshot.data_version() == first.snapshot.data_version()  # same documents, same content


def test_data_version_depends_on_content_only(tmp_path: Path) -> None:
    snapshots = []
    files = sample_files()
    for generation, name in enumerate(("one", "two")):
        inbox_root = tmp_path / name / "inbox"
        for key, data in reversed(files.items()):  # other upload order, other modification times
            put(inbox_root, key, data)
        inbox = ReuploadStore(root=str(inbox_root))
        for _ in range(generation):
            inbox.reupload()  # and other ETags
        artifacts = LocalObjectStore(root=str(tmp_path / name / "artifacts"))
        snapshots.append(ingest(inbox, artifacts, None, now=name).snapshot)
    one, two = snapshots
    assert one.documents[0].current.etag != two.documents[0].current.etag
    assert one.documents[0].current.recorded_at != two.documents[0].current.recorded_at
    assert one.data_version() == two.data_version()


# --- rejections --------------------------------------------------------------------------------------


def test_key_check_rejects_traversal_and_hidden_segments() -> None:
    for key in (f"{PROJECT}/../etc/passwd", f"{PROJECT}//x.txt", f"{PROJECT}/./x.txt", "/abs.txt"):
        with pytest.raises(UnsafeKeyError):
            check_key(key)
        reason = listing_rejection(ObjectInfo(key=key, etag="e", size=3), f"{PROJECT}/", LIMIT)
        assert reason and reason.startswith("unsafe key")
    hidden = listing_rejection(
        ObjectInfo(key=f"{PROJECT}/.git/config.txt", etag="e", size=3), f"{PROJECT}/", LIMIT
    )
    assert hidden and "hidden" in hidden
    assert (
        listing_rejection(ObjectInfo(key=f"{PROJECT}/ok.txt", etag="e", size=3), f"{PROJECT}/", LIMIT) is None
    )


def test_bad_inputs_are_rejected_with_reasons_and_the_rest_carries_on(tmp_path: Path) -> None:
    inbox_root = tmp_path / "inbox"
    inbox = ExtraListingStore(
        root=str(inbox_root),
        extra=[f"{PROJECT}/../secrets.txt", f"{PROJECT}/.hidden/notes.txt", f"{PROJECT}/a/../../b.txt"],
    )
    artifacts = LocalObjectStore(root=str(tmp_path / "artifacts"))
    put(inbox_root, "good.txt", b"The system shall work.\n")
    put(inbox_root, "empty.txt", b"")
    put(inbox_root, "mail/empty.eml", b"")
    put(inbox_root, "huge.pdf", b"%PDF" + b"0" * 2000)
    put(inbox_root, "archive.zip", b"PK\x03\x04")
    put(inbox_root, "broken.pdf", b"%PDF-1.7 not really")
    put(inbox_root, "fake.docx", b"plain text pretending")
    result = ingest(inbox, artifacts, None, max_bytes=1024)

    found = reasons(result)
    assert found["empty.txt"] == "empty file (0 bytes)"
    assert found["mail/empty.eml"] == "empty file (0 bytes)"
    assert "over the 1.0 KB limit" in found["huge.pdf"]
    assert found["archive.zip"].startswith("unsupported file type '.zip'")
    assert found["broken.pdf"].startswith("corrupt PDF")
    assert found["fake.docx"].startswith("not a valid DOCX")
    assert found["../secrets.txt"].startswith("unsafe key")
    assert found["a/../../b.txt"].startswith("unsafe key")
    assert "hidden" in found[".hidden/notes.txt"]
    assert len(found) == 9 and result.rejected == 9
    entry = next(e for e in result.snapshot.rejected if e.path == "huge.pdf")
    assert entry.size == 2004 and entry.etag == inbox.head(f"{PROJECT}/huge.pdf").etag  # type: ignore[union-attr]
    # only the files that passed the listing checks were downloaded
    assert sorted(inbox._downloads) == sorted(
        f"{PROJECT}/{k}" for k in ("good.txt", "broken.pdf", "fake.docx")
    )
    assert [r.path for r in result.snapshot.documents] == ["good.txt"]


def test_rejected_new_version_keeps_the_earlier_versions(stores: Stores) -> None:
    inbox_root, inbox, artifacts = stores
    put(inbox_root, "spec.pdf", pdf_bytes(["The portal shall export invoices."]))
    first = ingest(inbox, artifacts, None)
    put(inbox_root, "spec.pdf", b"%PDF-1.7 truncated upload")
    second = ingest(inbox, artifacts, first.snapshot)
    assert record(second, "spec.pdf").versions == record(first, "spec.pdf").versions
    assert "export invoices" in load_parsed(artifacts, record(second, "spec.pdf").current).text
    assert reasons(second)["spec.pdf"].startswith("corrupt PDF")
    assert second.snapshot.data_version() == first.snapshot.data_version()

    calls = CallLog()
    third = ingest(inbox, artifacts, second.snapshot, parser=counting(calls))
    assert calls == []  # the same rejected bytes are not parsed again
    assert third.snapshot == second.snapshot


# --- e-mail attachments ----------------------------------------------------------------------------


def mail(body: str, attachments: list[tuple[str, bytes, str]]) -> bytes:
    return eml_bytes(body=body, attachments=attachments)


def test_attachments_are_documents_that_follow_their_email(stores: Stores) -> None:
    inbox_root, inbox, artifacts = stores
    pdf = ("spec.pdf", pdf_bytes(["The API must be versioned."]), "application/pdf")
    txt = ("notes.txt", b"Keep audit logs.\n", "text/plain")
    zip_ = ("tools.zip", b"PK\x03\x04", "application/zip")
    put(inbox_root, "kickoff.eml", mail("First body.\n", [pdf, txt, zip_]))
    first = ingest(inbox, artifacts, None)
    assert [r.path for r in first.snapshot.documents] == [
        "kickoff.eml",
        "kickoff.eml#notes.txt",
        "kickoff.eml#spec.pdf",
    ]
    assert {r.source_key for r in first.snapshot.documents} == {f"{PROJECT}/kickoff.eml"}
    assert reasons(first)["kickoff.eml#tools.zip"].startswith("attachment skipped: unsupported file type")
    attachment_v1 = record(first, "kickoff.eml#spec.pdf").current
    assert (
        attachment_v1.size == len(pdf[1]) and attachment_v1.content_hash == hashlib.sha256(pdf[1]).hexdigest()
    )

    unchanged = ingest(inbox, artifacts, first.snapshot)
    assert unchanged.snapshot == first.snapshot  # the skipped attachment is still reported

    put(inbox_root, "kickoff.eml", mail("Second body.\n", [pdf, txt, zip_]))
    second = ingest(inbox, artifacts, first.snapshot)
    assert record(second, "kickoff.eml").current.number == 2
    assert record(second, "kickoff.eml#spec.pdf").versions == [  # unchanged attachment: no new version
        attachment_v1.model_copy(update={"etag": record(second, "kickoff.eml").current.etag})
    ]
    assert second.changes == {"kickoff.eml": "changed"}
    assert "kickoff.eml#tools.zip" in reasons(second)

    new_pdf = ("spec.pdf", pdf_bytes(["The API must be versioned by date."]), "application/pdf")
    put(inbox_root, "kickoff.eml", mail("Second body.\n", [new_pdf]))
    third = ingest(inbox, artifacts, second.snapshot)
    assert third.changes == {
        "kickoff.eml": "changed",
        "kickoff.eml#spec.pdf": "changed",
        "kickoff.eml#notes.txt": "removed",
    }
    spec = record(third, "kickoff.eml#spec.pdf")
    assert "by date" in load_parsed(artifacts, spec.versions[1]).text
    assert "by date" not in load_parsed(artifacts, spec.versions[0]).text
    assert "kickoff.eml#tools.zip" not in reasons(third)

    (inbox_root / PROJECT / "kickoff.eml").unlink()
    fourth = ingest(inbox, artifacts, third.snapshot)
    assert fourth.snapshot.active() == [] and fourth.removed == 2  # the mail and its remaining attachment


# --- parallel parsing ---------------------------------------------------------------------------------


def test_process_pool_survives_a_parser_crash(stores: Stores) -> None:
    inbox_root, inbox, artifacts = stores
    GOOD = 14  # with 2 workers: 8 batches of 2, so the crash also takes a good file's batch down
    for number in range(GOOD):
        put(
            inbox_root,
            f"notes/good-{number:02d}.txt",
            f"Requirement {number}: the system shall work.\n".encode(),
        )
    put(inbox_root, "notes/crash.txt", b"This file kills the parser process.\n")
    put(inbox_root, "notes/boom.txt", b"This file makes the parser raise.\n")
    result = ingest(inbox, artifacts, None, workers=2, parser=crashing_parser)

    assert [r.path for r in result.snapshot.documents] == [f"notes/good-{n:02d}.txt" for n in range(GOOD)]
    for number in range(GOOD):
        assert (
            f"Requirement {number}"
            in load_parsed(artifacts, record(result, f"notes/good-{number:02d}.txt").current).text
        )
    found = reasons(result)
    crash = f"{CRASH_PREFIX} (its process exited with status 3 while reading this file)"
    assert found["notes/crash.txt"] == crash
    assert found["notes/boom.txt"] == f"{CRASH_PREFIX}: RuntimeError: parser exploded"
    assert result.parsed == GOOD + 2

    # a crash is not a verdict on the file: the next run tries it again (here with a fixed parser)
    again = ingest(inbox, artifacts, result.snapshot, workers=2)
    assert reasons(again) == {}
    assert "kills the parser" in load_parsed(artifacts, record(again, "notes/crash.txt").current).text


def test_process_pool_and_in_process_parsing_agree(tmp_path: Path) -> None:
    results = []
    files = sample_files()
    for workers in (1, 2):
        inbox_root = tmp_path / f"w{workers}" / "inbox"
        for key, data in files.items():
            put(inbox_root, key, data)
        inbox = LocalObjectStore(root=str(inbox_root))
        artifacts = LocalObjectStore(root=str(tmp_path / f"w{workers}" / "artifacts"))
        results.append(ingest(inbox, artifacts, None, workers=workers))
    in_process, pooled = results
    assert pooled.snapshot.data_version() == in_process.snapshot.data_version()
    assert [r.current.parsed_key for r in pooled.snapshot.documents] == [
        r.current.parsed_key for r in in_process.snapshot.documents
    ]


# --- the asset -------------------------------------------------------------------------------------


def test_documents_asset_materialises(tmp_path: Path) -> None:
    inbox_root = tmp_path / "inbox"
    put(inbox_root, "spec.md", b"# Spec\n\nUsers must log in.\n")
    put(inbox_root, "kickoff.eml", eml_bytes())
    put(inbox_root, "broken.pdf", b"%PDF-1.7 nope")
    inbox = LocalObjectStore(root=str(inbox_root))
    artifacts = LocalObjectStore(root=str(tmp_path / "artifacts"))
    resources = {
        "inbox": inbox,
        "artifacts": artifacts,
        "io_manager": ArtifactJsonIOManager(store=artifacts),
        "intake": IntakeLimits(max_file_bytes=10_000, workers=1),
    }
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("projects", [PROJECT])

    outcome = dg.materialize([documents], partition_key=PROJECT, resources=resources, instance=instance)
    assert outcome.success
    materialization = outcome.asset_materializations_for_node("documents")[0]
    metadata = materialization.metadata
    assert metadata["documents"].value == 2 and metadata["rejected"].value == 1
    assert metadata["parsed"].value == 3 and metadata["unchanged"].value == 0
    table = metadata["document_table"].value
    assert "| spec.md | markdown | 1 |" in table and "| kickoff.eml | eml | 1 |" in table
    assert (
        "| broken.pdf |" in metadata["rejected_table"].value
        and "corrupt PDF" in metadata["rejected_table"].value
    )

    stored = DocumentsSnapshot.model_validate_json(
        artifacts.get_text(asset_value_key(dg.AssetKey("documents"), PROJECT))
    )
    assert [r.path for r in stored.documents] == ["kickoff.eml", "spec.md"]
    assert materialization.tags["dagster/data_version"] == stored.data_version()

    again = dg.materialize([documents], partition_key=PROJECT, resources=resources, instance=instance)
    second = again.asset_materializations_for_node("documents")[0]
    assert second.metadata["parsed"].value == 0 and second.metadata["unchanged"].value == 2
    assert second.tags["dagster/data_version"] == stored.data_version()

    put(inbox_root, "spec.md", b"# Spec\n\nUsers must log in with SSO.\n")
    third = dg.materialize([documents], partition_key=PROJECT, resources=resources, instance=instance)
    changed = third.asset_materializations_for_node("documents")[0]
    assert changed.metadata["changed"].value == 1
    assert "| spec.md | markdown | 2 |" in changed.metadata["document_table"].value
    assert changed.tags["dagster/data_version"] != stored.data_version()

    # The size limit is the `intake` resource's (built from PIPELINE_MAX_FILE_MB), not a global one.
    put(inbox_root, "big.md", b"# Big\n\n" + b"Users must see a long page. " * 500)
    fourth = dg.materialize([documents], partition_key=PROJECT, resources=resources, instance=instance)
    rejected = fourth.asset_materializations_for_node("documents")[0].metadata["rejected_table"].value
    assert "| big.md |" in rejected


# --- links and special files ---------------------------------------------------------------------


def test_links_and_special_files_are_rejected_with_a_reason_and_nothing_leaks(tmp_path: Path) -> None:
    inbox_root = tmp_path / "inbox"
    put(inbox_root, "spec.md", b"# Spec\n\nUsers must log in.\n")
    secret = tmp_path / "outside" / "credentials.txt"
    secret.parent.mkdir()
    secret.write_text("Users must know the root password hunter2.\n")
    project = inbox_root / PROJECT
    (project / "notes.txt").symlink_to(secret)
    (project / "shared").symlink_to(secret.parent, target_is_directory=True)
    os.mkfifo(project / "live.txt")
    inbox = CountingStore(root=str(inbox_root))
    artifacts = LocalObjectStore(root=str(tmp_path / "artifacts"))

    result = ingest(inbox, artifacts, None, workers=1)

    assert [r.path for r in result.snapshot.documents] == ["spec.md"]
    found = reasons(result)
    assert found["notes.txt"].startswith("a symbolic link: links are never followed")
    assert found["shared"].startswith("a symbolic link")
    assert found["live.txt"].startswith("not a regular file (a FIFO, socket or device)")
    assert inbox._downloads == [f"{PROJECT}/spec.md"]
    stored = b"".join(path.read_bytes() for path in (tmp_path / "artifacts").rglob("*") if path.is_file())
    assert b"hunter2" not in stored and b"hunter2" not in result.snapshot.model_dump_json().encode()

    # The rejection shows in the asset's metadata, the way a person sees it.
    resources = {
        "inbox": inbox,
        "artifacts": artifacts,
        "io_manager": ArtifactJsonIOManager(store=artifacts),
        "intake": IntakeLimits(workers=1),
    }
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("projects", [PROJECT])
    outcome = dg.materialize([documents], partition_key=PROJECT, resources=resources, instance=instance)
    table = outcome.asset_materializations_for_node("documents")[0].metadata["rejected_table"].value
    assert "| notes.txt |" in table and "links are never followed" in table and "| live.txt |" in table


def test_a_file_swapped_for_a_link_after_the_listing_is_refused_not_read(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    (root / PROJECT).mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    (root / PROJECT / "a.txt").symlink_to(secret)
    store = LocalObjectStore(root=str(root))
    with pytest.raises(NotARegularFileError, match="symbolic link"):
        store.get_bytes(f"{PROJECT}/a.txt")
