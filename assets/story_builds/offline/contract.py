"""The API contract read as operations on the data model's entities.

CRUD (`<collection>` list and create, `<collection>/{id}` read, update and delete), transitions
(`POST <collection>/{id}/<name>`, `x-transition`) and summaries (`GET <collection>/summaries/<name>`,
`x-summary`): the operations the templates can serve. Everything else in the contract is left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from assets.architecture.models import Architecture, Entity
from assets.architecture.openapi import PathOperation, iter_operations, schema_refs
from assets.story_builds.offline.names import kebab

Kind = Literal["list", "create", "read", "update", "delete", "transition", "summary"]
KIND_ORDER: tuple[Kind, ...] = ("list", "create", "read", "update", "delete", "transition", "summary")
_CRUD: dict[tuple[bool, str], Kind] = {
    (False, "get"): "list",
    (False, "post"): "create",
    (True, "get"): "read",
    (True, "patch"): "update",
    (True, "put"): "update",
    (True, "delete"): "delete",
}


@dataclass(frozen=True)
class ContractOperation:
    entity: str
    kind: Kind
    method: str  # upper case
    path: str
    parameters: tuple[str, ...] = ()  # query parameters (list operations)
    story_ids: tuple[str, ...] = ()
    operation_id: str = ""
    name: str = ""  # the transition's or summary's name in the data model

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.entity, self.kind, self.name)


def _operation_entity(operation: Mapping[str, Any], names: set[str]) -> str | None:
    for tag in operation.get("tags") or []:
        if tag in names:
            return tag
    for ref in sorted(schema_refs({k: operation.get(k) for k in ("requestBody", "responses")})):
        for suffix in ("Input", "Update", "Create", ""):
            if ref.endswith(suffix) and ref[: len(ref) - len(suffix)] in names:
                return ref[: len(ref) - len(suffix)]
    return None


def _query(found: PathOperation) -> tuple[str, ...]:
    return tuple(
        str(parameter.get("name"))
        for parameter in [*found.path_parameters, *(found.operation.get("parameters") or [])]
        if isinstance(parameter, Mapping) and parameter.get("in") == "query"
    )


def _named(entity: Entity, kind: str, wanted: str) -> str | None:
    """The model name of the transition or summary a path segment or extension names."""
    items = entity.transitions if kind == "transition" else entity.summaries
    for item in items:
        if wanted in (item.name, kebab(item.name)):
            return item.name
    return None


def contract_operations(architecture: Architecture) -> list[ContractOperation]:
    """The contract's operations the templates can serve, in entity then KIND_ORDER order."""
    entities = {entity.name: entity for entity in architecture.data_model}
    names = set(entities)
    found: dict[tuple[str, str, str], ContractOperation] = {}
    every = list(iter_operations(architecture.openapi))
    # Untagged operations belong to the entity whose tagged paths they extend.
    prefixes = {
        item.path: name
        for item in every
        if (name := _operation_entity(item.operation, names)) and "{" not in item.path
    }
    for item in every:
        operation = item.operation
        segments = [segment for segment in item.path.split("/") if segment]
        params = [index for index, segment in enumerate(segments) if segment.startswith("{")]
        entity_name = _operation_entity(operation, names) or next(
            (name for prefix, name in sorted(prefixes.items()) if item.path.startswith(prefix + "/")), None
        )
        if entity_name is None:
            continue
        entity = entities[entity_name]
        kind: Kind | None = None
        name = ""
        if "x-transition" in operation or (
            item.method == "post" and len(params) == 1 and params[0] == len(segments) - 2
        ):
            wanted = str(operation.get("x-transition") or segments[-1])
            name = _named(entity, "transition", wanted) or ""
            kind = "transition" if name and item.method == "post" else None
        elif "x-summary" in operation or (len(segments) >= 2 and segments[-2] == "summaries" and not params):
            wanted = str(operation.get("x-summary") or segments[-1])
            name = _named(entity, "summary", wanted) or ""
            kind = "summary" if name and item.method == "get" else None
        elif not params or (len(params) == 1 and params[0] == len(segments) - 1):
            kind = _CRUD.get((bool(params), item.method))
        if kind is None or (entity_name, kind, name) in found:
            continue
        found[(entity_name, kind, name)] = ContractOperation(
            entity=entity_name,
            kind=kind,
            method=item.method.upper(),
            path=item.path,
            parameters=_query(item) if kind == "list" else (),
            story_ids=tuple(str(story) for story in item.story_ids),
            operation_id=str(operation.get("operationId") or ""),
            name=name,
        )
    # An entity's other paths must sit under its collection path, or they do not belong together.
    out = []
    for key, operation in sorted(found.items(), key=lambda pair: (pair[0][0], KIND_ORDER.index(pair[0][1]))):
        entity_name, kind, _ = key
        collection = next(
            (op.path for (e, k, _), op in found.items() if e == entity_name and k in ("list", "create")), None
        )
        if kind != "list" and kind != "create" and collection:
            if kind in ("read", "update", "delete") and operation.path.rsplit("/", 1)[0] != collection:
                continue
            if kind in ("transition", "summary") and not operation.path.startswith(collection + "/"):
                continue
        out.append(operation)
    return out
