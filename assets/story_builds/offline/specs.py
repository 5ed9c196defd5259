"""What the generated backend serves so far: per entity its paths and the operations stories enabled."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assets.architecture.models import Architecture, Entity
from assets.story_builds.offline.contract import ContractOperation
from assets.story_builds.offline.entity_fields import data_fields


@dataclass(frozen=True)
class ResourceSpec:
    entity: Entity
    collection_path: str
    item_path: str
    operations: tuple[tuple[ContractOperation, tuple[str, ...]], ...]  # (operation, stories)
    list_parameters: tuple[str, ...]

    def op(self, kind: str, name: str = "") -> ContractOperation | None:
        return next((op for op, _ in self.operations if op.kind == kind and op.name == name), None)

    def has(self, kind: str, name: str = "") -> bool:
        return self.op(kind, name) is not None

    def method(self, kind: str, name: str = "") -> str:
        found = self.op(kind, name)
        assert found is not None, (self.entity.name, kind, name)
        return found.method

    def path(self, kind: str, name: str = "") -> str:
        found = self.op(kind, name)
        assert found is not None, (self.entity.name, kind, name)
        return found.path

    @property
    def stories(self) -> list[str]:
        return sorted({story for _, stories in self.operations for story in stories})


def resource_specs(
    architecture: Architecture,
    operations: Sequence[ContractOperation],
    enabled: Mapping[tuple[str, str, str], list[str]],
) -> list[ResourceSpec]:
    """One spec per entity with an enabled operation, plus the entities those refer to (served with
    no operation, so their tables exist and references to them can be checked)."""
    entities = {entity.name: entity for entity in architecture.data_model}
    served = {op.entity for op in operations if op.key in enabled}
    wanted = set(served)
    grew = True
    while grew:
        grew = False
        for name in sorted(wanted):
            for field in data_fields(entities[name]):
                target = field.references
                if field.type == "reference" and target in entities and target not in wanted:
                    wanted.add(target)
                    grew = True
    specs = []
    for name in sorted(wanted):
        entity = entities[name]
        mine = [op for op in operations if op.entity == name and op.key in enabled]
        everything = [op for op in operations if op.entity == name]
        collection = next((op.path for op in everything if op.kind in ("list", "create")), None)
        item = next((op.path for op in everything if op.kind in ("read", "update", "delete")), None)
        collection = collection or (item.rsplit("/", 1)[0] if item else "")
        if not collection:
            collection = "/api/_" + name.lower()
        item = item or f"{collection}/{{id}}"
        field_names = {field.name for field in data_fields(entity)}
        listing = next((op for op in mine if op.kind == "list"), None)
        parameters = tuple(
            p for p in (listing.parameters if listing else ()) if p in ("q", "sort") or p in field_names
        )
        specs.append(
            ResourceSpec(
                entity=entity,
                collection_path=collection,
                item_path=item,
                operations=tuple((op, tuple(enabled[op.key])) for op in mine),
                list_parameters=parameters,
            )
        )
    return specs
