"""Intake of a project's inbox folder: list, validate, download only what changed, parse in parallel.

Versions are content-addressed: a file whose listing ETag or content hash is unchanged is never parsed
again; every parsed version is stored once at `documents/<project>/parsed/<sha256 of its JSON>.json`
and never overwritten, so earlier versions stay readable after a file changes or disappears.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Literal, cast

from pydantic import BaseModel, Field

from assets.documents.limits import (
    ParseLimits,
    ParseTimeout,
    active_limits,
    archive_rejection,
    exit_reason,
    limit_process,
    memory_reason,
    stopped_by_time_limit,
    time_limit,
    timeout_reason,
)
from assets.documents.models import (
    DocumentKind,
    DocumentRecord,
    DocumentsSnapshot,
    DocumentVersion,
    ParsedDocument,
    RejectedFile,
)
from assets.documents.parsing import (
    ParseOutcome,
    RejectedInput,
    check_size,
    is_supported,
    parse_source,
    preload,
    unsupported_reason,
)
from pipeline_core.partitions import check_project_name
from resources.object_store import (
    NotARegularFileError,
    ObjectInfo,
    ObjectStore,
    UnsafeKeyError,
    check_key,
)

Parser = Callable[[str, bytes, int], ParseOutcome]
ChangeKind = Literal["new", "changed", "removed"]

CRASH_PREFIX = "the parser crashed"
_WAVE_BYTES = 256 * 1024 * 1024  # bytes held in memory at once while downloading and parsing
_WAVE_FILES = 2000
_BATCHES_PER_WORKER = 4  # enough batches to balance uneven files, few enough to keep overhead low
_BATCH_BYTES = 32 * 1024 * 1024
_IO_THREADS = 16
_ISOLATED_GRACE_SECONDS = 10.0  # beyond the time limit, before a silent parser process is killed
# fork shares the parent's already imported parser libraries (import pymupdf alone costs about
# half a second per process); platforms without a safe fork use spawn.
_START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"


class IntakeResult(BaseModel):
    """The new snapshot and what this run did."""

    snapshot: DocumentsSnapshot
    parsed: int = 0  # source files handed to the parser
    unchanged: int = 0  # source files recognised as unchanged (by ETag or content hash)
    new: int = 0  # documents (files and attachments) that got a first version or came back
    changed: int = 0  # documents that got a new content version
    removed: int = 0  # documents that got a tombstone
    rejected: int = 0  # entries in snapshot.rejected
    remembered: int = 0  # files rejected before with the same content and limits: not parsed again
    changes: dict[str, ChangeKind] = Field(default_factory=dict)  # document path -> what happened


def rejections_prefix(project: str) -> str:
    """Where a file's rejection is remembered, by its content hash, the limits and the parser."""
    return f"documents/{project}/rejections/"


def parser_identity(parser: Parser) -> str:
    return f"{getattr(parser, '__module__', '')}.{getattr(parser, '__qualname__', type(parser).__name__)}"


def parsed_key(project: str, json_sha256: str) -> str:
    """Where a parsed document is stored: addressed by the sha256 of its JSON, so written once."""
    return f"documents/{project}/parsed/{json_sha256}.json"


def load_parsed(artifacts: ObjectStore, version: DocumentVersion) -> ParsedDocument:
    """The parsed document of one version (any version, not only the current one)."""
    if version.parsed_key is None:
        raise ValueError(f"version {version.number} is a {version.status}: it has no parsed document")
    return ParsedDocument.model_validate_json(artifacts.get_bytes(version.parsed_key))


def resolve_workers(workers: int) -> int:
    return workers if workers > 0 else (os.cpu_count() or 1)


def listing_rejection(info: ObjectInfo, project_prefix: str, max_bytes: int) -> str | None:
    """Why a listed object is refused before anything is downloaded, or None."""
    try:
        check_key(info.key)
    except UnsafeKeyError as error:
        return f"unsafe key: {error}"
    if info.kind == "symlink":
        return "a symbolic link: links are never followed; put the file itself into the inbox"
    if info.kind == "special":
        return "not a regular file (a FIFO, socket or device): only regular files are read"
    relative = info.key[len(project_prefix) :]
    hidden = [segment for segment in relative.split("/") if segment.startswith(".")]
    if hidden:
        return f"hidden file or folder {hidden[0]!r}: names starting with '.' are not read"
    if not is_supported(relative):
        return unsupported_reason(relative)
    return check_size(info.size, max_bytes)


