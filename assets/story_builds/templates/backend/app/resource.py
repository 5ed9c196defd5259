"""What the API serves: resources (entities of the data model), their fields and operations."""

from __future__ import annotations

from dataclasses import dataclass

FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
OPERATION_KINDS = ("list", "create", "read", "update", "delete")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool = False


@dataclass(frozen=True)
class Operation:
    kind: str  # one of OPERATION_KINDS
    method: str  # HTTP method from the API contract
    stories: tuple[str, ...] = ()  # the user stories this operation was built for


@dataclass(frozen=True)
class Resource:
    name: str
    table: str
    collection_path: str  # "/api/tasks"
    item_path: str  # "/api/tasks/{id}"
    fields: tuple[Field, ...]
    operations: tuple[Operation, ...]
    list_parameters: tuple[str, ...] = ()  # field names filtered by equality; "q" searches text

    def operation(self, kind: str) -> Operation | None:
        return next((operation for operation in self.operations if operation.kind == kind), None)

    def field(self, name: str) -> Field | None:
        return next((field for field in self.fields if field.name == name), None)
