"""A field the text lists, added to an entity: a reference when it names another entity, an integer
when it counts things, an enum when values are given, a label of the thing itself ("the name of
the medicine")."""

from __future__ import annotations

from assets.architecture.domain_model import PERSON_FIELD, DomainModel, EntityDraft
from assets.architecture.relations import add_reference
from assets.architecture.vocabulary import DISPLAY_FIELDS, is_person_word


def person_reference(target: EntityDraft, model: DomainModel) -> str | None:
    """The reference to a kind of person the thing is assigned to ("agent_id"), if it has one."""
    for name, field_ in target.fields.items():
        if field_.type == "reference" and field_.references:
            entity = next((e for e in model.entities.values() if e.name == field_.references), None)
            if entity is not None and is_person_word(entity.noun.split()[-1]):
                return name
    return None


def add_listed_field(
    target: EntityDraft, name: str, values: tuple[str, ...], model: DomainModel, *, required: bool = False
) -> str:
    """A listed field: a reference when it names another entity, an enum when values are given;
    "the maximum number of permits" counts permits (an integer), it does not refer to one."""
    name = _label_of(name, target)
    counted = "_of_" in name and {"number", "count", "quantity", "amount"} & set(
        name.split("_of_")[0].split("_")
    )
    if counted:
        target.add_field(name, type_="integer", required=required)
        return name
    parent = model.find(name.replace("_", " "))
    if parent is not None and parent is not target:
        add_reference(target, parent, required=required)
        return f"{parent.noun.replace(' ', '_')}_id"
    if is_person_word(name.split("_")[-1]) and name in ("assignee", "owner"):
        if name == PERSON_FIELD and person_reference(target, model):  # "filter by assignee"
            return person_reference(target, model) or name
        target.add_field(name)
        return name
    if values:
        target.add_field(name, type_="enum", required=required, values=list(values))
    else:
        target.add_field(name, required=required)
    return name


def _label_of(name: str, target: EntityDraft) -> str:
    """ "the name of the medicine" listed for a medication is its name; "the name of the owner"
    is the owner's name, "the name of the school" the school's."""
    label, of, thing = name.partition("_of_")
    if not of or label not in DISPLAY_FIELDS or "_" in thing:
        return name
    head = target.noun.split()[-1]
    same = thing == head or (len(thing) > 4 and thing[:5] == head[:5])
    return label if same else f"{thing}_{label}"
