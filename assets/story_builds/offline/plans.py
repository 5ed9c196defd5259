"""A criterion's test plan (`CriterionPlan`: which kind of test, on which entity, calling which
operations) and the view of the data model and API contract the planning rules share (`PlanModel`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from assets.architecture.models import Architecture, Entity
from assets.requirements.language import verb_objects
from assets.requirements.models import AcceptanceCriterion, UserStory
from assets.story_builds.offline.actions import Action
from assets.story_builds.offline.contract import ContractOperation
from assets.story_builds.offline.entity_fields import data_fields
from assets.story_builds.offline.names import split_pascal
from assets.story_builds.offline.wording import mentions, stem_word, stems, verb_entity

PlanKind = Literal[
    "create",
    "validate",
    "invalid",
    "read",
    "update",
    "delete",
    "list",
    "sort",
    "transition",
    "limit",
    "unique",
    "delete_referenced",
    "summary",
]
Key = tuple[str, str, str]  # (entity, kind, name) of a contract operation


@dataclass(frozen=True)
class CriterionPlan:
    criterion: AcceptanceCriterion
    kind: PlanKind
    entity: str
    field: str | None = None  # the field updated, missing, invalid, unique, sorted by, or referring
    list_parameters: tuple[str, ...] = ()
    name: str = ""  # transition or summary
    child: str | None = None  # delete_referenced: the entity whose records refer
    refused_from: str | None = None  # transition: a state the criterion says it is refused from
    needs: tuple[Key, ...] = ()  # every operation the test calls

    def describe(self, label: str) -> str:
        text = f"{self.kind} {self.entity} ({label})"
        if self.kind == "validate":
            text += f" refusing a missing {self.field}"
        elif self.kind == "invalid":
            text += f" refusing an invalid {self.field}"
        elif self.kind == "update":
            text += f" setting {self.field}"
        elif self.kind == "sort":
            text += f" sorted by {self.field}"
        elif self.kind in ("transition", "summary"):
            text += f" {self.name}"
            if self.refused_from:
                text += f" refused from {self.refused_from}"
        elif self.kind == "unique":
            text += f" refusing a second {self.field}"
        elif self.kind == "delete_referenced":
            text += f" refused while a {self.child} refers to it"
        if self.list_parameters:
            text += f" by {', '.join(self.list_parameters)}"
        return text


class Cannot(Exception):
    """The criterion cannot be tested; the message says why."""


@dataclass
class PlanModel:
    architecture: Architecture
    story: UserStory
    own: Sequence[ContractOperation]
    operations: Sequence[ContractOperation]

    def __post_init__(self) -> None:
        self.when = ""  # the criterion's when-clause, set while it is planned
        self.action = ""  # the same from its action verb on, the verb as written ("book a desk")
        self.act = Action("none")  # what its verb does to the data model (`actions.read_action`)
        self.entities = {entity.name: entity for entity in self.architecture.data_model}
        self.by_key = {operation.key: operation for operation in self.operations}

    def has(self, entity: str, kind: str, name: str = "") -> bool:
        return (entity, kind, name) in self.by_key

    def require(self, entity: str, kind: str, name: str = "") -> Key:
        if not self.has(entity, kind, name):
            what = f"{kind} operation" if not name else f"{kind} operation {name!r}"
            raise Cannot(f"the API contract has no {what} for {entity}, so a test cannot exercise it")
        return (entity, kind, name)

    def setup(self, entity: str, seen: frozenset[str] = frozenset()) -> list[Key]:
        """The operations creating one record of `entity` takes (its references' records first)."""
        keys = [self.require(entity, "create")]
        for field in data_fields(self.entities[entity]):
            if field.type != "reference":
                continue
            target = field.references or ""
            usable = target in self.entities and target not in seen | {entity} and self.has(target, "create")
            if usable:
                keys = [*self.setup(target, seen | {entity}), *keys]
            elif field.required:
                raise Cannot(f"{entity} needs a {target or field.name} that a test cannot create first")
        return list(dict.fromkeys(keys))

    def moves(self, entity: str) -> list[Key]:
        """The transitions a test may use to bring records of `entity` into a state."""
        return [op.key for op in self.operations if op.entity == entity and op.kind == "transition"]

    def readback(self, entity: str) -> list[Key]:
        return [key for key in ((entity, "list", ""), (entity, "read", "")) if key in self.by_key][:1]

    def mentioned_entities(self, text: str) -> list[Entity]:
        return [
            entity
            for entity in self.architecture.data_model
            if mentions(text, " ".join(split_pascal(entity.name)))
        ]

    def candidates(self, text: str) -> list[Entity]:
        """Entities the criterion is about: the object of its verb, those it names, then those of the
        story's operations."""
        objects = [
            entity
            for found in verb_objects("to " + self.when)
            if (entity := verb_entity(found, self.architecture.data_model)) is not None
        ]
        named = objects + self.mentioned_entities(text)
        named += self.mentioned_entities(f"{self.story.i_want} {self.story.title}")
        own = [self.entities[op.entity] for op in self.own if op.entity in self.entities]
        return list({entity.name: entity for entity in [*named, *own]}.values())

    def model_words(self) -> set[str]:
        found: set[str] = set()
        for entity in self.architecture.data_model:
            found.update(stem_word(part) for part in split_pascal(entity.name))
            for field in entity.fields:
                found.update(stems(field.name.replace("_", " ")))
                for value in field.values:
                    found.update(stems(value))
            for transition in entity.transitions:
                found.update(stems(transition.name.replace("_", " ")))
        return found - {"id"}


def plan_for(
    model: PlanModel, criterion: AcceptanceCriterion, kind: PlanKind, entity: str, keys: list[Key], **extra
) -> CriterionPlan:  # type: ignore[no-untyped-def]
    return CriterionPlan(criterion, kind, entity, needs=tuple(dict.fromkeys(keys)), **extra)
