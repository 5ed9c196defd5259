"""The `documents` asset: a project's inbox folder, parsed and versioned (logic in intake.py)."""

from datetime import UTC, datetime

import dagster as dg

from assets.documents.intake import IntakeResult, ingest_project
from assets.documents.limits import ParseLimits
from assets.documents.models import DocumentsSnapshot
from assets.documents.parsing import human_size
from pipeline_core.partitions import projects_partitions
from pipeline_core.progress import Progress
from resources.io_manager import read_previous_value
from resources.object_store import ObjectStore

CODE_VERSION = "documents-v1"
_MAX_TABLE_ROWS = 500


def load_previous_snapshot(artifacts: ObjectStore, project: str) -> DocumentsSnapshot | None:
    """The last stored value of `documents` for this project, or None on the first run.

    Strict: starting from nothing would silently renumber every version, so an unreadable snapshot
    stops the stage and says where it is.
    """
    return read_previous_value(artifacts, "documents", project, DocumentsSnapshot, strict=True)


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def documents_table(result: IntakeResult) -> str:
    snapshot = result.snapshot
    rejected_now = {entry.path for entry in snapshot.rejected}
    lines = ["| name | type | version | size | status |", "|---|---|---|---|---|"]
    for record in snapshot.documents[:_MAX_TABLE_ROWS]:
        current = record.current
        status = result.changes.get(record.path) or ("unchanged" if record.is_active else "removed")
        if record.path in rejected_now and record.is_active:
            status += "; new upload rejected, earlier version kept"
        size = human_size(current.size) if record.is_active else "–"
        lines.append(f"| {_cell(record.path)} | {record.kind} | {current.number} | {size} | {status} |")
    if len(snapshot.documents) > _MAX_TABLE_ROWS:
        lines.append(f"\n… and {len(snapshot.documents) - _MAX_TABLE_ROWS} more documents")
    return "\n".join(lines)


def rejected_table(snapshot: DocumentsSnapshot) -> str:
    if not snapshot.rejected:
        return "No rejected files."
    lines = ["| file | size | reason |", "|---|---|---|"]
    for entry in snapshot.rejected[:_MAX_TABLE_ROWS]:
        lines.append(f"| {_cell(entry.path)} | {human_size(entry.size)} | {_cell(entry.reason)} |")
    if len(snapshot.rejected) > _MAX_TABLE_ROWS:
        lines.append(f"\n… and {len(snapshot.rejected) - _MAX_TABLE_ROWS} more rejected files")
    return "\n".join(lines)


class IntakeLimits(dg.ConfigurableResource):
    """How much the documents stage accepts, how many parser processes it uses and what each may cost."""

    max_file_bytes: int = 50 * 1024 * 1024
    workers: int = 0  # 0: one per core
    max_expanded_bytes: int = 200 * 1024 * 1024
    memory_bytes: int = 2048 * 1024 * 1024
    timeout_seconds: float = 60.0

    def parse_limits(self) -> ParseLimits:
        return ParseLimits(
            max_expanded_bytes=self.max_expanded_bytes,
            memory_bytes=self.memory_bytes,
            timeout_seconds=self.timeout_seconds,
        )


@dg.asset(
    partitions_def=projects_partitions,
    code_version=CODE_VERSION,
    group_name="intake",
    kinds={"python"},
)
def documents(
    context: dg.AssetExecutionContext, inbox: ObjectStore, artifacts: ObjectStore, intake: IntakeLimits
) -> dg.Output[DocumentsSnapshot]:
    """Every source file of the project (`<inbox>/<project>/...`) parsed to structured text: pages,
    speakers, timestamps, e-mail headers, chat authors. Each document keeps its version history by
    content hash (removed files get a tombstone); rejected files are listed with their reason.
    Unchanged files are never parsed again, nor is a file rejected before with the same content;
    every file is parsed in a process under a memory and time limit, an archive (DOCX) only once
    its members' sizes are checked. The data version changes exactly when the set of
    (document, version) changes."""
    project = context.partition_key
    progress = Progress(context.log.info, f"{project}: files done")
    result = ingest_project(
        project=project,
        inbox=inbox,
        artifacts=artifacts,
        previous=load_previous_snapshot(artifacts, project),
        max_bytes=intake.max_file_bytes,
        workers=intake.workers,
        now=datetime.now(UTC).isoformat(timespec="seconds"),
        limits=intake.parse_limits(),
        progress=progress,
    )
    snapshot = result.snapshot
    context.log.info(
        f"{project}: {len(snapshot.active())} documents ({result.new} new, {result.changed} changed, "
        f"{result.removed} removed), {result.parsed} files parsed, {result.unchanged} unchanged, "
        f"{result.rejected} rejected ({result.remembered} by a reason remembered for the same content)"
    )
    return dg.Output(
        snapshot,
        data_version=dg.DataVersion(snapshot.data_version()),
        metadata={
            "document_table": dg.MetadataValue.md(documents_table(result)),
            "rejected_table": dg.MetadataValue.md(rejected_table(snapshot)),
            "documents": dg.MetadataValue.int(len(snapshot.active())),
            "rejected": dg.MetadataValue.int(result.rejected),
            "parsed": dg.MetadataValue.int(result.parsed),
            "rejected_remembered": dg.MetadataValue.int(result.remembered),
            "unchanged": dg.MetadataValue.int(result.unchanged),
            "new": dg.MetadataValue.int(result.new),
            "changed": dg.MetadataValue.int(result.changed),
            "removed": dg.MetadataValue.int(result.removed),
            "inbox": dg.MetadataValue.text(f"{inbox.url()}/{project}/"),
            "files_done": dg.MetadataValue.text(f"{progress.done} of {progress.total}"),
        },
    )
