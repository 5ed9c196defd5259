"""Bounds on parsing one input file: how far an archive may expand, and a parser's memory and time.

Checked before a parser runs (`archive_rejection`: a zip-based file's members are counted and
inflated into nothing, without trusting their declared sizes) and around it in the parser process
(`limit_process` caps its address space with RLIMIT_AS; `time_limit` stops one file after the
timeout). A file a parser finds inside another (an e-mail's attachment, at any depth) gets the same
archive check before its own parser opens it (`nested_archive_rejection`, under the limits the
intake made active with `active_limits`). Every reason says what was exceeded and by how much, in
words a person can act on.
"""

from __future__ import annotations

import hashlib
import io
import os
import resource
import signal
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import PurePosixPath
from types import FrameType

from pydantic import BaseModel, Field

from assets.documents.parsing import human_size

MB = 1024 * 1024
# Office Open XML, OpenDocument, EPUB and plain zip: every format that is a zip archive inside.
ZIP_BASED_SUFFIXES = frozenset(
    {".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".pptx", ".odt", ".ods", ".odp", ".epub", ".zip"}
)
_ZIP_MAGIC = b"PK\x03\x04"
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # the fixed 30 bytes of a zip local file header
_CHUNK = 64 * 1024


class ParseLimits(BaseModel):
    """What one file may cost its parser (set from PIPELINE_PARSE_* settings)."""

    max_expanded_bytes: int = Field(default=200 * MB, gt=0)  # an archive's members, inflated
    max_archive_members: int = Field(default=10_000, gt=0)
    memory_bytes: int = Field(default=2048 * MB, gt=0)  # address space a parser process may add
    timeout_seconds: float = Field(default=60.0, gt=0)
    # CPU seconds beyond the timeout before a parser stuck in native code is killed outright.
    hard_stop_grace_seconds: float = Field(default=5.0, gt=0)

    def fingerprint(self) -> str:
        """Part of the key a rejection is remembered by: other limits may give another verdict."""
        return hashlib.blake2b(self.model_dump_json().encode(), digest_size=8).hexdigest()


class ParseTimeout(Exception):
    """Raised inside the parser process when one file has taken longer than the time limit."""


def timeout_reason(limits: ParseLimits) -> str:
    return (
        f"took longer than {limits.timeout_seconds:g} s to parse, over the time limit "
        "(PIPELINE_PARSE_TIMEOUT_SECONDS)"
    )


def memory_reason(limits: ParseLimits) -> str:
    return (
        f"needed more than the {human_size(limits.memory_bytes)} memory limit to parse "
        "(PIPELINE_PARSE_MEMORY_MB)"
    )


def stopped_by_time_limit(exitcode: int | None) -> bool:
    return exitcode is not None and -exitcode in (signal.SIGPROF, signal.SIGXCPU)


def exit_reason(exitcode: int | None, limits: ParseLimits) -> str:
    """Why a parser process that died on a file died, from its exit code (negative: a signal)."""
    if exitcode is None:
        return "its process did not finish"
    if exitcode >= 0:
        return f"its process exited with status {exitcode} while reading this file"
    number = -exitcode
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    if number == signal.SIGKILL:
        why = "likely over the memory limit (killed by the kernel's out-of-memory killer)"
    elif number == signal.SIGSEGV:
        why = "a fault in a native parsing library"
    else:
        why = name
    return f"killed by signal {number}, {why}"


def _is_zip_based(name: str, data: bytes) -> bool:
    return data[:4] == _ZIP_MAGIC or PurePosixPath(name).suffix.lower() in ZIP_BASED_SUFFIXES


def _inflated_size(archive: zipfile.ZipFile, data: bytes, member: zipfile.ZipInfo, budget: int) -> int:
    """How many bytes the member really inflates to, counting at most `budget` + 1 of them.

    Deflated and stored members are read from their raw bytes, ignoring the sizes the archive
    declares (a reader that trusts them can be told a gigabyte is a kilobyte); other methods go
    through zipfile, which stops at the declared size.
    """
    if member.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        offset = member.header_offset
        fields = _LOCAL_HEADER.unpack_from(data, offset)
        if fields[0] != _ZIP_MAGIC:
            raise zipfile.BadZipFile(f"member {member.filename!r} has no local header")
        start = offset + _LOCAL_HEADER.size + fields[9] + fields[10]
        raw = memoryview(data)[start : start + member.compress_size]
        if member.compress_type == zipfile.ZIP_STORED:
            return len(raw)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        total = 0
        for position in range(0, len(raw), _CHUNK):
            pending = raw[position : position + _CHUNK].tobytes()
            while pending and total <= budget:
                total += len(inflater.decompress(pending, _CHUNK * 16))
                pending = inflater.unconsumed_tail
            if total > budget or inflater.eof:
                break
        return total
    total = 0
    with archive.open(member) as handle:
        while total <= budget and (chunk := handle.read(_CHUNK * 16)):
            total += len(chunk)
    return total


def archive_rejection(name: str, data: bytes, limits: ParseLimits) -> str | None:
    """Why a zip-based file is refused before it is opened (too many members, expands too far), or None.

    A file that is not a readable archive is left to its parser, which says it is corrupt.
    """
    if not _is_zip_based(name, data):
        return None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    limit = limits.max_expanded_bytes
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_archive_members:
            return f"archive has {len(members):,} members, over the {limits.max_archive_members:,} limit"
        declared = sum(member.file_size for member in members)
        if declared > limit:
            return (
                f"expands to {human_size(declared)}, over the {human_size(limit)} limit "
                "(PIPELINE_PARSE_MAX_EXPANDED_MB)"
            )
        actual = 0
        try:
            for member in members:
                actual += _inflated_size(archive, data, member, limit - actual)
                if actual > limit:
                    return (
                        f"expands to more than {human_size(limit)} (it declares {human_size(declared)}), "
                        f"over the {human_size(limit)} limit (PIPELINE_PARSE_MAX_EXPANDED_MB)"
                    )
        except (zipfile.BadZipFile, zlib.error, struct.error, NotImplementedError, RuntimeError) as error:
            return f"corrupt or unreadable archive: {str(error)[:200]}"
    return None


_ACTIVE_LIMITS: ContextVar[ParseLimits | None] = ContextVar("parse_limits", default=None)


@contextmanager
def active_limits(limits: ParseLimits) -> Iterator[None]:
    """The limits `nested_archive_rejection` applies while one file is parsed."""
    token = _ACTIVE_LIMITS.set(limits)
    try:
        yield
    finally:
        _ACTIVE_LIMITS.reset(token)


def nested_archive_rejection(name: str, data: bytes) -> str | None:
    """`archive_rejection` for a file found inside another (an attachment), under the active limits
    (the defaults when a parser is called outside the intake)."""
    return archive_rejection(name, data, _ACTIVE_LIMITS.get() or ParseLimits())


def _address_space() -> int:
    """This process's current virtual size in bytes (what RLIMIT_AS counts)."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def limit_process(limits: ParseLimits) -> None:
    """Cap this (parser) process's address space at its current size plus the memory limit.

    Relative to the current size because a forked parser starts with its parent's mappings (the
    Dagster step process, its libraries and thread stacks), which it does not touch.
    """
    try:
        base = _address_space()
    except (OSError, ValueError):
        base = 0
    cap = base + limits.memory_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _raise_timeout(signum: int, frame: FrameType | None) -> None:
    raise ParseTimeout()


@contextmanager
def time_limit(limits: ParseLimits) -> Iterator[None]:
    """Raise ParseTimeout in this (parser) process's main thread after the timeout.

    A parser stuck inside native code does not return to Python to see the alarm, so a CPU timer
    a little later kills the process outright (SIGPROF's default action); the parent then
    reports the time limit from the exit signal.
    """
    previous_alarm = signal.signal(signal.SIGALRM, _raise_timeout)
    previous_prof = signal.signal(signal.SIGPROF, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, limits.timeout_seconds)
    signal.setitimer(signal.ITIMER_PROF, limits.timeout_seconds + limits.hard_stop_grace_seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGALRM, previous_alarm)
        signal.signal(signal.SIGPROF, previous_prof)
