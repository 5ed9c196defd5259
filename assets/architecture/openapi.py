"""The backend's API contract as an OpenAPI 3.1 document, rendered from the data model.

The conventions every stage (and the generated application) codes against:

- list `GET /api/<plural>`: one optional query parameter per filterable field (exact match, typed
  like the field), `q` (case-insensitive substring search over the string, text and email fields)
  and `sort` (`<field>` ascending or `-<field>` descending, an enum of the sortable fields) when
  the design asks for them; 200 with an array of the entity, 422 for a malformed parameter.
- create `POST /api/<plural>` (body `<Entity>Input`) -> 201 entity, 422 invalid; 409 when a unique
  field clashes or a count limit is reached (only where the entity has either).
- read `GET`, update `PATCH` (body `<Entity>Update`, at least one field), delete `DELETE` on
  `/api/<plural>/{id}` -> 200 / 200 / 204, 404 unknown id; update 409 as create; delete 409 when
  another entity still references the item (only where one can).
- transition `POST /api/<plural>/{id}/<kebab-name>` (no body), operationId `<camelName><Entity>`
  ("shipOrder"), `x-transition: <name>`, `x-state-field`, `x-from-states` (empty: any state but
  the target) and `x-to-state` -> 200 entity, 404, 409 (Error) when the item is not in one of the
  transition's from-states or a count limit forbids the target state.
- summary `GET /api/<plural>/summaries/<kebab-name>`, operationId `get<PascalName>`,
  `x-summary: <name>` -> 200 array of `SummaryRow` `{group, value}`.
- every operation has `tags: [<Entity>]` and `x-story-ids` (the stories it serves).

Schemas: `<Entity>` (what the API returns; optional fields are nullable), `<Entity>Input` and
`<Entity>Update`. Field types map to JSON Schema with formats (`date`, `date-time`, `time`,
`email`, `uri`), `enum`, `minimum`/`maximum`, `maxLength`, `default`; money is a number with
`minimum: 0` unless the model states another minimum (`x-field-type: money`), free text a string
with `x-field-type: text`; a reference is an integer with `x-references: <Entity>`; a unique field
carries `x-unique: true`. A state field that transitions move (`Transition.field`) is `readOnly`
in `<Entity>`, starts at its default (else its first value) and is left out of `<Entity>Input` and
`<Entity>Update`: only its transitions change it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from assets.architecture.models import Entity, Summary, Transition
from assets.architecture.schemas import entity_schemas, field_schema
from assets.requirements.language import plural, snake_case

OPENAPI_VERSION = "3.1.0"
OperationKind = Literal["list", "create", "read", "update", "delete"]
OPERATION_ORDER: tuple[OperationKind, ...] = ("list", "create", "read", "update", "delete")
SEARCH_PARAMETER = "q"
SORT_PARAMETER = "sort"
SEARCHABLE_TYPES = frozenset({"string", "text", "email"})
SORTABLE_TYPES = frozenset(
    {"string", "integer", "number", "money", "date", "datetime", "time", "email", "enum"}
)


class EntityOperation(BaseModel):
    """One CRUD operation on an entity and the stories that need it."""

    kind: OperationKind
    story_ids: list[str] = Field(default_factory=list)
    parameters: list[str] = Field(
        default_factory=list,
        description="query parameters of a list operation: field names (exact match), 'q' (text "
        "search), 'sort'",
    )
    sort_fields: list[str] = Field(
        default_factory=list, description="fields a list may be sorted by (with 'sort'); empty: all sortable"
    )


def _split_pascal(name: str) -> str:
    out = ""
    for char in name:
        out += (" " + char) if char.isupper() and out else char
    return out


def collection_path(entity: str) -> str:
    """ "Task" -> "/api/tasks", "SupportTicket" -> "/api/support-tickets"."""
    parts = snake_case(_split_pascal(entity)).split("_")
    return "/api/" + "-".join([*parts[:-1], plural(parts[-1])])


def kebab_case(name: str) -> str:
    """ "mark_done" -> "mark-done"."""
    return snake_case(name).replace("_", "-")


def camel_case(name: str) -> str:
    """ "mark_done" -> "markDone"."""
    parts = snake_case(name).split("_")
    return parts[0] + "".join(part.capitalize() for part in parts[1:])


def operation_id(kind: OperationKind, entity: str) -> str:
    if kind == "list":
        parts = _split_pascal(entity).split()
        return "list" + "".join(parts[:-1]) + plural(parts[-1]).capitalize()
    return {"create": "create", "read": "get", "update": "update", "delete": "delete"}[kind] + entity


def transition_path(entity: str, transition: str) -> str:
    return f"{collection_path(entity)}/{{id}}/{kebab_case(transition)}"


def transition_operation_id(entity: str, transition: str) -> str:
    """ "ship", "Order" -> "shipOrder"."""
    return camel_case(transition) + entity


def summary_path(entity: str, summary: str) -> str:
    return f"{collection_path(entity)}/summaries/{kebab_case(summary)}"


def summary_operation_id(summary: str) -> str:
    """ "open_tasks_per_assignee" -> "getOpenTasksPerAssignee"."""
    return "get" + "".join(part.capitalize() for part in snake_case(summary).split("_"))


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
_INVALID = {"$ref": "#/components/responses/Invalid"}
_CONFLICT = {"$ref": "#/components/responses/Conflict"}


def _label(entity: str) -> str:
    return _split_pascal(entity).lower()


def _list_parameters(entity: Entity, operation: EntityOperation) -> list[dict[str, Any]]:
    words = _label(entity.name)
    fields = {field.name: field for field in entity.fields}
    parameters = []
    for name in sorted(set(operation.parameters)):
        if name == SEARCH_PARAMETER:
            searched = [f.name for f in entity.fields if f.type in SEARCHABLE_TYPES]
            schema: dict[str, Any] = {"type": "string"}
            description = "text to search for (any part of " + (", ".join(searched) or "the text") + ")"
        elif name == SORT_PARAMETER:
            sortable = [
                f.name
                for f in entity.fields
                if (f.name in operation.sort_fields or not operation.sort_fields)
                and (f.type in SORTABLE_TYPES or f.name == "id")
            ]
            schema = {"type": "string", "enum": [v for f in sortable for v in (f, f"-{f}")]}
            description = "the field to sort by; a leading '-' sorts descending"
        elif name in fields:
            schema = field_schema(
                fields[name].model_copy(update={"default": None, "unique": False}), nullable=False
            )
            description = f"only {plural(words)} with this {name.replace('_', ' ')}"
        else:
            schema = {"type": "string"}
            description = f"only {plural(words)} with this {name.replace('_', ' ')}"
        parameters.append(
            {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
        )
    return parameters


def _operation(
    kind: OperationKind, entity: Entity, operation: EntityOperation, conflicts: set[str]
) -> dict[str, Any]:
    name = entity.name
    words = _label(name)
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
    if kind == "list":
        parameters = _list_parameters(entity, operation)
        if parameters:
            body["parameters"] = parameters
        body["responses"] = {
            "200": {
                "description": f"The {plural(words)}",
                "content": _json({"type": "array", "items": _ref(name)}),
            }
        }
        if parameters:
            body["responses"]["422"] = _INVALID
    elif kind == "create":
        body["requestBody"] = {"required": True, "content": _json(_ref(f"{name}Input"))}
        body["responses"] = {
            "201": {"description": f"The new {words}", "content": _json(_ref(name))},
            "422": _INVALID,
        }
    elif kind == "read":
        body["responses"] = {
            "200": {"description": f"The {words}", "content": _json(_ref(name))},
            "404": _NOT_FOUND,
        }
    elif kind == "update":
        body["requestBody"] = {"required": True, "content": _json(_ref(f"{name}Update"))}
        body["responses"] = {
            "200": {"description": f"The updated {words}", "content": _json(_ref(name))},
            "404": _NOT_FOUND,
            "422": _INVALID,
        }
    else:
        body["responses"] = {"204": {"description": f"The {words} is deleted"}, "404": _NOT_FOUND}
    if kind in conflicts:
        body["responses"]["409"] = _CONFLICT
    return body


def _transition_operation(entity: Entity, transition: Transition) -> dict[str, Any]:
    words = _label(entity.name)
    starts = ", ".join(transition.from_states) or f"any state but {transition.to_state}"
    description = f"Moves {transition.field} from {starts} to {transition.to_state}."
    if transition.rule:
        description += f" Rule: {transition.rule}"
    return {
        "operationId": transition_operation_id(entity.name, transition.name),
        "summary": f"{transition.name.replace('_', ' ').capitalize()} a {words}",
        "description": description,
        "tags": [entity.name],
        "x-transition": transition.name,
        "x-state-field": transition.field,
        "x-from-states": list(transition.from_states),
        "x-to-state": transition.to_state,
        "x-story-ids": sorted(set(transition.story_ids)),
        "responses": {
            "200": {
                "description": f"The {words}, now {transition.to_state}",
                "content": _json(_ref(entity.name)),
            },
            "404": _NOT_FOUND,
            "409": _CONFLICT,
        },
    }


def _summary_operation(entity: Entity, summary: Summary) -> dict[str, Any]:
    words = _label(entity.name)
    measured = summary.measure if summary.field is None else f"{summary.measure} of {summary.field}"
    if summary.multiply_by:
        measured += f" * {summary.multiply_by}"
    description = f"The {measured} of {plural(words)}"
    if summary.where_field:
        description += f" where {summary.where_field} is {' or '.join(summary.where_values)}"
    description += f", per {summary.group_by}." if summary.group_by else " (one row, group null)."
    return {
        "operationId": summary_operation_id(summary.name),
        "summary": summary.name.replace("_", " ").capitalize(),
        "description": description,
        "tags": [entity.name],
        "x-summary": summary.name,
        "x-story-ids": sorted(set(summary.story_ids)),
        "responses": {
            "200": {
                "description": "One row per group",
                "content": _json({"type": "array", "items": _ref("SummaryRow")}),
            }
        },
    }


def _conflicts(entity: Entity, referenced: set[str]) -> set[str]:
    kinds: set[str] = set()
    if entity.limits or any(field.unique for field in entity.fields):
        kinds |= {"create", "update"}
    if entity.name in referenced:
        kinds.add("delete")
    return kinds


def render_openapi(
    title: str,
    entities: Sequence[Entity],
    operations: Mapping[str, Sequence[EntityOperation]],
    version: str = "0.1.0",
    description: str = "",
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `entities`: the CRUD operations given (entity name ->
    operations) and every entity's transitions and summaries."""
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
    referenced = {
        field.references for entity in entities for field in entity.fields if field.type == "reference"
    }
    methods = {"list": "get", "create": "post", "read": "get", "update": "patch", "delete": "delete"}
    id_parameter = [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    used_ids = {"getHealth"}
    for entity in sorted(entities, key=lambda entity: entity.name):
        schemas.update(entity_schemas(entity))
        by_kind = {operation.kind: operation for operation in operations.get(entity.name, [])}
        conflicts = _conflicts(entity, referenced)
        collection: dict[str, Any] = {}
        item: dict[str, Any] = {}
        for kind in OPERATION_ORDER:
            if kind in by_kind:
                target = collection if kind in ("list", "create") else item
                target[methods[kind]] = _operation(kind, entity, by_kind[kind], conflicts)
                used_ids.add(target[methods[kind]]["operationId"])
        base = collection_path(entity.name)
        if collection:
            paths[base] = collection
        if item:
            paths[base + "/{id}"] = {"parameters": id_parameter, **item}
        for transition in entity.transitions:
            path = transition_path(entity.name, transition.name)
            if path not in paths:
                paths[path] = {"parameters": id_parameter, "post": _transition_operation(entity, transition)}
                used_ids.add(paths[path]["post"]["operationId"])
        for summary in entity.summaries:
            path = summary_path(entity.name, summary.name)
            if path in paths:
                continue
            operation = _summary_operation(entity, summary)
            if operation["operationId"] in used_ids:
                operation["operationId"] += entity.name
            used_ids.add(operation["operationId"])
            paths[path] = {"get": operation}
            schemas["SummaryRow"] = {
                "type": "object",
                "properties": {
                    "group": {"type": ["string", "integer", "number", "boolean", "null"]},
                    "value": {"type": "number"},
                },
                "required": ["group", "value"],
            }
    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                "NotFound": {"description": "No such item", "content": _json(_ref("Error"))},
                "Invalid": {"description": "The request is not valid", "content": _json(_ref("Error"))},
                "Conflict": {
                    "description": "Not allowed in the item's current state (a rule, a limit, a "
                    "unique value or a reference)",
                    "content": _json(_ref("Error")),
                },
            },
        },
    }
    if description:
        document["info"]["description"] = description
    return document


def openapi_problem(document: Mapping[str, Any]) -> str | None:
    """None if `document` is a valid OpenAPI document, else the validator's reason."""
    import openapi_spec_validator  # imported here: slow to import, and only this check needs it

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
