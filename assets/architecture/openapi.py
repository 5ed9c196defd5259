"""The backend's API contract as an OpenAPI 3.1 document, rendered from the data model.

Every entity gets CRUD paths (`/api/<plural>` and `/api/<plural>/{id}`) for the operations the
design gives it, a schema for what the API returns (`Task`), one for what a client sends to create
(`TaskInput`) and one for a partial update (`TaskUpdate`). Each operation has an `operationId` and
lists the stories it serves in `x-story-ids`, so a story can be followed to its endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import openapi_spec_validator
from pydantic import BaseModel, Field

from assets.architecture.models import Entity, EntityField
from assets.requirements.language import plural, snake_case

OPENAPI_VERSION = "3.1.0"
OperationKind = Literal["list", "create", "read", "update", "delete"]
OPERATION_ORDER: tuple[OperationKind, ...] = ("list", "create", "read", "update", "delete")

_TYPES: dict[str, dict[str, str]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}


class EntityOperation(BaseModel):
    """One operation on an entity and the stories that need it."""

    kind: OperationKind
    story_ids: list[str] = Field(default_factory=list)
    parameters: list[str] = Field(
        default_factory=list, description="query parameters of a list operation, such as 'status' or 'q'"
    )


def collection_path(entity: str) -> str:
    """ "Task" -> "/api/tasks", "SupportTicket" -> "/api/support-tickets"."""
    parts = snake_case(_split_pascal(entity)).split("_")
    return "/api/" + "-".join([*parts[:-1], plural(parts[-1])])


def operation_id(kind: OperationKind, entity: str) -> str:
    if kind == "list":
        parts = _split_pascal(entity).split()
        return "list" + "".join(parts[:-1]) + plural(parts[-1]).capitalize()
    return {"create": "create", "read": "get", "update": "update", "delete": "delete"}[kind] + entity


def _split_pascal(name: str) -> str:
    out = ""
    for char in name:
        out += (" " + char) if char.isupper() and out else char
    return out


def _property(field: EntityField, optional: bool) -> dict[str, Any]:
    schema = dict(_TYPES[field.type])
    if optional:
        schema["type"] = [schema["type"], "null"]
    return schema


def _schemas(entity: Entity) -> dict[str, dict[str, Any]]:
    fields = [field for field in entity.fields if field.name != "id"]
    full: dict[str, Any] = {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "readOnly": True},
            **{field.name: _property(field, not field.required) for field in fields},
        },
        "required": ["id", *(field.name for field in fields if field.required)],
    }
    create: dict[str, Any] = {
        "type": "object",
        "properties": {field.name: _property(field, not field.required) for field in fields},
    }
    required = [field.name for field in fields if field.required]
    if required:
        create["required"] = required
    update = {
        "type": "object",
        "properties": {field.name: _property(field, not field.required) for field in fields},
        "minProperties": 1,
    }
    return {entity.name: full, f"{entity.name}Input": create, f"{entity.name}Update": update}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(
    kind: OperationKind, entity: Entity, operation: EntityOperation, known_fields: set[str]
) -> dict[str, Any]:
    name = entity.name
    words = _split_pascal(name).lower()
    summaries = {
        "list": f"List {plural(words)}",
        "create": f"Create a {words}",
        "read": f"Get one {words}",
        "update": f"Update a {words}",
        "delete": f"Delete a {words}",
    }
    body: dict[str, Any] = {
        "operationId": operation_id(kind, name),
        "summary": summaries[kind],
        "tags": [name],
        "x-story-ids": sorted(set(operation.story_ids)),
    }
    not_found = {"$ref": "#/components/responses/NotFound"}
    invalid = {"$ref": "#/components/responses/Invalid"}
    if kind == "list":
        parameters = []
        for parameter in sorted(set(operation.parameters)):
            schema = _TYPES["string"]
            if parameter in known_fields:
                field = next(field for field in entity.fields if field.name == parameter)
                schema = _TYPES[field.type]
            description = (
                "text to search for" if parameter == "q" else f"only {plural(words)} with this {parameter}"
            )
            parameters.append(
                {
                    "name": parameter,
                    "in": "query",
                    "required": False,
                    "schema": dict(schema),
                    "description": description,
                }
            )
        if parameters:
            body["parameters"] = parameters
        body["responses"] = {
            "200": {
                "description": f"The {plural(words)}",
                "content": _json({"type": "array", "items": _ref(name)}),
            }
        }
    elif kind == "create":
        body["requestBody"] = {"required": True, "content": _json(_ref(f"{name}Input"))}
        body["responses"] = {
            "201": {"description": f"The new {words}", "content": _json(_ref(name))},
            "422": invalid,
        }
    elif kind == "read":
        body["responses"] = {
            "200": {"description": f"The {words}", "content": _json(_ref(name))},
            "404": not_found,
        }
    elif kind == "update":
        body["requestBody"] = {"required": True, "content": _json(_ref(f"{name}Update"))}
        body["responses"] = {
            "200": {"description": f"The updated {words}", "content": _json(_ref(name))},
            "404": not_found,
            "422": invalid,
        }
    else:
        body["responses"] = {"204": {"description": f"The {words} is deleted"}, "404": not_found}
    return body


def render_openapi(
    title: str,
    entities: Sequence[Entity],
    operations: Mapping[str, Sequence[EntityOperation]],
    version: str = "0.1.0",
    description: str = "",
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `entities` with the given operations (entity name -> operations)."""
    paths: dict[str, Any] = {
        "/api/health": {
            "get": {
                "operationId": "getHealth",
                "summary": "Liveness probe for deployments and smoke tests",
                "tags": ["Health"],
                "x-story-ids": [],
                "responses": {
                    "200": {
                        "description": "The service is up",
                        "content": _json(
                            {
                                "type": "object",
                                "properties": {"status": {"type": "string"}},
                                "required": ["status"],
                            }
                        ),
                    }
                },
            }
        }
    }
    schemas: dict[str, Any] = {
        "Error": {"type": "object", "properties": {"detail": {}}, "required": ["detail"]},
    }
    for entity in sorted(entities, key=lambda entity: entity.name):
        schemas.update(_schemas(entity))
        by_kind = {operation.kind: operation for operation in operations.get(entity.name, [])}
        known_fields = {field.name for field in entity.fields}
        collection: dict[str, Any] = {}
        item: dict[str, Any] = {}
        methods = {"list": "get", "create": "post", "read": "get", "update": "patch", "delete": "delete"}
        for kind in OPERATION_ORDER:
            if kind in by_kind:
                target = collection if kind in ("list", "create") else item
                target[methods[kind]] = _operation(kind, entity, by_kind[kind], known_fields)
        base = collection_path(entity.name)
        if collection:
            paths[base] = collection
        if item:
            paths[base + "/{id}"] = {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                **item,
            }
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "NotFound": {"description": "No such item", "content": _json(_ref("Error"))},
                "Invalid": {"description": "The request body is not valid", "content": _json(_ref("Error"))},
            },
        },
    }
    if description:
        document["info"]["description"] = description
    return document


