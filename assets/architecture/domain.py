"""The domain model from the stories: entities, typed fields, relations, state transitions.

Entities are the things the stories' verbs act on ("add their pets", "record feeding times and
every vet visit", "a register of vehicles: ...", a want that is only a thing: "subjects"); generic
words (app, feature, information), ways of showing things ("map display"), times ("week"), values
and counts ("amount", "servings") and abstract activities ("route planning") never become one,
people only when the stories keep them ("record suppliers", "members sign up with their name").
Words the stories misspell once are read as the word they use elsewhere (`spelling`). Fields come
from what the text lists ("with a title, due date and priority", "search products by name, SKU or
supplier", "the date it was lent"), their types from the words' meaning, enum values where the text
lists them, a yes/no field from "a done checkbox". Relations: "X of/for/on/to a Y", "Y's X", "each X"
after Y, "every X comes from one Y", a listed field that names another entity, and what a kept actor
creates become a reference `<y>_id`. State verbs (ship, archive, close, "mark as done") become an
enum `status` and one transition each. Rules, limits and summaries are read by
`assets.architecture.rules`; operations by `assets.architecture.operations`.

The steps live in modules of their own: `discovery` (which entities), `filling` (fields,
operations and transitions per verb), `fields` (a listed field), `relations`, `labels`; the drafts
they fill are in `domain_model`.
"""

from __future__ import annotations

from assets.architecture.acts import link_loans
from assets.architecture.discovery import discover_entities
from assets.architecture.domain_model import DomainModel
from assets.architecture.draft import DraftEntity
from assets.architecture.filling import fill_from_story, people_kinds, switch_field
from assets.architecture.phrases import verb_uses
from assets.architecture.relations import (
    actor_owns,
    after_relations,
    each_relations,
    gerund_records,
    record_of_verb,
    serve_referenced,
)
from assets.architecture.spelling import corrected_stories
from assets.requirements.language import pascal_case
from assets.requirements.models import UserStory
from pipeline_core.verbs import VERB_KINDS


def derive_entities(stories: list[UserStory], full_crud: bool = True) -> list[DraftEntity]:
    """The offline domain model: entities with fields, relations, rules, operations (sorted by name).

    `full_crud`: every entity gets every operation the text does not forbid; without it, only the
    operations some story names (and list/read for all).
    """
    from assets.architecture.operations import finish_entity
    from assets.architecture.rules import apply_rules, apply_state_changes

    stories = corrected_stories(stories)
    model = DomainModel()
    model.people_kinds = people_kinds(stories)
    acted = discover_entities(stories, model)
    ordered = sorted(
        stories,
        key=lambda story: (
            not any(VERB_KINDS.get(use.verbs[0]) == "create" for use in verb_uses(story.i_want))
        ),
    )
    for story in ordered:
        fill_from_story(story, model, acted[story.id])
    for story in stories:
        link_loans(story, model)
        after_relations(story, model)
        each_relations(story, model)
        actor_owns(story, model)
        record_of_verb(story, model)
        gerund_records(story, model)
    for story in ordered:
        apply_state_changes(story, model, acted[story.id])
    for story in ordered:
        apply_rules(story, model, acted[story.id])
    for story in stories:
        if not acted[story.id]:
            switch_field(story, model)
    serve_referenced(model)
    return [
        finish_entity(model.entities[key], full_crud)
        for key in sorted(model.entities, key=lambda k: pascal_case(k))
    ]
