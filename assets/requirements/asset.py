"""The `requirements` asset: user stories drawn from a project's documents, with stable ids."""

from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple

import dagster as dg
from pydantic import ValidationError

from assets.documents.intake import load_parsed
from assets.documents.models import DocumentRecord, DocumentsSnapshot, ParsedDocument
from assets.requirements.extraction import ExtractedStories, extract_task
from assets.requirements.merge import merge_stories
from assets.requirements.models import RequirementsSet
from assets.requirements.report import excluded_table, markdown_table, stories_table
from pipeline_core.partitions import projects_partitions
from resources.io_manager import read_previous_value
from resources.llm.resource import LlmResource
from resources.object_store import ObjectStore

# Bump with the extraction prompt, the offline rules or the merge rules.
REQUIREMENTS_CODE_VERSION = "requirements-2"
STORIES_CHECK = "stories_have_criteria_and_traces"
FOUND_CHECK = "stories_found"


def load_documents(
    artifacts: ObjectStore, snapshot: DocumentsSnapshot
) -> tuple[list[tuple[DocumentRecord, ParsedDocument]], list[tuple[str, str]]]:
    """The parsed current version of every active document, and (path, reason) for those unreadable."""
    loaded, skipped = [], []
    for record in sorted(snapshot.active(), key=lambda record: record.path):
        try:
            loaded.append((record, load_parsed(artifacts, record.current)))
        except (FileNotFoundError, ValueError, ValidationError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            skipped.append((record.path, f"parsed version not readable: {reason}"))
    return loaded, skipped


def check_stories(value: RequirementsSet) -> dg.AssetCheckResult:
    without_criteria = [story.id for story in value.stories if not story.acceptance_criteria]
    without_traces = [story.id for story in value.stories if not story.traces]
    return dg.AssetCheckResult(
        check_name=STORIES_CHECK,
        passed=not without_criteria and not without_traces,
        metadata={
            "stories": dg.MetadataValue.int(len(value.stories)),
            "without_criteria": dg.MetadataValue.text(", ".join(without_criteria) or "none"),
            "without_traces": dg.MetadataValue.text(", ".join(without_traces) or "none"),
        },
    )


class EmptyDocument(NamedTuple):
    """A document that gave no story: why, and whether anything of it was left out with a reason."""

    path: str
    why: str
    accounted_for: bool


def empty_reasons(
    loaded: list[tuple[DocumentRecord, ParsedDocument]],
    extracted: list[ExtractedStories],
    skipped: list[tuple[str, str]],
) -> list[EmptyDocument]:
    """Every document that gave no story, with why (unreadable ones are accounted for: their reason)."""
    reasons = [EmptyDocument(path, why, accounted_for=True) for path, why in skipped]
    for (record, doc), result in zip(loaded, extracted, strict=True):
        if result.stories:
            continue
        why = f"no requirement statement found in {len(doc.segments)} segment(s)"
        if result.excluded:
            counts = Counter(item.reason for item in result.excluded)
            listed = "; ".join(f"{count} {reason}" for reason, count in counts.most_common(3))
            why += f"; left out: {listed}"
        reasons.append(EmptyDocument(record.path, why, accounted_for=bool(result.excluded)))
    return reasons


def check_found(value: RequirementsSet, reasons: list[EmptyDocument]) -> dg.AssetCheckResult:
    """Zero stories is never green: the check names each document and why nothing came of it.

    With stories from other documents, a document that gave nothing and had nothing left out with a
    reason (a style the rules do not read) fails the check as a warning, naming it: silence is not
    green either, but it does not block the stages after."""
    silent = [reason for reason in reasons if not reason.accounted_for]
    passed = bool(value.stories) and not silent
    severity = dg.AssetCheckSeverity.ERROR if not value.stories else dg.AssetCheckSeverity.WARN
    description = None
    if not value.stories:
        description = (
            "No story was drawn from this project's documents. "
            + " ".join(f"{reason.path}: {reason.why}." for reason in reasons)
            if reasons
            else "No story was drawn: the project has no readable document."
        )
    elif silent:
        description = (
            "Nothing was drawn from "
            + ", ".join(reason.path for reason in silent)
            + " and nothing of it was left out with a reason: its style may not be one the rules read."
        )
    return dg.AssetCheckResult(
        check_name=FOUND_CHECK,
        passed=passed,
        severity=severity,
        description=description,
        metadata={
            "stories": dg.MetadataValue.int(len(value.stories)),
            "documents_without_stories": dg.MetadataValue.md(
                markdown_table(["document", "why no story"], [(r.path, r.why) for r in reasons])
                if reasons
                else "none"
            ),
        },
    )


@dg.asset(
    partitions_def=projects_partitions,
    code_version=REQUIREMENTS_CODE_VERSION,
    group_name="design",
    pool="llm",
    check_specs=[
        dg.AssetCheckSpec(
            STORIES_CHECK,
            asset="requirements",
            description="Every story has at least one acceptance criterion and a trace to a document.",
            partitions_def=projects_partitions,
        ),
        dg.AssetCheckSpec(
            FOUND_CHECK,
            asset="requirements",
            description="The project yields a story; otherwise each document and why it gave none.",
            blocking=True,
            partitions_def=projects_partitions,
        ),
    ],
)
def requirements(
    context: dg.AssetExecutionContext,
    documents: DocumentsSnapshot,
    artifacts: ObjectStore,
    llm: LlmResource,
) -> Iterator[dg.Output[RequirementsSet] | dg.AssetCheckResult]:
    """User stories (as a / I want / so that, Given/When/Then criteria, MoSCoW priority,
    dependencies) drawn from every active document of the project, duplicates merged with all
    their traces. Ids stay stable across runs; the data version changes when a story's content does.
    """
    project = context.partition_key
    loaded, skipped = load_documents(artifacts, documents)
    for path, reason in skipped:
        context.log.warning(f"{path}: {reason}")
    session = llm.session()
    extracted = session.run_many(
        [extract_task(doc, record.current.content_hash or "") for record, doc in loaded]
    )
    value = merge_stories(
        [(record, doc, result) for (record, doc), result in zip(loaded, extracted, strict=True)],
        read_previous_value(artifacts, "requirements", project, RequirementsSet),
        project=project,
    )
    priorities = Counter(story.priority for story in value.stories)
    metadata: dict[str, dg.RawMetadataValue] = {
        "stories": dg.MetadataValue.md(stories_table(value)),
        "story_count": dg.MetadataValue.int(len(value.stories)),
        "priorities": dg.MetadataValue.text(
            ", ".join(f"{name} {priorities[name]}" for name in ("Must", "Should", "Could", "Won't"))
        ),
        "excluded_count": dg.MetadataValue.int(len(value.excluded)),
        "documents_read": dg.MetadataValue.int(len(loaded)),
        "documents_skipped": dg.MetadataValue.int(len(skipped)),
        **session.metadata(),
    }
    if value.excluded:
        metadata["excluded"] = dg.MetadataValue.md(excluded_table(value.excluded))
    if skipped:
        metadata["skipped"] = dg.MetadataValue.md(markdown_table(["document", "reason"], skipped))
    yield dg.Output(value, data_version=dg.DataVersion(value.data_version()), metadata=metadata)
    yield check_stories(value)
    yield check_found(value, empty_reasons(loaded, extracted, skipped))
