"""The domain model while the rules fill it: entity drafts by noun, their fields, operations and
transitions, before `assets.architecture.operations` turns each into an `Entity`."""

from __future__ import annotations

from dataclasses import dataclass, field

from assets.architecture.models import CountLimit, EntityField, Summary
from assets.architecture.phrases import NounPhrase
from assets.architecture.vocabulary import field_type, is_adjective
from assets.requirements.language import pascal_case, singular
from assets.requirements.models import UserStory

MANAGED_PEOPLE_VERBS = frozenset(
    "create add register invite delete remove manage edit update deactivate activate block".split()
)


PERSON_FIELD = "assignee"


ANYBODY = frozenset("user person people someone anyone everyone visitor".split())


@dataclass
class TransitionDraft:
    name: str
    to_state: str  # "" = back to the first state
    story_ids: set[str] = field(default_factory=set)
    from_states: list[str] | None = None  # set by a rule of the text
    excluded: set[str] = field(default_factory=set)
    rule: str = ""


@dataclass
class EntityDraft:
    """What the rules learn about one entity, before it becomes an `Entity`."""

    name: str  # PascalCase
    noun: str  # "vet visit"
    fields: dict[str, EntityField] = field(default_factory=dict)
    operations: dict[str, set[str]] = field(default_factory=dict)  # kind -> story ids
    list_parameters: set[str] = field(default_factory=set)
    sort_fields: set[str] = field(default_factory=set)
    transitions: dict[str, TransitionDraft] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    limits: list[CountLimit] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    stories: list[str] = field(default_factory=list)
    creating_stories: list[str] = field(default_factory=list)

    def add_field(
        self, name: str, *, type_: str | None = None, required: bool = False, **extra: object
    ) -> None:
        if not name or name == "id":
            return
        current = self.fields.get(name)
        if current is None:
            self.fields[name] = EntityField(
                name=name, type=type_ or field_type(name), required=required, **extra
            )
            return
        update: dict[str, object] = {}
        if required and not current.required:
            update["required"] = True
        if type_ and current.type == "string" and type_ != "string":
            update["type"] = type_
        update.update({key: value for key, value in extra.items() if value})
        if update:
            self.fields[name] = current.model_copy(update=update)

    def touch(self, kind: str, story_id: str) -> None:
        self.operations.setdefault(kind, set()).add(story_id)
        if story_id not in self.stories:
            self.stories.append(story_id)
        if kind == "create" and story_id not in self.creating_stories:
            self.creating_stories.append(story_id)


def story_texts(story: UserStory) -> list[str]:
    """The story's own words: its want, its criteria and the quotes it was drawn from."""
    texts = [story.i_want]
    texts += [f"{c.given}, when {c.when}, then {c.then}" for c in story.acceptance_criteria]
    texts += [trace.quote for trace in story.traces]
    return [text for text in texts if text]


class DomainModel:
    """Entities by noun, filled story by story."""

    def __init__(self) -> None:
        self.entities: dict[str, EntityDraft] = {}
        # kinds of people the stories treat as a group: roles ("as an agent"), "per agent"
        self.people_kinds: set[str] = set()

    def entity(self, noun: str) -> EntityDraft:
        parts = noun.split()
        if len(parts) == 2 and _participle(parts[0]):  # "an issued permit" is a permit
            noun = parts[1]
        key = noun_key(noun)
        if key not in self.entities:
            self.entities[key] = EntityDraft(name=pascal_case(key), noun=key)
        return self.entities[key]

    def find(self, phrase: NounPhrase | str | None) -> EntityDraft | None:
        """The entity a phrase names ("the vet visit", "visits", "a pet")."""
        if phrase is None:
            return None
        words = phrase.words if isinstance(phrase, NounPhrase) else tuple(phrase.split())
        for size in (2, 1):
            if len(words) >= size:
                key = noun_key(" ".join(words[-size:]))
                if key in self.entities:
                    return self.entities[key]
        head = singular(words[-1]) if words else ""
        heads = {head}
        if words and words[-1].endswith("ves"):  # "shelves", "knives": a shelf, a knife
            heads |= {words[-1][:-3] + "f", words[-1][:-3] + "fe"}
        matches = [e for key, e in self.entities.items() if key.split()[-1] in heads]
        return matches[0] if len(matches) == 1 else None


_ED_NOUNS = frozenset("seed feed bed shed speed breed need deed reed weed".split())


def _participle(word: str) -> bool:
    return is_adjective(word) or (len(word) > 4 and word.endswith("ed") and word not in _ED_NOUNS)


def noun_key(noun: str) -> str:
    parts = noun.lower().split()
    return " ".join([*parts[:-1], singular(parts[-1])]) if parts else ""
