"""Hostile input to the documents stage: zip bombs, a parser that eats memory, hangs or is killed.

Each file costs its parser process a bounded amount of memory and time, is rejected with a reason
that says which limit it crossed, and is never parsed again while its content and the limits stay.
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import time
from pathlib import Path

import pytest

from assets.documents.intake import CRASH_PREFIX, IntakeResult, ingest_project
from assets.documents.limits import ParseLimits, active_limits, archive_rejection
from assets.documents.models import DocumentsSnapshot
from assets.documents.parsing import ParseOutcome, parse_source, registry, word
from pipeline_core.settings import Settings
from resources.object_store import LocalObjectStore
from tests.support.bombs import docx_bomb
from tests.support.corpus import docx_bytes, eml_bytes
from tests.test_intake import CallLog, put, reasons

PROJECT = "acme"
LIMIT = 50 * 1024 * 1024
MIB = 1024 * 1024
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TOO_SLOW = "took longer than 1 s to parse, over the time limit (PIPELINE_PARSE_TIMEOUT_SECONDS)"


def ingest(
    tmp_path: Path,
    previous: DocumentsSnapshot | None,
    parser: object = parse_source,
    workers: int = 1,
    limits: ParseLimits | None = None,
) -> IntakeResult:
    inbox = LocalObjectStore(root=str(tmp_path / "inbox"))
    artifacts = LocalObjectStore(root=str(tmp_path / "artifacts"))
    return ingest_project(
        PROJECT,
        inbox,
        artifacts,
        previous,
        LIMIT,
        workers,
        "2024-01-01T00:00:00+00:00",
        parser,
        limits,  # type: ignore[arg-type]
    )


def peak_child_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def test_the_defaults_are_the_documented_ones() -> None:
    settings = Settings()
    assert settings.pipeline_parse_timeout_seconds == 60
    assert settings.pipeline_parse_max_expanded_mb == 200
    assert settings.pipeline_parse_memory_mb == 2048
    assert ParseLimits().max_expanded_bytes == 200 * MIB and ParseLimits().timeout_seconds == 60


def test_a_zip_bomb_docx_is_refused_before_it_is_opened_and_parsed_once(tmp_path: Path) -> None:
    bomb = docx_bomb(2150)  # 2.1 GB of document.xml in about 2 MB
    assert len(bomb) < 3 * MIB
    put(tmp_path / "inbox", "spec/huge.docx", bomb)
    put(
        tmp_path / "inbox",
        "spec/brief.docx",
        docx_bytes([("paragraph", "The portal shall export invoices.")]),
    )
    calls = CallLog()

    def counting(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
        calls.record(path)
        return parse_source(path, data, max_bytes)

    started = time.monotonic()
    first = ingest(tmp_path, None, parser=counting, workers=2)
    elapsed = time.monotonic() - started

    assert reasons(first) == {
        "spec/huge.docx": "expands to 2.1 GB, over the 200.0 MB limit (PIPELINE_PARSE_MAX_EXPANDED_MB)"
    }
    assert [record.path for record in first.snapshot.active()] == ["spec/brief.docx"]
    assert calls.list() == ["spec/brief.docx"], "the bomb never reaches its parser"
    # python-docx would have inflated all 2.1 GB; no parser process came near that.
    assert peak_child_rss_bytes() < 1024 * MIB
    assert elapsed < 20

    calls.clear()
    second = ingest(tmp_path, first.snapshot, parser=counting, workers=2)
    assert reasons(second) == reasons(first) and second.remembered == 1 and second.parsed == 0
    assert calls.list() == []


def test_the_bomb_is_a_real_docx_that_a_parser_reads_whole() -> None:
    """Small, the same construction is an ordinary DOCX: python-docx opens it and reads every byte."""
    small = docx_bomb(4)
    assert archive_rejection("spec/small.docx", small, ParseLimits()) is None
    [document] = parse_source("spec/small.docx", small, LIMIT).documents
    assert document.text == "Users must log in."


def test_an_archive_that_lies_about_its_size_is_measured_by_inflating_it(tmp_path: Path) -> None:
    limits = ParseLimits(max_expanded_bytes=8 * MIB)
    liar = docx_bomb(40, declared_bytes=1000)  # its headers claim 1,000 bytes; it inflates to 40 MiB
    reason = archive_rejection("spec/liar.docx", liar, limits)
    assert reason is not None
    assert reason.startswith("expands to more than 8.0 MB (it declares 1.7 KB), over the 8.0 MB limit")
    assert archive_rejection("spec/ok.docx", docx_bomb(4, declared_bytes=1000), limits) is None
    # Any zip-based format, recognised by its content as well as by its name.
    assert archive_rejection("slides.pptx", liar, limits) == reason.replace("liar.docx", "slides.pptx")
    assert archive_rejection("renamed.bin", liar, limits) is not None
    assert archive_rejection("notes.txt", b"PK plain text", limits) is None


def test_an_archive_with_too_many_members_is_refused() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(30):
            archive.writestr(f"word/part{index}.xml", "<x/>")
    reason = archive_rejection("many.docx", buffer.getvalue(), ParseLimits(max_archive_members=20))
    assert reason == "archive has 30 members, over the 20 limit"


def hog_memory(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    """A parser that needs far more memory than it may have (as python-docx on a bomb would)."""
    hoard = bytearray(8 * 1024 * MIB)
    return ParseOutcome(documents=[], skipped=[(path, str(len(hoard)))])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_parser_over_the_memory_limit_costs_one_file_not_the_host(tmp_path: Path, workers: int) -> None:
    put(tmp_path / "inbox", "notes/hungry.txt", b"Users must log in.\n")
    put(tmp_path / "inbox", "notes/second.txt", b"Users must log out.\n")
    limits = ParseLimits(memory_bytes=256 * MIB)
    before = resource.getrlimit(resource.RLIMIT_AS)

    result = ingest(tmp_path, None, parser=hog_memory, workers=workers, limits=limits)

    expected = "needed more than the 256.0 MB memory limit to parse (PIPELINE_PARSE_MEMORY_MB)"
    assert reasons(result) == {"notes/hungry.txt": expected, "notes/second.txt": expected}
    assert resource.getrlimit(resource.RLIMIT_AS) == before, "the limit is the parser processes', not ours"
    assert peak_child_rss_bytes() < 1024 * MIB


def kill_self(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    """What the kernel's out-of-memory killer does to a parser process."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def test_a_parser_killed_by_the_kernel_is_reported_and_remembered(tmp_path: Path) -> None:
    put(tmp_path / "inbox", "spec.txt", b"Users must log in.\n")
    first = ingest(tmp_path, None, parser=kill_self)
    assert reasons(first) == {
        "spec.txt": f"{CRASH_PREFIX} (killed by signal 9, likely over the memory limit "
        "(killed by the kernel's out-of-memory killer))"
    }
    calls = CallLog()

    def counting(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
        calls.record(path)
        return kill_self(path, data, max_bytes)

    # Same parser, same content: the crash is remembered by content hash, nothing is parsed again.
    second = ingest(tmp_path, first.snapshot, parser=kill_self)
    assert second.remembered == 1 and second.parsed == 0 and reasons(second) == reasons(first)
    # A different parser (a fixed one) or other limits are a new verdict: the file is tried again.
    third = ingest(tmp_path, second.snapshot, parser=counting)
    assert calls.list() == ["spec.txt"] and third.parsed == 1
    fixed = ingest(tmp_path, second.snapshot)
    assert reasons(fixed) == {} and [r.path for r in fixed.snapshot.active()] == ["spec.txt"]


def sleepy(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    time.sleep(30)
    return parse_source(path, data, max_bytes)


def stuck_in_native_code(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    """A long computation in C that never returns to Python to see the alarm (minutes of CPU)."""
    hashlib.pbkdf2_hmac("sha256", data, b"salt", 10**9)
    return parse_source(path, data, max_bytes)


@pytest.mark.parametrize("parser", [sleepy, stuck_in_native_code], ids=["sleeps", "native"])
def test_a_parser_that_takes_too_long_is_stopped_with_the_time_limit(tmp_path: Path, parser: object) -> None:
    put(tmp_path / "inbox", "slow.txt", b"Users must log in.\n")
    limits = ParseLimits(timeout_seconds=1, hard_stop_grace_seconds=0.5)
    started = time.monotonic()
    first = ingest(tmp_path, None, parser=parser, limits=limits)
    assert time.monotonic() - started < 20
    assert reasons(first) == {"slow.txt": TOO_SLOW}
    started = time.monotonic()
    second = ingest(tmp_path, first.snapshot, parser=parser, limits=limits)
    assert second.remembered == 1 and second.parsed == 0 and time.monotonic() - started < 1


def test_a_slow_file_in_a_pool_costs_only_itself(tmp_path: Path) -> None:
    for index in range(4):
        put(tmp_path / "inbox", f"notes/n{index}.txt", f"Users must do thing {index}.\n".encode())
    put(tmp_path / "inbox", "notes/slow.txt", b"Users must wait.\n")

    result = ingest(tmp_path, None, parser=slow_for_one, workers=2, limits=ParseLimits(timeout_seconds=1))
    assert reasons(result) == {"notes/slow.txt": TOO_SLOW}
    assert len(result.snapshot.active()) == 4


def slow_for_one(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    if path.endswith("slow.txt"):
        time.sleep(30)
    return parse_source(path, data, max_bytes)


def test_a_bomb_attached_to_an_email_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    """An attachment gets the archive check of a top-level file before its parser opens it."""
    mail = eml_bytes(
        body="See the attached spec. Users must log in.",
        attachments=[
            ("spec.docx", docx_bomb(600), DOCX_TYPE),
            ("liar.docx", docx_bomb(300, declared_bytes=1000), DOCX_TYPE),
            ("notes.docx", docx_bytes([("paragraph", "Admins must export reports.")]), DOCX_TYPE),
        ],
    )
    put(tmp_path / "inbox", "mail.eml", mail)
    opened = CallLog()  # the DOCX parser runs in the parser process
    original = word.parse_docx

    def counting_docx(path: str, name: str, data: bytes, max_bytes: int, depth: int) -> ParseOutcome:
        opened.record(name)
        return original(path, name, data, max_bytes, depth)

    registry.PARSERS[".docx"] = counting_docx
    try:
        result = ingest(tmp_path, None)  # default limits: 200 MB expanded; 2 GB of memory
    finally:
        registry.PARSERS[".docx"] = original
    assert opened.list() == ["notes.docx"], "neither bomb reaches the DOCX parser"
    assert [record.path for record in result.snapshot.active()] == ["mail.eml", "mail.eml#notes.docx"]
    assert reasons(result) == {
        "mail.eml#spec.docx": "attachment skipped: expands to 600.0 MB, over the 200.0 MB limit "
        "(PIPELINE_PARSE_MAX_EXPANDED_MB)",
        "mail.eml#liar.docx": "attachment skipped: expands to more than 200.0 MB (it declares 1.7 KB), "
        "over the 200.0 MB limit (PIPELINE_PARSE_MAX_EXPANDED_MB)",
    }
    assert peak_child_rss_bytes() < 1024 * MIB


def test_an_attachment_is_checked_under_the_intake_limits_and_outside_the_intake_too() -> None:
    mail = eml_bytes(
        body="The spec is attached.",
        attachments=[("spec.docx", docx_bomb(40), DOCX_TYPE)],
    )
    within_defaults = dict(parse_source("mail.eml", mail, LIMIT).skipped)  # 40 MB: under the 200 MB
    assert "expands to" not in within_defaults.get("mail.eml#spec.docx", "")
    with active_limits(ParseLimits(max_expanded_bytes=10 * MIB)):
        [(path, reason)] = parse_source("mail.eml", mail, LIMIT).skipped
    assert path == "mail.eml#spec.docx"
    assert reason == (
        "attachment skipped: expands to 40.0 MB, over the 10.0 MB limit (PIPELINE_PARSE_MAX_EXPANDED_MB)"
    )
    nested = eml_bytes(body="Forwarded.", attachments=[("inner.eml", mail, "message/rfc822")])
    with active_limits(ParseLimits(max_expanded_bytes=10 * MIB)):
        skipped = dict(parse_source("outer.eml", nested, LIMIT).skipped)
    assert "expands to 40.0 MB" in skipped.get("outer.eml#inner.eml#spec.docx", ""), skipped
