"""Request bodies and query parameters checked against a resource's fields (the API contract's schemas)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.resource import Field, Resource


class ValidationError(Exception):
    """The request does not match the contract; `problems` says why, field by field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _problem(field: Field, value: Any) -> str | None:
    kind = field.type
    if kind == "string":
        ok = isinstance(value, str)
    elif kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "date":
        ok = isinstance(value, str) and _parses(dt.date.fromisoformat, value) and len(value) == 10
    elif kind == "datetime":
        ok = isinstance(value, str) and "T" in value and _parses(dt.datetime.fromisoformat, value)
    else:
        ok = False
    if ok:
        return None
    expected = {"date": "a date (YYYY-MM-DD)", "datetime": "a date and time (ISO 8601)"}.get(
        kind, f"a {kind}"
    )
    return f"{field.name}: expected {expected}, got {value!r}"


def _parses(parse: Any, value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def validate_body(resource: Resource, body: Any, *, partial: bool) -> dict[str, Any]:
    """The known fields of `body`, checked; `partial` for an update that sets only some fields."""
    if not isinstance(body, dict):
        raise ValidationError(["the request body must be a JSON object"])
    problems: list[str] = []
    values: dict[str, Any] = {}
    for field in resource.fields:
        if field.name not in body:
            if field.required and not partial:
                problems.append(f"{field.name}: required")
            continue
        value = body[field.name]
        if value is None:
            if field.required:
                problems.append(f"{field.name}: required, may not be null")
            else:
                values[field.name] = None
            continue
        problem = _problem(field, value)
        if problem:
            problems.append(problem)
        else:
            values[field.name] = value
    if partial and not values and not problems:
        problems.append(
            "nothing to update: give at least one of " + ", ".join(f.name for f in resource.fields)
        )
    if problems:
        raise ValidationError(problems)
    return values


def parse_query_value(field: Field, text: str) -> Any:
    """A query-string value converted to the field's type, or ValidationError."""
    value: Any = text
    if field.type == "integer":
        try:
            value = int(text)
        except ValueError:
            value = text
    elif field.type == "number":
        try:
            value = float(text)
        except ValueError:
            value = text
    elif field.type == "boolean":
        value = {"true": True, "1": True, "false": False, "0": False}.get(text.lower(), text)
    problem = _problem(field, value)
    if problem:
        raise ValidationError([problem])
    return value
