"""Records of the architecture stage."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from pipeline_core.hashing import content_hash

ComponentKind = Literal["frontend", "backend", "database", "worker"]


class TechStack(BaseModel):
    language: str
    framework: str
    runtime: str = ""
    hosting: Literal["local", "netlify", "ecs", "managed"] = "local"


class Component(BaseModel):
    name: str  # "frontend", "backend", "database", ...
    kind: ComponentKind
    description: str
    stack: TechStack
    path: str  # folder in the generated repository, for example "frontend/"


class EntityField(BaseModel):
    name: str
    type: Literal["string", "integer", "number", "boolean", "date", "datetime"]
    required: bool = False


class Entity(BaseModel):
    name: str  # PascalCase singular, for example "Task"
    fields: list[EntityField]


class StoryComponents(BaseModel):
    story_id: str
    components: list[str]


class Architecture(BaseModel):
    """The value of the `architecture` asset for one project."""

    project: str
    summary: str
    components: list[Component]
    openapi: dict[str, Any]  # OpenAPI 3.1 document of the backend's API
    data_model: list[Entity]
    story_map: list[StoryComponents]
    repository_layout: list[str] = Field(default_factory=list)

    def data_version(self) -> str:
        return content_hash(self.model_dump(mode="json"))