@dataclass
class _FileResult:
    """What a parser process sends back for one file: documents as JSON, or the rejection reason."""

    path: str
    sha256: str = ""  # of the file's bytes
    documents: list[tuple[str, str, bytes, str]] = field(default_factory=list)  # path, kind, JSON, its sha256
    sources: dict[str, tuple[int, str]] = field(default_factory=dict)  # attachment path -> (size, sha256)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


def _parse_one(parser: Parser, path: str, data: bytes, max_bytes: int, limits: ParseLimits) -> _FileResult:
    """Parse one file within the limits; hashing happens here too, so it runs in the parser processes."""
    try:
        reason = archive_rejection(path, data, limits)
        if reason:
            raise RejectedInput(reason)
        with time_limit(limits), active_limits(limits):
            outcome = parser(path, data, max_bytes)
    except RejectedInput as error:
        return _FileResult(path=path, error=error.reason)
    except ParseTimeout:
        return _FileResult(path=path, error=timeout_reason(limits))
    except MemoryError:
        return _FileResult(path=path, error=memory_reason(limits))
    except Exception as error:  # a parser bug must cost one file, not the run
        message = str(error).strip()[:300]
        return _FileResult(path=path, error=f"{CRASH_PREFIX}: {type(error).__name__}: {message}")
    documents = []
    for document in outcome.documents:
        document_json = document.model_dump_json().encode("utf-8")
        json_sha256 = hashlib.sha256(document_json).hexdigest()
        documents.append((document.path, document.kind, document_json, json_sha256))
    facts = outcome.sources.get(path)
    return _FileResult(
        path=path,
        sha256=facts.sha256 if facts and facts.size == len(data) else hashlib.sha256(data).hexdigest(),
        documents=documents,
        sources={source: (facts.size, facts.sha256) for source, facts in outcome.sources.items()},
        skipped=list(outcome.skipped),
    )


# The parser and limits of this parser process, set once when it starts: with fork they are
# inherited, not pickled, so a parser need not be importable by name.
_WORKER: dict[str, object] = {}


def _start_worker(parser: Parser, limits: ParseLimits) -> None:
    _WORKER["parser"], _WORKER["limits"] = parser, limits
    limit_process(limits)


def _parse_batch(items: list[tuple[str, bytes]], max_bytes: int) -> list[_FileResult]:
    parser = cast(Parser, _WORKER["parser"])
    limits = cast(ParseLimits, _WORKER["limits"])
    return [_parse_one(parser, path, data, max_bytes, limits) for path, data in items]


def _isolated_main(
    connection: Connection, parser: Parser, path: str, data: bytes, max_bytes: int, limits: ParseLimits
) -> None:
    limit_process(limits)
    connection.send(_parse_one(parser, path, data, max_bytes, limits))
    connection.close()


def parse_isolated(
    parser: Parser, path: str, data: bytes, max_bytes: int, limits: ParseLimits
) -> _FileResult:
    """Parse one file in a process of its own, which is killed if it outlives the time limit.

    A process that dies is reported with how it died (a signal: the memory or time limit).
    """
    context = multiprocessing.get_context(_START_METHOD)
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(
        target=_isolated_main, args=(writer, parser, path, data, max_bytes, limits), daemon=True
    )
    process.start()
    writer.close()
    result: _FileResult | None = None
    answered = False
    try:
        answered = reader.poll(limits.timeout_seconds + _ISOLATED_GRACE_SECONDS)
        if answered:
            result = reader.recv()
    except (EOFError, OSError):
        result = None  # it closed the pipe without an answer: it died
    finally:
        reader.close()
    if not answered:
        process.kill()
        process.join()
        return _FileResult(path=path, error=timeout_reason(limits))
    process.join()
    if result is not None:
        return result
    if stopped_by_time_limit(process.exitcode):
        return _FileResult(path=path, error=timeout_reason(limits))
    return _FileResult(path=path, error=f"{CRASH_PREFIX} ({exit_reason(process.exitcode, limits)})")


