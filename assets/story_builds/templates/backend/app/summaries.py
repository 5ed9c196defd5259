"""Summary reports over a resource's records: count, sum or average, grouped, filtered."""

from __future__ import annotations

from typing import Any

from app.resource import Resource, Summary
from app.store import Store


def summarize(store: Store, resource: Resource, summary: Summary | None) -> list[dict[str, Any]]:
    """`[{"group": value or None, "value": number}, ...]` ordered by group (None first)."""
    if summary is None:
        return []
    rows = store.find(resource, {})
    if summary.where_field:
        rows = [row for row in rows if row.get(summary.where_field) in summary.where_values]
    groups: dict[Any, list[dict[str, Any]]] = {}
    if summary.group_by is None:
        groups[None] = rows
    for row in rows:
        if summary.group_by is not None:
            groups.setdefault(row.get(summary.group_by), []).append(row)
    out = []
    for group, members in sorted(groups.items(), key=lambda pair: (pair[0] is not None, str(pair[0]))):
        out.append({"group": group, "value": _measure(summary, members)})
    return out


def _amount(summary: Summary, row: dict[str, Any]) -> float | None:
    value = row.get(summary.field or "")
    if value is None:
        return None
    if summary.multiply_by:
        factor = row.get(summary.multiply_by)
        if factor is None:
            return None
        value = value * factor
    return value


def _measure(summary: Summary, rows: list[dict[str, Any]]) -> float | int:
    if summary.measure == "count" or not summary.field:
        return len(rows)
    amounts = [amount for row in rows if (amount := _amount(summary, row)) is not None]
    if summary.measure == "average":
        return round(sum(amounts) / len(amounts), 6) if amounts else 0
    total = sum(amounts)
    return round(total, 6) if isinstance(total, float) else total
