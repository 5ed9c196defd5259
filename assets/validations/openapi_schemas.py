"""The OpenAPI document as the contract check reads it: operations, schemas, values from schemas.

`operations` lists the document's operations (through `assets.architecture.openapi.iter_operations`,
the one walker of its paths) with their parameters, request schema and responses resolved;
`sample_value` builds a deterministic value that satisfies a schema and `invalid_bodies` bodies
that break it (each checked against the schema with openapi-schema-validator, OpenAPI 3.1 dialect).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS31Validator
from rfc3339_validator import validate_rfc3339

from assets.architecture.openapi import iter_operations

METHODS = ("get", "post", "put", "patch", "delete")


class ContractDocumentError(ValueError):
    """The OpenAPI document cannot be used (a dangling `$ref`, a path item that is not an object, ...)."""


def resolve(document: Mapping[str, Any], node: Any) -> Any:
    """`node` with local `$ref`s (`#/components/...`) followed; other nodes are returned as they are."""
    seen: set[str] = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if not ref.startswith("#/") or ref in seen:
            raise ContractDocumentError(f"cannot follow $ref {ref!r} (only local, non-circular refs)")
        seen.add(ref)
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise ContractDocumentError(f"dangling $ref {ref!r}")
            target = target[part]
        node = target
    return node


@dataclass
class Operation:
    """One documented operation with its parameters, request schema and responses resolved."""

    method: str  # upper case
    path: str
    spec: Mapping[str, Any]
    parameters: list[Mapping[str, Any]]
    request_schema: Mapping[str, Any] | None
    responses: dict[str, Mapping[str, Any]]
    story_ids: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"\{([^}/]+)\}", self.path)

    def query_parameters(self) -> list[Mapping[str, Any]]:
        return [parameter for parameter in self.parameters if parameter.get("in") == "query"]

    def parameter_schema(self, name: str, where: str) -> Mapping[str, Any]:
        for parameter in self.parameters:
            if parameter.get("name") == name and parameter.get("in") == where:
                return parameter.get("schema") or {}
        return {}

    def documented(self, status: int) -> str | None:
        """The response key that documents `status` ("404", "4XX" or "default"), or None."""
        keys = {key.upper(): key for key in self.responses}
        for candidate in (str(status), f"{status // 100}XX", "DEFAULT"):
            if candidate in keys:
                return keys[candidate]
        return None

    def statuses(self, family: int | None = None) -> list[str]:
        keys = sorted(self.responses)
        return [key for key in keys if family is None or key[:1] == str(family)]


def operations(document: Mapping[str, Any]) -> list[Operation]:
    """Every operation of the document the check drives (GET, POST, PUT, PATCH, DELETE), by path."""
    paths = document.get("paths") or {}
    if not isinstance(paths, Mapping):
        raise ContractDocumentError("`paths` is not an object")
    broken = sorted(str(path) for path, item in paths.items() if not isinstance(item, Mapping))
    if broken:
        raise ContractDocumentError(f"path item {broken[0]!r} is not an object")
    out = []
    for found in iter_operations(document):
        if found.method not in METHODS:
            continue
        spec = found.operation
        shared = [resolve(document, parameter) for parameter in found.path_parameters]
        own = [resolve(document, parameter) for parameter in spec.get("parameters") or []]
        keys = {(parameter.get("name"), parameter.get("in")) for parameter in own}
        parameters = [p for p in shared if (p.get("name"), p.get("in")) not in keys] + own
        request_schema = None
        body = resolve(document, spec.get("requestBody")) if spec.get("requestBody") else None
        if isinstance(body, Mapping):
            media = (body.get("content") or {}).get("application/json")
            if isinstance(media, Mapping) and isinstance(media.get("schema"), Mapping):
                request_schema = media["schema"]
        responses = {
            str(status): resolve(document, response)
            for status, response in (spec.get("responses") or {}).items()
        }
        out.append(
            Operation(
                method=found.method.upper(),
                path=str(found.path),
                spec=spec,
                parameters=parameters,
                request_schema=request_schema,
                responses=responses,
                story_ids=tuple(str(story) for story in found.story_ids),
            )
        )
    return out


def expected_operations(document: Mapping[str, Any], built: Collection[str]) -> set[str]:
    """The operations the backend must serve: those the built stories enabled ('METHOD /path'),
    and those no story is attributed to (`x-story-ids` empty: health, the skeleton's own)."""
    return {op.label for op in operations(document) if op.label in built or not op.story_ids}


def _time(value: object) -> bool:
    """An RFC 3339 time of day: `full-time` (with an offset) or `partial-time` (without one)."""
    if not isinstance(value, str):
        return True
    return validate_rfc3339(f"1970-01-01T{value}") or validate_rfc3339(f"1970-01-01T{value}Z")


URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")


def _uri(value: object) -> bool:
    """An absolute URI (RFC 3986: a scheme, a colon, then no spaces or characters it excludes)."""
    return not isinstance(value, str) or bool(URI.match(value))


# The OpenAPI 3.1 format checks, with `time` as RFC 3339 reads it (the library's is the draft-3 one,
# exactly HH:MM:SS, which refuses an offset: "09:30:00Z"), and `uri`, which the library checks only
# when an optional package is installed.
FORMATS = FormatChecker()
FORMATS.checkers = {
    "uri": (_uri, ()),
    **OAS31Validator.FORMAT_CHECKER.checkers,
    "time": (_time, ()),
}


def schema_validator(document: Mapping[str, Any], schema: Mapping[str, Any]) -> OAS31Validator:
    """A validator for `schema` whose local `#/components/...` refs resolve in `document`."""
    root = {**schema, "components": document.get("components") or {}}
    return OAS31Validator(root, format_checker=FORMATS)


def schema_problem(document: Mapping[str, Any], schema: Mapping[str, Any], instance: Any) -> str | None:
    error = best_match(schema_validator(document, schema).iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{error.message}" + (f" (at /{where})" if where else "")


def first_type(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        return next((item for item in kind if item != "null"), kind[0] if kind else None)
    if kind is None and "properties" in schema:
        return "object"
    return kind


def sample_value(
    document: Mapping[str, Any], schema: Any, name: str = "value", variant: int = 1, depth: int = 0
) -> Any:
    """A deterministic value that satisfies `schema` (type, format, enum, bounds, required)."""
    schema = resolve(document, schema)
    if not isinstance(schema, Mapping) or depth > 8:
        return None
    if "const" in schema:
        return schema["const"]
    enum = [item for item in schema.get("enum") or [] if item is not None]
    if enum:
        return enum[(variant - 1) % len(enum)]
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = sample_value(document, part, name, variant, depth + 1)
            if not isinstance(value, dict):
                return value
            merged.update(value)
        return merged
    for key in ("oneOf", "anyOf"):
        options = [resolve(document, option) for option in schema.get(key) or []]
        options = [option for option in options if first_type(option) != "null"] or options
        if options:
            return sample_value(document, options[0], name, variant, depth + 1)
    kind = first_type(schema)
    if kind == "string":
        day = (variant - 1) % 28 + 1
        formats = {
            "date": f"2030-01-{day:02d}",
            "date-time": f"2030-01-{day:02d}T09:30:00Z",
            "time": "09:30:00Z",
            "email": f"person{variant}@example.com",
            "uri": f"https://example.com/{variant}",
            "uuid": f"00000000-0000-4000-8000-{variant:012d}",
        }
        text = formats.get(str(schema.get("format")), f"{name.replace('_', ' ')} {variant}")
        minimum, maximum = int(schema.get("minLength") or 0), schema.get("maxLength")
        text = text.ljust(minimum, "x")
        return text[: int(maximum)] if maximum is not None else text
    if kind in ("integer", "number"):
        return _number(schema, variant, integer=kind == "integer")
    if kind == "boolean":
        return variant % 2 == 1
    if kind == "array":
        count = max(int(schema.get("minItems") or 0), 1)
        return [
            sample_value(document, schema.get("items") or {}, name, variant + i, depth + 1)
            for i in range(count)
        ]
    if kind == "object":
        out = {}
        for key, child in (schema.get("properties") or {}).items():
            child = resolve(document, child)
            if isinstance(child, Mapping) and child.get("readOnly"):
                continue
            out[key] = sample_value(document, child, key, variant, depth + 1)
        return out
    if kind == "null":
        return None
    return f"{name} {variant}"


def _number(schema: Mapping[str, Any], variant: int, *, integer: bool) -> int | float:
    """A number within the schema's bounds (inclusive or exclusive), different per variant where the
    range allows: the low bound plus the variant (and a half, for a number), else a point inside."""
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))

    def inside(value: float) -> bool:
        above = low is None or (value > low if "minimum" not in schema else value >= low)
        below = high is None or (value < high if "maximum" not in schema else value <= high)
        return above and below

    value: float = (0 if low is None else low) + max(variant, 1) + (0 if integer else 0.5)
    if not inside(value) and high is not None:
        start = float(high) - 1 if low is None else float(low)
        value = start + (float(high) - start) * (variant % 7 + 1) / 8  # strictly between the bounds
    if not integer:
        return float(value)
    bounds = [float(b) for b in (low, high) if b is not None]
    candidates = [
        math.floor(value),
        math.ceil(value),
        *(math.ceil(b) for b in bounds),
        *map(math.floor, bounds),
    ]
    return next((int(c) for c in candidates if inside(c)), int(value))


def wrong_value(document: Mapping[str, Any], schema: Any) -> Any:
    """A value of a JSON type `schema` does not allow (a number where a string is wanted, ...)."""
    schema = resolve(document, schema)
    kinds = schema.get("type") if isinstance(schema, Mapping) else None
    allowed = set(kinds if isinstance(kinds, list) else [kinds] if kinds else [])
    candidates: list[tuple[Any, set[str]]] = [
        (12345, {"integer", "number"}),
        ("not a number", {"string"}),
        ({"not": "this"}, {"object"}),
        ([None], {"array"}),
    ]
    return next((value for value, types in candidates if not types & allowed), None)


def invalid_bodies(
    document: Mapping[str, Any], schema: Mapping[str, Any], valid: Any
) -> list[tuple[str, Any]]:
    """(what is wrong, body) pairs that break `schema`, each checked to really be invalid."""
    resolved = resolve(document, schema)
    candidates: list[tuple[str, Any]] = []
    if isinstance(valid, dict) and isinstance(resolved, Mapping):
        required = [name for name in resolved.get("required") or [] if name in valid]
        if required:
            candidates.append(
                (f"without the required {required[0]}", {k: v for k, v in valid.items() if k != required[0]})
            )
        elif int(resolved.get("minProperties") or 0) > 0:
            candidates.append(("an empty object", {}))
        properties = resolved.get("properties") or {}
        for name in valid:
            if name in properties:
                candidates.append(
                    (f"{name} of the wrong type", {**valid, name: wrong_value(document, properties[name])})
                )
                break
    else:
        candidates.append(
            ("a JSON value of the wrong type", {"not": "this"} if not isinstance(valid, dict) else 1)
        )
    return [(what, body) for what, body in candidates if schema_problem(document, schema, body)]
