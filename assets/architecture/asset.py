"""The `architecture` asset: components, stacks, API contract, data model and story map."""

from collections.abc import Iterator

import dagster as dg

from assets.architecture.design import build_architecture, design_task
from assets.architecture.models import Architecture, EntityField, Transition
from assets.architecture.openapi import iter_operations, openapi_problem, operation_count
from assets.architecture.operations import asks_for_data
from assets.requirements.models import RequirementsSet
from assets.requirements.report import markdown_table
from pipeline_core.partitions import projects_partitions
from resources.llm.resource import LlmResource

# Bump with the design prompt, the offline rules or the OpenAPI rendering.
ARCHITECTURE_CODE_VERSION = "architecture-4"
STORY_MAP_CHECK = "stories_mapped_to_components"
OPENAPI_CHECK = "openapi_valid"
DATA_MODEL_CHECK = "data_model_has_entities_with_fields"
OPERATIONS_CHECK = "data_stories_mapped_to_operations"


def _field_label(field: EntityField) -> str:
    kind = f"{field.type} -> {field.references}" if field.references else field.type
    if field.values:
        kind += f" [{'|'.join(field.values)}]"
    return f"{field.name}: {kind}{'' if field.required else '?'}"


def _transition_label(transition: Transition) -> str:
    return f"{transition.name} ({'/'.join(transition.from_states) or 'any'} -> {transition.to_state})"


def architecture_markdown(value: Architecture, requirements: RequirementsSet) -> dict[str, str]:
    """Tables for people: components with their stack, entities, and the story map."""
    titles = {story.id: story.title for story in requirements.stories}
    components = markdown_table(
        ["component", "kind", "stack", "hosting", "path"],
        [
            (
                c.name,
                c.kind,
                f"{c.stack.framework} ({c.stack.language}, {c.stack.runtime})",
                c.stack.hosting,
                c.path,
            )
            for c in value.components
        ],
    )
    entities = markdown_table(
        ["entity", "fields", "actions", "limits", "summaries"],
        [
            (
                entity.name,
                ", ".join(_field_label(f) for f in entity.fields),
                ", ".join(
                    f"{t.name} ({'/'.join(t.from_states) or 'any'} -> {t.to_state})"
                    for t in entity.transitions
                ),
                "; ".join(limit.rule or f"at most {limit.maximum}" for limit in entity.limits),
                ", ".join(summary.name for summary in entity.summaries),
            )
            for entity in value.data_model
        ],
    )
    story_map = markdown_table(
        ["story", "title", "components"],
        [
            (entry.story_id, titles.get(entry.story_id, ""), ", ".join(entry.components) or "NONE")
            for entry in value.story_map
        ],
    )
    return {"components": components, "entities": entities, "story_map": story_map}


def check_story_map(value: Architecture, requirements: RequirementsSet) -> dg.AssetCheckResult:
    mapped = {entry.story_id for entry in value.story_map if entry.components}
    unmapped = [story.id for story in requirements.stories if story.id not in mapped]
    return dg.AssetCheckResult(
        check_name=STORY_MAP_CHECK,
        passed=not unmapped,
        metadata={
            "stories": dg.MetadataValue.int(len(requirements.stories)),
            "unmapped": dg.MetadataValue.text(", ".join(unmapped) or "none"),
        },
    )


def check_openapi(value: Architecture) -> dg.AssetCheckResult:
    problem = openapi_problem(value.openapi)
    return dg.AssetCheckResult(
        check_name=OPENAPI_CHECK,
        passed=problem is None,
        metadata={
            "operations": dg.MetadataValue.int(operation_count(value.openapi)),
            "problem": dg.MetadataValue.text(problem or "none"),
        },
    )


# What every entity gets without the text naming it: its id, one field to show it by, and the
# state field a state verb ("cancel", "mark as done") adds; none of them says what is stored.
_GIVEN_FIELDS = frozenset({"id", "name", "title", "status"})


def bare_entities(value: Architecture) -> list[str]:
    """Entities with nothing but an id, a name or title and a status: the text named none of their
    fields."""
    return [
        entity.name
        for entity in value.data_model
        if not [field for field in entity.fields if field.name not in _GIVEN_FIELDS]
    ]


