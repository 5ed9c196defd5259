"""The offline design: the architecture by rules, deterministic, without a model."""

from __future__ import annotations

from assets.architecture.domain import derive_entities
from assets.architecture.draft import ArchitectureDraft, DraftEntity
from assets.architecture.models import StoryComponents
from assets.architecture.stack import offline_components
from assets.architecture.story_map import map_story
from assets.requirements.models import RequirementsSet

# The offline templates of story_builds serve six field types and the CRUD operations stories name
# today. Until they serve the whole model (typed fields, references, transitions, summaries, full
# CRUD), the offline design hands them that subset; `design_offline(..., full_model=True)` is the
# whole model. Flip this when the templates are ready.
FULL_MODEL_DEFAULT = False
_TEMPLATE_TYPES = {
    "text": "string",
    "money": "number",
    "email": "string",
    "url": "string",
    "time": "string",
    "enum": "string",
    "reference": "integer",
}


def template_subset(entity: DraftEntity) -> DraftEntity:
    """The entity with only what the current offline templates serve: CRUD over six field types."""
    states = {transition.field for transition in entity.transitions}
    fields = [
        field.model_copy(
            update={
                "type": _TEMPLATE_TYPES.get(field.type, field.type),
                "values": [],
                "references": None,
                # nothing checks a reference there; a state is set by an update there
                "required": field.required and field.type != "reference" and field.name not in states,
                "default": None if field.name in states else field.default,
            }
        )
        for field in entity.fields
    ]
    changing = {story_id for transition in entity.transitions for story_id in transition.story_ids}
    operations = [
        operation.model_copy(update={"story_ids": sorted(set(operation.story_ids) | changing)})
        if operation.kind == "update" and changing
        else operation
        for operation in entity.operations
    ]
    return entity.model_copy(
        update={"fields": fields, "operations": operations, "transitions": [], "limits": [], "summaries": []}
    )


def design_offline(requirements: RequirementsSet, full_model: bool | None = None) -> ArchitectureDraft:
    """The rule-based design: stack, domain model with its operations, and the story map."""
    full = FULL_MODEL_DEFAULT if full_model is None else full_model
    entities = derive_entities(requirements.stories, full_crud=full)
    if not full:
        entities = [template_subset(entity) for entity in entities]
    components = offline_components(requirements, [entity.name for entity in entities])
    story_map = [
        StoryComponents(story_id=story.id, components=map_story(story)) for story in requirements.stories
    ]
    return ArchitectureDraft(components=components, entities=entities, story_map=story_map)
