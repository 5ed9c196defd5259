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


FieldType = Literal[
    "string",  # a short line of text
    "text",  # free text: notes, descriptions, comments
    "integer",  # counts, quantities, positions
    "number",  # measurements, ratings
    "money",  # an amount of money (a decimal number, never negative unless the text says so)
    "boolean",  # yes/no
    "date",  # YYYY-MM-DD
    "datetime",  # ISO 8601 date and time
    "time",  # HH:MM
    "email",
    "url",
    "enum",  # one of `values`
    "reference",  # the id of another entity (`references`)
]


class EntityField(BaseModel):
    """A typed field of an entity, with the simple constraints the text states."""

    name: str  # snake_case
    type: FieldType
    required: bool = False
    values: list[str] = Field(default_factory=list, description="the allowed values of an enum field")
    references: str | None = Field(default=None, description="entity name a reference field points to")
    minimum: float | None = Field(default=None, description="smallest allowed value (numbers, money)")
    maximum: float | None = Field(default=None, description="largest allowed value (numbers, money)")
    max_length: int | None = Field(default=None, description="longest allowed text")
    unique: bool = Field(default=False, description="no two records share a value")
    default: str | int | float | bool | None = Field(default=None, description="value when not given")


class Transition(BaseModel):
    """A named state change ("ship" an order): `field` moves from one of `from_states` to `to_state`."""

    name: str  # verb, snake_case: "ship", "mark_done", "reopen"
    field: str  # the enum field holding the state, usually "status"
    from_states: list[str] = Field(
        default_factory=list, description="states it may start from; empty means any state but to_state"
    )
    to_state: str
    story_ids: list[str] = Field(default_factory=list)
    rule: str = Field(default="", description="the text's own words for the rule, if it states one")


class CountLimit(BaseModel):
    """At most `maximum` records where `field` is in `values`, per value of `per` (or in all)."""

    maximum: int = Field(ge=0)
    per: str | None = Field(default=None, description="field to count per: 'assignee' (None: overall)")
    field: str | None = Field(default=None, description="state field the count looks at: 'status'")
    values: list[str] = Field(default_factory=list, description="states that count: ['open']")
    story_ids: list[str] = Field(default_factory=list)
    rule: str = Field(default="", description="the text's own words for the rule")


class Summary(BaseModel):
    """A report over an entity: count (or total of a number field) per value of `group_by`."""

    name: str  # snake_case: "open_tasks_per_assignee", "stock_value_per_supplier"
    measure: Literal["count", "sum", "average"] = "count"
    field: str | None = Field(default=None, description="the number/money field summed or averaged")
    multiply_by: str | None = Field(default=None, description="a second number field: sum(field * it)")
    group_by: str | None = Field(default=None, description="field to group by; None for one total")
    where_field: str | None = None
    where_values: list[str] = Field(default_factory=list)
    story_ids: list[str] = Field(default_factory=list)


class Entity(BaseModel):
    """A thing the application stores, with its fields, state changes, limits and reports."""

    name: str  # PascalCase singular, for example "Task"
    fields: list[EntityField]
    transitions: list[Transition] = Field(default_factory=list)
    limits: list[CountLimit] = Field(default_factory=list)
    summaries: list[Summary] = Field(default_factory=list)

    def field(self, name: str) -> EntityField | None:
        return next((item for item in self.fields if item.name == name), None)


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
