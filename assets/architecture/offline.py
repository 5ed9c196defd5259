"""The offline design: the architecture by rules, deterministic, without a model."""

from __future__ import annotations

from assets.architecture.domain import derive_entities
from assets.architecture.draft import ArchitectureDraft
from assets.architecture.models import StoryComponents
from assets.architecture.stack import offline_components
from assets.architecture.story_map import map_story
from assets.requirements.models import RequirementsSet


def design_offline(requirements: RequirementsSet) -> ArchitectureDraft:
    """The rule-based design: stack, the whole domain model (typed fields, references, transitions,
    limits, summaries, full CRUD) with its operations, and the story map."""
    entities = derive_entities(requirements.stories, full_crud=True)
    components = offline_components(requirements, [entity.name for entity in entities])
    story_map = [
        StoryComponents(story_id=story.id, components=map_story(story)) for story in requirements.stories
    ]
    return ArchitectureDraft(components=components, entities=entities, story_map=story_map)
