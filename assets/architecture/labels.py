"""Every entity can be shown and has a field a create cannot leave out: its display field (name,
title, or the text of a comment) and the required label."""

from __future__ import annotations

from assets.architecture.domain_model import EntityDraft
from assets.architecture.models import EntityField
from assets.architecture.vocabulary import DISPLAY_FIELDS, TEXT_BODIED, TITLED


def add_display_field(entity: EntityDraft) -> None:
    """Every entity can be shown by a name or a title; a comment, a note or a review by its text."""
    if any(name in entity.fields for name in DISPLAY_FIELDS):
        return
    head = entity.noun.split()[-1]
    if head in TEXT_BODIED and not any(f.type == "text" for f in entity.fields.values()):
        entity.fields = {"text": EntityField(name="text", type="text", required=True), **entity.fields}
        return
    name = "title" if head in TITLED else "name"
    # An entity created with other required fields keeps its display field optional; a state
    # field does not count (it starts at its default, nobody types it).
    entity.fields = {
        name: EntityField(name=name, type="string", required=not _typed_required(entity)),
        **entity.fields,
    }


def _typed_required(entity: EntityDraft) -> list[str]:
    """The required fields a person fills in on create (a state starts at its default)."""
    return [name for name, f in entity.fields.items() if f.required and f.default is None]


def require_label(entity: EntityDraft) -> None:
    """Every kept thing has a field a create cannot leave out: its label (name, title, ...) when
    the text gives one, else the first field the text lists that a person types (not a yes/no box,
    not a state that starts at its default, not a link to another record: "assign each court to a
    coach" links a court that exists before). Nothing marks "the name of a dog" required, yet a dog
    without it is no record. An entity with no field at all gets a required name or title from
    `add_display_field`."""
    if _typed_required(entity):
        return
    label = next((name for name in DISPLAY_FIELDS if name in entity.fields), None)
    if label is None:
        label = next(
            (
                name
                for name, f in entity.fields.items()
                if f.default is None and f.type not in ("boolean", "reference")
            ),
            None,
        )
    if label is not None:
        entity.fields[label] = entity.fields[label].model_copy(update={"required": True})
