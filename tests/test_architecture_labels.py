"""Every entity the offline model keeps has a field a create cannot leave out: its label (name,
title, ...) or, when the text gives none, the first field it lists. The sentences are written here
in styles of their own; none comes from the quality corpus."""

from __future__ import annotations

from assets.architecture.design import build_architecture, design_offline
from assets.architecture.domain import derive_entities
from assets.architecture.draft import DraftEntity
from assets.requirements.models import RequirementsSet
from tests.test_architecture_domain import story


def model(*stories) -> dict[str, DraftEntity]:
    return {entity.name: entity for entity in derive_entities(list(stories))}


def required(entity: DraftEntity) -> list[str]:
    return [f.name for f in entity.fields if f.required and f.name != "id" and f.default is None]


def test_a_listed_name_nothing_marks_required_is_required() -> None:
    entities = model(story(1, "to keep a record of every horse with its name, colour and height"))
    assert required(entities["Horse"]) == ["name"]


def test_a_title_is_the_label_of_a_titled_thing() -> None:
    entities = model(story(1, "to add songs with a title, a key and a length"))
    assert required(entities["Song"]) == ["title"]


def test_without_a_label_the_first_listed_field_is_required_and_no_name_is_forced() -> None:
    entities = model(
        story(1, "to log each delivery with the arrival date, the weight and the driver's phone")
    )
    delivery = entities["Delivery"]
    assert required(delivery) == ["arrival_date"]
    assert not next(f for f in delivery.fields if f.name == "name").required


def test_a_thing_assigned_to_someone_exists_before_it_is_assigned() -> None:
    entities = model(
        story(1, "to book a court for a player"),
        story(2, "to add coaches"),
        story(3, "to assign each court to a coach"),
    )
    court = {f.name: f for f in entities["Court"].fields}
    assert not court["coach_id"].required
    assert required(entities["Court"]) == ["name"]
    assert required(entities["Coach"]) == ["name"]


def test_every_kept_entity_has_a_required_field_in_its_create_schema() -> None:
    stories = [
        story(1, "to record each hive with its location and the date it was split"),
        story(2, "to note every inspection of a hive, with the brood pattern and the temper"),
        story(3, "to list hives by location"),
        story(4, "to mark an inspection as reviewed"),
    ]
    requirements = RequirementsSet(project="bees", stories=stories)
    architecture = build_architecture(requirements, design_offline(requirements))
    schemas = architecture.openapi["components"]["schemas"]
    assert architecture.data_model
    for entity in architecture.data_model:
        create = schemas[f"{entity.name}Input"]
        assert create.get("required"), (entity.name, create)
        assert "status" not in create["required"]
