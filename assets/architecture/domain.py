"""The domain model from the stories: entities, typed fields, relations, transitions, limits, summaries."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assets.architecture.draft import DraftEntity
from assets.architecture.models import EntityField
from assets.architecture.openapi import OPERATION_ORDER, EntityOperation, OperationKind
from assets.requirements.language import pascal_case, snake_case, verb_objects, words
from assets.requirements.models import UserStory

_FIELDS_AFTER = r"\s+(?P<items>.+?)(?=\s+(?:so that|because|when|once|in order to|to)\b|[.;()]|$)"
_WITH = re.compile(r"\bwith" + _FIELDS_AFTER, re.IGNORECASE)
_BY = re.compile(r"\bby" + _FIELDS_AFTER, re.IGNORECASE)
_ITEM_SPLIT = re.compile(r",|\band\b|\bor\b", re.IGNORECASE)
_ITEM_DROP = frozenset("a an the its their our my your his her some optional".split())


def field_type(name: str) -> str:
    if re.search(r"(^|_)(date|day|deadline|birthday)($|_)|_on$", name):
        return "date"
    if re.search(r"(^|_)(time|timestamp)($|_)|_at$", name):
        return "datetime"
    if re.search(r"(^|_)(count|number|points|estimate|quantity|age|position|order|rank)($|_)", name):
        return "integer"
    if re.search(r"(^|_)(price|cost|amount|budget|hours|rate|score)($|_)", name):
        return "number"
    if re.search(r"^(is|has|can)_|(^|_)(archived|done|completed|enabled|active|private|public)$", name):
        return "boolean"
    return "string"


def _items(match: re.Match[str] | None) -> list[str]:
    if match is None:
        return []
    names = []
    for item in _ITEM_SPLIT.split(match["items"]):
        kept = [word for word in words(item) if word not in _ITEM_DROP]
        if 1 <= len(kept) <= 3:
            names.append(snake_case(" ".join(kept)))
    return [name for name in names if name]


@dataclass
class _EntityDraft:
    name: str
    fields: dict[str, EntityField] = field(default_factory=dict)
    operations: dict[str, EntityOperation] = field(default_factory=dict)
    stories: set[str] = field(default_factory=set)

    def add_field(self, name: str, required: bool = False, type_: str | None = None) -> None:
        if name and name != "id" and name not in self.fields:
            self.fields[name] = EntityField(name=name, type=type_ or field_type(name), required=required)

    def add_operation(self, kind: OperationKind, story_id: str, parameters: Sequence[str] = ()) -> None:
        operation = self.operations.setdefault(kind, EntityOperation(kind=kind))
        if story_id not in operation.story_ids:
            operation.story_ids.append(story_id)
        operation.parameters.extend(
            parameter for parameter in parameters if parameter not in operation.parameters
        )
        self.stories.add(story_id)


def derive_entities(stories: list[UserStory]) -> list[DraftEntity]:
    """Entities, fields and operations from the verbs and objects of the stories' want-clauses."""
    entities: dict[str, _EntityDraft] = {}

    def entity(noun: str) -> _EntityDraft:
        name = pascal_case(noun)
        return entities.setdefault(name, _EntityDraft(name))

    actions = [(story, action) for story in stories for action in verb_objects(story.i_want)]
    # Creating stories first, so an entity's fields start with what it is created with.
    actions.sort(key=lambda item: item[1].operation != "create")
    for story, action in actions:
        target = entity(action.noun)
        if action.verb == "comment":
            comment = entity("comment")
            comment.add_field("text", required=True)
            parent = f"{snake_case(action.noun)}_id"
            comment.add_field(parent, required=True, type_="integer")
            comment.add_operation("create", story.id)
            comment.add_operation("list", story.id, [parent])
            target.stories.add(story.id)
            continue
        parameters: list[str] = []
        if action.operation == "create":
            for position, name in enumerate(_items(_WITH.search(story.i_want))):
                target.add_field(name, required=position == 0)
        if action.verb in ("filter", "sort", "group"):
            for name in _items(_BY.search(story.i_want)):
                target.add_field(name)
                parameters.append(name)
        if action.verb in ("search", "find"):
            parameters.append("q")
        if action.verb in ("assign", "reassign"):
            target.add_field("assignee")
        if action.verb in ("mark", "complete", "close", "reopen"):
            target.add_field("status")
        if action.verb == "archive":
            target.add_field("archived", type_="boolean")
        if action.verb == "schedule":
            target.add_field("due_date")
        target.add_operation(action.operation, story.id, parameters)

    drafts = []
    for name in sorted(entities):
        built = entities[name]
        if not built.fields:
            built.add_field("name", required=True)
        touching = sorted(built.stories)
        for kind in ("list", "read"):  # every entity can be listed and shown
            if kind not in built.operations:
                built.operations[kind] = EntityOperation(kind=kind, story_ids=list(touching))
        drafts.append(
            DraftEntity(
                name=name,
                fields=[EntityField(name="id", type="integer", required=True), *built.fields.values()],
                operations=[built.operations[kind] for kind in OPERATION_ORDER if kind in built.operations],
            )
        )
    return drafts
