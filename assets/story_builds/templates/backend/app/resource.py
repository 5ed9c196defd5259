"""What the API serves: resources (entities of the data model), their fields, operations and rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FIELD_TYPES = (
    "string",
    "text",
    "integer",
    "number",
    "money",
    "boolean",
    "date",
    "datetime",
    "time",
    "email",
    "url",
    "enum",
    "reference",
)
OPERATION_KINDS = ("list", "create", "read", "update", "delete", "transition", "summary")
SEARCHED_TYPES = ("string", "text", "email")  # what `q` looks in


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # one of FIELD_TYPES
    required: bool = False
    values: tuple[str, ...] = ()  # enum: the allowed values
    references: str | None = None  # reference: the name of the resource it points to
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    unique: bool = False
    default: Any = None
    read_only: bool = False  # a state field: only its transitions change it


@dataclass(frozen=True)
class Operation:
    kind: str  # one of OPERATION_KINDS
    method: str  # HTTP method from the API contract
    path: str = ""  # path template from the API contract (transitions and summaries route by it)
    name: str = ""  # transitions and summaries: which one
    stories: tuple[str, ...] = ()  # the user stories this operation was built for


@dataclass(frozen=True)
class Transition:
    """`field` moves to `to_state`, only from one of `from_states` (empty: from any other state)."""

    name: str
    field: str
    from_states: tuple[str, ...]
    to_state: str

    def allowed_from(self, field: Field | None) -> tuple[str, ...]:
        if self.from_states:
            return self.from_states
        values = field.values if field is not None else ()
        return tuple(value for value in values if value != self.to_state)


@dataclass(frozen=True)
class Limit:
    """At most `maximum` records whose `field` is in `values` (every record if no field), per `per`."""

    maximum: int
    per: str | None = None
    field: str | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Summary:
    """count / sum / average of `field` (times `multiply_by`), per `group_by`, over the records
    whose `where_field` is in `where_values`."""

    name: str
    measure: str = "count"
    field: str | None = None
    multiply_by: str | None = None
    group_by: str | None = None
    where_field: str | None = None
    where_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resource:
    name: str
    table: str
    collection_path: str  # "/api/tasks"
    item_path: str  # "/api/tasks/{id}"
    fields: tuple[Field, ...]
    operations: tuple[Operation, ...]
    list_parameters: tuple[str, ...] = ()  # field names filtered by equality; "q" searches; "sort"
    transitions: tuple[Transition, ...] = ()
    limits: tuple[Limit, ...] = ()
    summaries: tuple[Summary, ...] = ()

    def operation(self, kind: str, name: str = "") -> Operation | None:
        return next((op for op in self.operations if op.kind == kind and op.name == name), None)

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields if field.name == name), None)

    def transition(self, name: str) -> Transition | None:
        return next((item for item in self.transitions if item.name == name), None)

    def summary(self, name: str) -> Summary | None:
        return next((item for item in self.summaries if item.name == name), None)