def openapi_problem(document: Mapping[str, Any]) -> str | None:
    """None if `document` is a valid OpenAPI document, else the validator's reason."""
    try:
        openapi_spec_validator.validate(document)
    except Exception as error:  # a dangling $ref surfaces as a resolver error, not a validation error
        return f"{type(error).__name__}: {str(error).splitlines()[0][:500]}"
    return None


HTTP_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


@dataclass(frozen=True)
class PathOperation:
    """One operation of an OpenAPI document, with the path-level parameters it inherits."""

    path: str
    method: str  # lowercase
    operation: Mapping[str, Any]
    path_parameters: tuple[Mapping[str, Any], ...] = ()

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def story_ids(self) -> list[str]:
        return list(self.operation.get("x-story-ids") or [])


def iter_operations(document: Mapping[str, Any]) -> Iterator[PathOperation]:
    """Every operation of the document, by path then method: the one walker of OpenAPI paths."""
    for path, item in sorted((document.get("paths") or {}).items()):
        if not isinstance(item, Mapping):
            continue
        shared = tuple(p for p in item.get("parameters") or [] if isinstance(p, Mapping))
        for method in HTTP_METHODS:
            operation = item.get(method)
            if isinstance(operation, Mapping):
                yield PathOperation(path=path, method=method, operation=operation, path_parameters=shared)


def operation_count(document: Mapping[str, Any]) -> int:
    return sum(1 for _ in iter_operations(document))


def schema_refs(value: Any) -> set[str]:
    """Names of the component schemas (`#/components/schemas/<name>`) referenced anywhere in `value`."""
    found: set[str] = set()
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for item in value.values():
            found |= schema_refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= schema_refs(item)
    return found
