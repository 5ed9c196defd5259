"""The design as a provider proposes it: what the Claude task returns and the offline rules build.

`build_architecture` turns an `ArchitectureDraft` into the `Architecture` value; nothing here is
trusted as clean (names, story ids and field references are checked there).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from assets.architecture.models import (
    ComponentKind,
    CountLimit,
    EntityField,
    StoryComponents,
    Summary,
    TechStack,
    Transition,
)
from assets.architecture.openapi import EntityOperation


class DraftComponent(BaseModel):
    name: str = Field(description="lowercase: 'frontend', 'backend', 'database' or 'worker'")
    kind: ComponentKind
    description: str
    stack: TechStack


class DraftEntity(BaseModel):
    name: str = Field(description="PascalCase singular, e.g. 'Task'")
    fields: list[EntityField]
    operations: list[EntityOperation]
    transitions: list[Transition] = Field(
        default_factory=list, description="named state changes beyond CRUD ('ship', 'archive')"
    )
    limits: list[CountLimit] = Field(default_factory=list, description="'at most 3 open tasks per assignee'")
    summaries: list[Summary] = Field(
        default_factory=list, description="counts or totals the stories ask for ('stock value per supplier')"
    )


class ArchitectureDraft(BaseModel):
    """The design as the model (or the offline rules) proposes it."""

    components: list[DraftComponent]
    entities: list[DraftEntity]
    story_map: list[StoryComponents] = Field(description="every story id with the components it touches")