def check_data_model(value: Architecture) -> dg.AssetCheckResult:
    """Fails when there is nothing to store or no entity has a field of its own (error); warns,
    naming them, when some entities have nothing but an id, a name or title and a status."""
    bare = bare_entities(value)
    problem, severity = "", dg.AssetCheckSeverity.WARN
    if not value.data_model:
        problem, severity = "no entity: the design stores nothing", dg.AssetCheckSeverity.ERROR
    elif bare:
        problem = "entities without fields besides id, a name or title and a status: " + ", ".join(bare)
        if len(bare) == len(value.data_model):
            severity = dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckResult(
        check_name=DATA_MODEL_CHECK,
        passed=not problem,
        severity=severity,
        metadata={
            "entities": dg.MetadataValue.int(len(value.data_model)),
            "entities_without_fields": dg.MetadataValue.int(len(bare)),
            "problem": dg.MetadataValue.text(problem or "none"),
        },
    )


def stories_without_operations(value: Architecture, requirements: RequirementsSet) -> list[str]:
    """Stories that act on stored things ("record each visit") but that no API operation serves."""
    served = {story_id for operation in iter_operations(value.openapi) for story_id in operation.story_ids}
    return [story.id for story in requirements.stories if story.id not in served and asks_for_data(story)]


def check_story_operations(value: Architecture, requirements: RequirementsSet) -> dg.AssetCheckResult:
    missing = stories_without_operations(value, requirements)
    titles = {story.id: story.title for story in requirements.stories}
    return dg.AssetCheckResult(
        check_name=OPERATIONS_CHECK,
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "stories_without_operation": dg.MetadataValue.int(len(missing)),
            "stories": dg.MetadataValue.md(
                "\n".join(f"- {story_id}: {titles[story_id]}" for story_id in missing) or "none"
            ),
        },
    )


@dg.asset(
    partitions_def=projects_partitions,
    code_version=ARCHITECTURE_CODE_VERSION,
    group_name="design",
    pool="llm",
    check_specs=[
        dg.AssetCheckSpec(
            STORY_MAP_CHECK,
            asset="architecture",
            description="Every story is mapped to at least one component.",
            partitions_def=projects_partitions,
        ),
        dg.AssetCheckSpec(
            OPENAPI_CHECK,
            asset="architecture",
            description="The API contract is a valid OpenAPI document.",
            partitions_def=projects_partitions,
        ),
        dg.AssetCheckSpec(
            DATA_MODEL_CHECK,
            asset="architecture",
            description="The design stores something: at least one entity, each with fields besides its id,"
            " name and status (warning naming the bare ones; an error when none has a field of its own).",
            partitions_def=projects_partitions,
        ),
        dg.AssetCheckSpec(
            OPERATIONS_CHECK,
            asset="architecture",
            description="Every story that acts on stored things is served by some API operation (warning).",
            partitions_def=projects_partitions,
        ),
    ],
)
def architecture(
    context: dg.AssetExecutionContext, requirements: RequirementsSet, llm: LlmResource
) -> Iterator[dg.Output[Architecture] | dg.AssetCheckResult]:
    """The application's design from its user stories: components with their tech stack, the
    backend's OpenAPI 3.1 contract, the data model, which components each story touches, and the
    repository layout. The data version changes only when the design does.
    """
    session = llm.session()
    draft = session.run(design_task(requirements))
    value = build_architecture(requirements, draft)
    tables = architecture_markdown(value, requirements)
    metadata: dict[str, dg.RawMetadataValue] = {
        "summary": dg.MetadataValue.md(
            f"{value.summary}\n\n### Components\n\n{tables['components']}\n\n"
            f"### Entities\n\n{tables['entities']}\n\n### Story map\n\n{tables['story_map']}"
        ),
        "components": dg.MetadataValue.int(len(value.components)),
        "entities": dg.MetadataValue.int(len(value.data_model)),
        "endpoints": dg.MetadataValue.int(operation_count(value.openapi)),
        "stories_mapped": dg.MetadataValue.int(sum(1 for entry in value.story_map if entry.components)),
        **session.metadata(),
    }
    context.log.info(value.summary)
    yield dg.Output(value, data_version=dg.DataVersion(value.data_version()), metadata=metadata)
    yield check_story_map(value, requirements)
    yield check_openapi(value)
    yield check_data_model(value)
    yield check_story_operations(value, requirements)
