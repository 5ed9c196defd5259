"""Deterministic sample values for generated tests, valid (or deliberately invalid) for each field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assets.architecture.models import EntityField
from assets.story_builds.offline.names import entity_label

WORDS = ("", "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")


@dataclass(frozen=True)
class Ref:
    """The id of a record a generated test created before, held in the local variable `variable`."""

    variable: str


def sample_value(entity: str, field: EntityField, variant: int) -> Any:
    """A valid value of `field`; different variants give different values (where the type allows)."""
    word = WORDS[variant % len(WORDS)] or "zulu"
    kind = field.type
    if kind in ("string", "text"):
        prefix = "Notes on" if kind == "text" else entity_label(entity).capitalize()
        text = f"{prefix} {field.name.replace('_', ' ')} {word}"
        if field.max_length is not None and len(text) > field.max_length:
            text = f"{word} {variant}"[: field.max_length]
        return text
    if kind in ("integer", "number", "money"):
        low = field.minimum if field.minimum is not None else (0 if kind == "money" else 0)
        step = {"integer": 1, "number": 1.5, "money": 10.25}[kind]
        value = low + variant * step
        if field.maximum is not None and value > field.maximum:
            span = field.maximum - low
            value = low + (span * variant / (variant + 1) if kind != "integer" else min(variant, span))
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return variant % 2 == 0
    # Dates and times in the contract's formats (RFC 3339 `date`, `date-time` and `time`: a time
    # carries seconds and an offset), each a real day for any variant.
    day = f"2030-{variant // 28 % 12 + 1:02d}-{variant % 28 + 1:02d}"
    if kind == "date":
        return day
    if kind == "datetime":
        return f"{day}T09:30:00Z"
    if kind == "time":
        return f"{(8 + variant) % 24:02d}:30:00Z"
    if kind == "email":
        return f"{word}{variant}@example.com"
    if kind == "url":
        return f"https://example.com/{word}"
    if kind == "enum":
        return field.values[(variant - 1) % len(field.values)] if field.values else word
    return word


def other_value(entity: str, field: EntityField, value: Any, variant: int = 3) -> Any:
    """A valid value of `field` that differs from `value`."""
    if field.type == "boolean":
        return not value
    if field.type == "enum" and field.values:
        return next((item for item in field.values if item != value), value)
    for candidate in range(variant, variant + 8):
        other = sample_value(entity, field, candidate)
        if other != value:
            return other
    return value


def wrong_type(field: EntityField) -> Any:
    """A value of the wrong JSON type for `field`."""
    if field.type in ("integer", "number", "money", "reference"):
        return "twelve"
    if field.type == "boolean":
        return "yes"
    return 12345


def invalid_value(field: EntityField) -> tuple[Any, str] | None:
    """A value of the right JSON type that breaks a rule of `field`, and which rule; None if none."""
    kind = field.type
    if kind in ("integer", "number", "money"):
        minimum = field.minimum if field.minimum is not None else (0 if kind == "money" else None)
        if minimum is not None:
            value = minimum - 1
            return (int(value) if kind == "integer" else float(value)), "below the minimum"
        if field.maximum is not None:
            value = field.maximum + 1
            return (int(value) if kind == "integer" else float(value)), "above the maximum"
        return None
    if kind == "enum" and field.values:
        return "not-one-of-the-values", "not an allowed value"
    if kind == "reference":
        return 999999, "a reference to a record that does not exist"
    invalid = {
        "email": "not-an-email",
        "url": "not a web address",
        "date": "2030-13-45",
        "datetime": "not a time",
        "time": "25:99",
    }
    if kind in invalid:
        return invalid[kind], f"not a valid {kind}"
    if kind in ("string", "text"):
        if field.max_length is not None:
            return "x" * (field.max_length + 1), "too long"
        if field.required:
            return "   ", "empty"
    return None
