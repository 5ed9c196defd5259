"""Request bodies and query parameters checked against a resource's fields (the API contract's schemas).

Types, required and empty values, enum values, minimum/maximum and maximum length are checked here;
rules that need the stored records (references, unique values, count limits) are the server's.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from app.resource import Field, Resource

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
# HH:MM as a person types it, or an RFC 3339 time (the contract's `format: time`): seconds, offset
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?$")
TEXT_TYPES = ("string", "text", "email", "url", "enum", "date", "datetime", "time")
EXPECTED = {
    "string": "text",
    "text": "text",
    "integer": "a whole number",
    "number": "a number",
    "money": "an amount of money (a number)",
    "boolean": "true or false",
    "date": "a date (YYYY-MM-DD)",
    "datetime": "a date and time (ISO 8601, YYYY-MM-DDTHH:MM:SS)",
    "time": "a time of day (HH:MM, or HH:MM:SS with an optional offset)",
    "email": "an e-mail address",
    "url": "a web address (http:// or https://)",
    "enum": "one of the allowed values",
    "reference": "the id of an existing record",
}


class ValidationError(Exception):
    """The request does not match the contract; `problems` says why, field by field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _parses(parse: Any, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _type_ok(field: Field, value: Any) -> bool:
    kind = field.type
    if kind in ("integer", "reference"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("number", "money"):
        return isinstance(value, int | float) and not isinstance(value, bool) and value == value
    if kind == "boolean":
        return isinstance(value, bool)
    if not isinstance(value, str):
        return False
    if kind == "date":
        return len(value) == 10 and _parses(dt.date.fromisoformat, value)
    if kind == "datetime":
        return "T" in value and _parses(dt.datetime.fromisoformat, value)
    if kind == "time":
        return bool(TIME.match(value))
    if kind == "email":
        return bool(EMAIL.match(value))
    if kind == "url":
        return bool(URL.match(value))
    return True


def check_value(field: Field, value: Any) -> str | None:
    """Why `value` is not a valid value of `field`, or None."""
    if not _type_ok(field, value):
        return f"{field.name}: expected {EXPECTED.get(field.type, field.type)}, got {value!r}"
    if field.type == "enum" and field.values and value not in field.values:
        allowed = ", ".join(repr(item) for item in field.values)
        return f"{field.name}: {value!r} is not one of {allowed}"
    if field.type in ("integer", "number", "money"):
        minimum = field.minimum if field.minimum is not None else (0 if field.type == "money" else None)
        if minimum is not None and value < minimum:
            return f"{field.name}: {value!r} is below the minimum {minimum:g}"
        if field.maximum is not None and value > field.maximum:
            return f"{field.name}: {value!r} is above the maximum {field.maximum:g}"
    if isinstance(value, str) and field.max_length is not None and len(value) > field.max_length:
        return f"{field.name}: longer than {field.max_length} characters"
    if field.required and isinstance(value, str) and not value.strip():
        return f"{field.name}: required, may not be empty"
    return None


def validate_body(resource: Resource, body: Any, *, partial: bool) -> dict[str, Any]:
    """The known fields of `body`, checked; `partial` for an update that sets only some fields.
    A create fills a missing field from its default."""
    if not isinstance(body, dict):
        raise ValidationError(["the request body must be a JSON object"])
    problems: list[str] = []
    values: dict[str, Any] = {}
    for field in resource.fields:
        if field.read_only:  # never taken from a body; a new record starts at the default
            if not partial and field.default is not None:
                values[field.name] = field.default
            continue
        if field.name not in body:
            if not partial and field.default is not None:
                values[field.name] = field.default
            elif field.required and not partial:
                problems.append(f"{field.name}: required")
            continue
        value = body[field.name]
        if value is None:
            if field.required:
                problems.append(f"{field.name}: required, may not be null")
            else:
                values[field.name] = None
            continue
        problem = check_value(field, value)
        if problem:
            problems.append(problem)
        else:
            values[field.name] = value
    if partial and not values and not problems:
        problems.append(
            "nothing to update: give at least one of "
            + ", ".join(f.name for f in resource.fields if not f.read_only)
        )
    if problems:
        raise ValidationError(problems)
    return values


def parse_query_value(field: Field, text: str) -> Any:
    """A query-string value converted to the field's type, or ValidationError."""
    value: Any = text
    if field.type in ("integer", "reference"):
        try:
            value = int(text)
        except ValueError:
            value = text
    elif field.type in ("number", "money"):
        try:
            value = float(text)
        except ValueError:
            value = text
    elif field.type == "boolean":
        value = {"true": True, "1": True, "false": False, "0": False}.get(text.lower(), text)
    if not _type_ok(field, value) or (field.type == "enum" and field.values and value not in field.values):
        raise ValidationError(
            [f"{field.name}: expected {EXPECTED.get(field.type, field.type)}, got {text!r}"]
        )
    return value
