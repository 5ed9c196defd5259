"""JSON Schemas of the data model: one per field, and per entity what the API returns
(`<Entity>`), what a client sends to create (`<Entity>Input`) and to change (`<Entity>Update`).

The field-type conventions are listed in `assets.architecture.openapi`.
"""

from __future__ import annotations

from typing import Any

from assets.architecture.models import Entity, EntityField

_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "text": {"type": "string", "x-field-type": "text"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "money": {"type": "number", "x-field-type": "money"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "time": {"type": "string", "format": "time"},
    "email": {"type": "string", "format": "email"},
    "url": {"type": "string", "format": "uri"},
    "enum": {"type": "string"},
    "reference": {"type": "integer"},
}


def state_fields(entity: Entity) -> set[str]:
    """The fields only transitions change."""
    return {transition.field for transition in entity.transitions}


def field_schema(field: EntityField, *, nullable: bool) -> dict[str, Any]:
    """The JSON Schema of one field's value."""
    schema = dict(_TYPES[field.type])
    if field.type == "enum" and field.values:
        schema["enum"] = list(field.values)
    if field.type == "reference" and field.references:
        schema["x-references"] = field.references
    if field.type in ("integer", "number", "money"):
        minimum = field.minimum if field.minimum is not None else (0 if field.type == "money" else None)
        if minimum is not None:
            schema["minimum"] = int(minimum) if field.type == "integer" else minimum
        if field.maximum is not None:
            schema["maximum"] = int(field.maximum) if field.type == "integer" else field.maximum
    if field.max_length is not None and schema["type"] == "string":
        schema["maxLength"] = field.max_length
    if field.unique:
        schema["x-unique"] = True
    if field.default is not None:
        schema["default"] = field.default
    if nullable:
        schema["type"] = [schema["type"], "null"]
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
    return schema


def entity_schemas(entity: Entity) -> dict[str, dict[str, Any]]:
    fields = [field for field in entity.fields if field.name != "id"]
    states = state_fields(entity)
    properties: dict[str, Any] = {"id": {"type": "integer", "readOnly": True}}
    for field in fields:
        schema = field_schema(field, nullable=not field.required and field.name not in states)
        if field.name in states:
            schema["readOnly"] = True
            if "default" not in schema and field.values:
                schema["default"] = field.values[0]
        properties[field.name] = schema
    full: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": ["id", *(field.name for field in fields if field.required or field.name in states)],
    }
    writable = [field for field in fields if field.name not in states]
    create: dict[str, Any] = {
        "type": "object",
        "properties": {field.name: field_schema(field, nullable=not field.required) for field in writable},
    }
    required = [field.name for field in writable if field.required]
    if required:
        create["required"] = required
    update = {
        "type": "object",
        "properties": {field.name: field_schema(field, nullable=not field.required) for field in writable},
        "minProperties": 1,
    }
    return {entity.name: full, f"{entity.name}Input": create, f"{entity.name}Update": update}