def _batches(items: list[tuple[str, bytes]], workers: int) -> list[list[tuple[str, bytes]]]:
    """Spread files over a few batches per worker, largest first, so the batches weigh about the same."""
    total = sum(len(data) for _, data in items)
    count = max(workers * _BATCHES_PER_WORKER, -(-total // _BATCH_BYTES))
    count = max(1, min(count, len(items)))
    ordered = sorted(items, key=lambda item: len(item[1]), reverse=True)
    batches: list[list[tuple[str, bytes]]] = [[] for _ in range(count)]
    weights = [0] * count
    for item in ordered:
        lightest = weights.index(min(weights))
        batches[lightest].append(item)
        weights[lightest] += len(item[1]) + 4096
    return [batch for batch in batches if batch]


class _ParserPool:
    """Parser processes, created on first use and recreated after a crash broke them."""

    def __init__(self, workers: int, parser: Parser, limits: ParseLimits) -> None:
        self.workers = workers
        self.parser = parser
        self.limits = limits
        self._executor: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context(_START_METHOD),
                initializer=_start_worker,
                initargs=(self.parser, self.limits),
            )
        return self._executor

    def start(self) -> None:
        """Fork the processes now, before this process starts any I/O threads of its own."""
        self.executor().submit(os.getpid)

    def reset(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def parse(self, items: list[tuple[str, bytes]], max_bytes: int) -> Iterator[list[_FileResult]]:
        """Yield results batch by batch as they finish; files of a broken batch are retried alone."""
        executor = self.executor()
        futures: dict[Future[list[_FileResult]], list[tuple[str, bytes]]] = {
            executor.submit(_parse_batch, batch, max_bytes): batch for batch in _batches(items, self.workers)
        }
        suspects: list[tuple[str, bytes]] = []
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception:
                suspects.extend(futures[future])
        if not suspects:
            return
        # A process died (or the batch failed outside the parser): one file at a time in a process
        # of its own, so the file that kills it is found, with how, and every other file still parsed.
        self.reset()
        for path, data in suspects:
            yield [parse_isolated(self.parser, path, data, max_bytes, self.limits)]


@dataclass
class _Candidate:
    relative: str
    info: ObjectInfo
    data: bytes = b""
    sha256: str = ""


class _Intake:
    def __init__(
        self,
        project: str,
        inbox: ObjectStore,
        artifacts: ObjectStore,
        previous: DocumentsSnapshot | None,
        max_bytes: int,
        workers: int,
        now: str,
        parser: Parser,
        limits: ParseLimits,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.progress = progress
        self.total = 0
        self.project = check_project_name(project)
        self.prefix = f"{project}/"
        self.inbox = inbox
        self.artifacts = artifacts
        self.max_bytes = max_bytes
        self.workers = resolve_workers(workers)
        self.now = now
        self.parser = parser
        self.limits = limits
        # A rejection is remembered under the content hash, the limits and the parser: other limits
        # or another parser may give another verdict.
        self.memo_suffix = hashlib.blake2b(
            f"{limits.fingerprint()}:{parser_identity(parser)}".encode(), digest_size=8
        ).hexdigest()
        self.remembered: set[str] = set()
        before = previous.model_copy(deep=True) if previous else DocumentsSnapshot(project=project)
        if before.project != project:
            raise ValueError(f"previous snapshot belongs to project {before.project!r}, not {project!r}")
        self.records: dict[str, DocumentRecord] = {record.path: record for record in before.documents}
        self.by_source: dict[str, list[DocumentRecord]] = {}  # inbox key -> the file's and its attachments'
        for record in before.documents:
            self.by_source.setdefault(record.source_key, []).append(record)
        self.previous_rejected = {entry.path: entry for entry in before.rejected}
        self.skipped_attachments: dict[str, list[RejectedFile]] = {}  # e-mail path -> its skipped attachments
        for entry in before.rejected:
            if "#" in entry.path:
                self.skipped_attachments.setdefault(entry.path.split("#", 1)[0], []).append(entry)
        self.rejected: list[RejectedFile] = []
        self.present: set[str] = set()  # relative paths of listed source files, accepted or not
        self.result = IntakeResult(snapshot=DocumentsSnapshot(project=project))
        self.io = ThreadPoolExecutor(max_workers=_IO_THREADS, thread_name_prefix="intake-io")
        self.pool = _ParserPool(self.workers, parser, limits)

    def run(self) -> IntakeResult:
        try:
            candidates = self._scan()
            if candidates:
                prefix = rejections_prefix(self.project)
                self.remembered = {info.key for info in self.artifacts.iter_objects(prefix=prefix)}
            if len(candidates) > 1:
                preload(candidate.relative for candidate in candidates)  # imported once, shared by the forks
                self.pool.start()
            self.total = len(candidates) + self.result.unchanged  # listed files; some known by ETag
            for wave in _waves(candidates):
                self._process(wave)
                self._report()
            self._report()
        finally:
            self.pool.reset()
            self.io.shutdown(wait=True)
        self._tombstone_missing()
        snapshot = self.result.snapshot
        snapshot.documents = sorted(self.records.values(), key=lambda record: record.path)
        snapshot.rejected = sorted(self.rejected, key=lambda entry: entry.path)
        self.result.rejected = len(snapshot.rejected)
        return self.result

    # -- listing -----------------------------------------------------------------------------------

    def _scan(self) -> list[_Candidate]:
        candidates = []
        for info in self.inbox.iter_objects(prefix=self.prefix):
            relative = info.key[len(self.prefix) :]
            if not relative or info.key.endswith("/"):
                continue  # a folder marker, not a file
            self.present.add(relative)
            reason = listing_rejection(info, self.prefix, self.max_bytes)
            if reason:
                self.rejected.append(
                    RejectedFile(path=relative, reason=reason, size=info.size, etag=info.etag)
                )
                continue
            record = self.records.get(relative)
            if record is not None and record.is_active and record.current.etag == info.etag:
                self._unchanged(relative, info)
                continue
            earlier = self.previous_rejected.get(relative)
            if earlier is not None and earlier.etag == info.etag and not _depends_on_limits(earlier.reason):
                self.rejected.append(earlier)  # same bytes as last time: the same reason, no re-parse
                continue
            candidates.append(_Candidate(relative, info))
        return candidates

    def _report(self) -> None:
        if self.progress is not None:
            result = self.result
            self.progress(min(result.parsed + result.unchanged + result.remembered, self.total), self.total)

    def _unchanged(self, relative: str, info: ObjectInfo) -> None:
        self.result.unchanged += 1
        for entry in self.skipped_attachments.get(relative, []):  # still true of the unchanged e-mail
            self.rejected.append(entry.model_copy(update={"etag": info.etag}))

    # -- download, hash, parse, store --------------------------------------------------------------

    def _process(self, wave: list[_Candidate]) -> None:
        downloaded = list(self.io.map(self._download, wave))
        to_parse: list[_Candidate] = []
        pending_reads: list[Future[None]] = []
        for candidate in downloaded:
            if candidate is None:
                continue
            record = self.records.get(candidate.relative)
            if record and record.is_active and record.current.content_hash == candidate.sha256:
                record.current.etag = candidate.info.etag  # touched, not changed: remember the new ETag
                self._unchanged(candidate.relative, candidate.info)
                continue
            if self._memo_key(candidate) in self.remembered:
                pending_reads.append(self.io.submit(self._recall, candidate))
                continue
            to_parse.append(candidate)
        for future in pending_reads:
            future.result()
        if not to_parse:
            return
        by_path = {candidate.relative: candidate for candidate in to_parse}
        items = [(candidate.relative, candidate.data) for candidate in to_parse]
        for candidate in to_parse:
            candidate.data = b""  # the items list holds the only reference from here on
        pending: list[Future[None]] = []
        for batch_results in self._parse(items):
            for file_result in batch_results:
                self.result.parsed += 1
                self._report()
                pending.extend(self._apply(by_path[file_result.path], file_result))
        for future in pending:
            future.result()

    def _download(self, candidate: _Candidate) -> _Candidate | None:
        try:
            data = self.inbox.get_bytes(candidate.info.key)
        except FileNotFoundError:
            self.present.discard(candidate.relative)  # deleted since the listing: treat as removed
            return None
        except NotARegularFileError as error:  # replaced by a link or a special file since the listing
            self.rejected.append(
                RejectedFile(path=candidate.relative, reason=str(error), size=0, etag=candidate.info.etag)
            )
            return None
        candidate.data = data
        # Before parsing: an unchanged known file, or a file rejected before, is recognised by it.
        candidate.sha256 = hashlib.sha256(data).hexdigest()
        return candidate

    def _memo_key(self, candidate: _Candidate) -> str:
        return f"{rejections_prefix(self.project)}{candidate.sha256}-{self.memo_suffix}.json"

    def _recall(self, candidate: _Candidate) -> None:
        """Reject a file with the reason remembered for its content: it is not parsed again."""
        memo = json.loads(self.artifacts.get_text(self._memo_key(candidate)))
        info = candidate.info
        candidate.data = b""
        self.rejected.append(
            RejectedFile(path=candidate.relative, reason=memo["reason"], size=info.size, etag=info.etag)
        )
        self.result.remembered += 1

    def _remember(self, candidate: _Candidate, reason: str) -> None:
        memo = {"reason": reason, "path": candidate.relative, "recorded_at": self.now}
        self.artifacts.put_text(self._memo_key(candidate), json.dumps(memo))

    def _parse(self, items: list[tuple[str, bytes]]) -> Iterator[list[_FileResult]]:
        """Every file is parsed in a parser process under the limits, never in this one."""
        if len(items) == 1:
            [(path, data)] = items
            yield [parse_isolated(self.parser, path, data, self.max_bytes, self.limits)]
            return
        yield from self.pool.parse(items, self.max_bytes)

    def _apply(self, candidate: _Candidate, file_result: _FileResult) -> list[Future[None]]:
        relative, info = candidate.relative, candidate.info
        if file_result.error is not None:
            # Earlier versions of this document stay as they are; the new bytes are only reported.
            self.rejected.append(
                RejectedFile(path=relative, reason=file_result.error, size=info.size, etag=info.etag)
            )
            return [self.io.submit(self._remember, candidate, file_result.error)]
        for path, reason in file_result.skipped:
            self.rejected.append(RejectedFile(path=path, reason=reason, size=0, etag=info.etag))
        writes = []
        produced: set[str] = set()
        for path, kind, document_json, json_sha256 in file_result.documents:
            produced.add(path)
            key = parsed_key(self.project, json_sha256)
            writes.append(self.io.submit(self._store_once, key, document_json))
            if path == relative:
                size, sha256 = info.size, file_result.sha256
            else:  # an attachment; a parser that does not report its bytes gets its JSON's hash
                size, sha256 = file_result.sources.get(path, (len(document_json), json_sha256))
            self._add_version(path, cast(DocumentKind, kind), info, sha256, size, key)
        for record in self.by_source.get(info.key, []):
            if record.path not in produced and record.is_active:
                self._tombstone(record)  # an attachment the new version of the e-mail no longer has
        return writes

    def _store_once(self, key: str, data: bytes) -> None:
        if not self.artifacts.exists(key):
            self.artifacts.put_bytes(key, data, content_type="application/json")

    def _add_version(
        self, path: str, kind: DocumentKind, info: ObjectInfo, sha256: str, size: int, key: str
    ) -> None:
        record = self.records.get(path)
        if record is not None and record.is_active and record.current.content_hash == sha256:
            record.current.etag = info.etag  # an unchanged attachment of a changed e-mail
            return
        version = DocumentVersion(
            number=record.current.number + 1 if record else 1,
            status="active",
            content_hash=sha256,
            etag=info.etag,
            size=size,
            parsed_key=key,
            recorded_at=self.now,
        )
        if record is None:
            record = DocumentRecord(path=path, kind=kind, source_key=info.key, versions=[version])
            self.records[path] = record
            self.by_source.setdefault(info.key, []).append(record)
            self._count(path, "new")
        else:
            self._count(path, "changed" if record.is_active else "new")
            record.kind = kind
            record.versions.append(version)

    def _tombstone(self, record: DocumentRecord) -> None:
        record.versions.append(
            DocumentVersion(number=record.current.number + 1, status="tombstone", recorded_at=self.now)
        )
        self._count(record.path, "removed")

    def _count(self, path: str, change: ChangeKind) -> None:
        self.result.changes[path] = change
        setattr(self.result, change, getattr(self.result, change) + 1)

    def _tombstone_missing(self) -> None:
        for record in self.records.values():
            if record.is_active and record.source_key[len(self.prefix) :] not in self.present:
                self._tombstone(record)


def _depends_on_limits(reason: str) -> bool:
    """A reason that other parse limits or a fixed parser may change (those are remembered by hash)."""
    return reason.startswith(CRASH_PREFIX) or "PIPELINE_PARSE_" in reason


def _waves(candidates: Sequence[_Candidate]) -> Iterator[list[_Candidate]]:
    """Groups of files small enough to hold in memory together (by the listed sizes)."""
    wave: list[_Candidate] = []
    held = 0
    for candidate in candidates:
        if wave and (held + candidate.info.size > _WAVE_BYTES or len(wave) >= _WAVE_FILES):
            yield wave
            wave, held = [], 0
        wave.append(candidate)
        held += candidate.info.size
    if wave:
        yield wave


def ingest_project(
    project: str,
    inbox: ObjectStore,
    artifacts: ObjectStore,
    previous: DocumentsSnapshot | None,
    max_bytes: int,
    workers: int,
    now: str,
    parser: Parser = parse_source,
    limits: ParseLimits | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IntakeResult:
    """Bring the project's documents up to date with `<project>/` in the inbox.

    `workers` parser processes (0: one per core), each under `limits` (memory, time per file,
    archive expansion); `progress(done, total)` is called as files are handled. A file rejected
    before is recognised by its content hash and not parsed
    again while the limits and the parser are the same. Where processes are forked (Linux) the
    parser may be any callable; elsewhere it must be a module-level function.
    """
    limits = limits or ParseLimits()
    intake = _Intake(project, inbox, artifacts, previous, max_bytes, workers, now, parser, limits, progress)
    return intake.run()
