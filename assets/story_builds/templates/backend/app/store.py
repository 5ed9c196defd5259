"""SQLite persistence: one table per resource, created (and extended by new fields) at start-up."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.resource import SEARCHED_TYPES, Resource

_COLUMN_TYPES = {
    "integer": "INTEGER",
    "reference": "INTEGER",
    "boolean": "INTEGER",
    "number": "REAL",
    "money": "REAL",
}


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Store:
    def __init__(self, path: str | Path, resources: Sequence[Resource]) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.resources = list(resources)
        self.migrate()

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.row_factory = sqlite3.Row
        try:
            with connection:  # commits, or rolls back on an exception
                yield connection
        finally:
            connection.close()

    def migrate(self) -> None:
        with self.connect() as db:
            for resource in self.resources:
                table = quote(resource.table)
                db.execute(f"CREATE TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY AUTOINCREMENT)")
                present = {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}
                for field in resource.fields:
                    if field.name not in present:
                        column = _COLUMN_TYPES.get(field.type, "TEXT")
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {quote(field.name)} {column}")

    @staticmethod
    def _out(resource: Resource, row: sqlite3.Row) -> dict[str, Any]:
        item: dict[str, Any] = {"id": row["id"]}
        for field in resource.fields:
            value = row[field.name]
            if field.type == "boolean" and value is not None:
                value = bool(value)
            item[field.name] = value
        return item

    def insert(self, resource: Resource, values: dict[str, Any]) -> dict[str, Any]:
        with self.connect() as db:
            if values:
                columns = ", ".join(quote(name) for name in values)
                marks = ", ".join("?" for _ in values)
                sql = f"INSERT INTO {quote(resource.table)} ({columns}) VALUES ({marks})"
                cursor = db.execute(sql, list(values.values()))
            else:
                cursor = db.execute(f"INSERT INTO {quote(resource.table)} DEFAULT VALUES")
            row = db.execute(
                f"SELECT * FROM {quote(resource.table)} WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
        return self._out(resource, row)

    def get(self, resource: Resource, item_id: int) -> dict[str, Any] | None:
        with self.connect() as db:
            row = db.execute(f"SELECT * FROM {quote(resource.table)} WHERE id = ?", (item_id,)).fetchone()
        return None if row is None else self._out(resource, row)

    def find(
        self,
        resource: Resource,
        equal: dict[str, Any],
        text: str | None = None,
        sort: tuple[str, bool] | None = None,
    ) -> list[dict[str, Any]]:
        """Records whose fields equal `equal`, containing `text` (any case) in a text field, ordered by
        `sort` (field, descending) then id."""
        clauses, arguments = [], []
        for name, value in equal.items():
            clauses.append(f"{quote(name)} = ?")
            arguments.append(value)
        if text:
            strings = [field.name for field in resource.fields if field.type in SEARCHED_TYPES]
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            alternatives = [f"{quote(name)} LIKE ? ESCAPE '\\'" for name in strings]
            clauses.append("(" + (" OR ".join(alternatives) or "0") + ")")
            arguments.extend(pattern for _ in strings)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        order = "id"
        if sort is not None:
            order = f"{quote(sort[0])} {'DESC' if sort[1] else 'ASC'}, id"
        with self.connect() as db:
            rows = db.execute(
                f"SELECT * FROM {quote(resource.table)}{where} ORDER BY {order}", arguments
            ).fetchall()
        return [self._out(resource, row) for row in rows]

    def count(
        self,
        resource: Resource,
        equal: dict[str, Any],
        within: tuple[str, Sequence[Any]] | None = None,
        exclude_id: int | None = None,
    ) -> int:
        """How many records equal `equal`, have `within[0]` in `within[1]`, and are not `exclude_id`."""
        clauses = [f"{quote(key)} = ?" for key in equal]
        arguments = list(equal.values())
        if within is not None:
            clauses.append(f"{quote(within[0])} IN ({', '.join('?' for _ in within[1]) or 'NULL'})")
            arguments.extend(within[1])
        if exclude_id is not None:
            clauses.append("id != ?")
            arguments.append(exclude_id)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self.connect() as db:
            return db.execute(f"SELECT COUNT(*) FROM {quote(resource.table)}{where}", arguments).fetchone()[0]

    def update(self, resource: Resource, item_id: int, values: dict[str, Any]) -> dict[str, Any] | None:
        with self.connect() as db:
            if values:
                assignments = ", ".join(f"{quote(name)} = ?" for name in values)
                db.execute(
                    f"UPDATE {quote(resource.table)} SET {assignments} WHERE id = ?",
                    [*values.values(), item_id],
                )
            row = db.execute(f"SELECT * FROM {quote(resource.table)} WHERE id = ?", (item_id,)).fetchone()
        return None if row is None else self._out(resource, row)

    def delete(self, resource: Resource, item_id: int) -> bool:
        with self.connect() as db:
            cursor = db.execute(f"DELETE FROM {quote(resource.table)} WHERE id = ?", (item_id,))
        return cursor.rowcount > 0
