"""The architecture stage: stack rules, data model, story map, OpenAPI contract, and the asset."""

from __future__ import annotations

import copy
from pathlib import Path

import dagster as dg
import openapi_spec_validator
import pytest

from assets.architecture.design import (
    ArchitectureDraft,
    DraftComponent,
    DraftEntity,
    build_architecture,
    design_offline,
    design_task,
)
from assets.architecture.models import Architecture, EntityField, StoryComponents, TechStack
from assets.architecture.openapi import EntityOperation, openapi_problem, operation_count
from assets.documents.models import Location
from assets.requirements.extraction import extract_offline
from assets.requirements.merge import merge_stories
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, Trace, UserStory
from pipeline_core.partitions import projects_partitions
from resources.io_manager import ArtifactJsonIOManager, asset_value_key
from resources.llm.resource import LlmResource
from resources.object_store import LocalObjectStore
from tests.support.acme import acme_parsed, stage_project

PROJECT = "acme-tasks"


def acme_requirements() -> RequirementsSet:
    per_document = [(ref, doc, extract_offline(doc)) for ref, doc in acme_parsed()]
    return merge_stories(per_document, None, project=PROJECT)


def design(requirements: RequirementsSet) -> Architecture:
    return build_architecture(requirements, design_task(requirements).offline())


def story_id(requirements: RequirementsSet, phrase: str) -> str:
    [found] = [story.id for story in requirements.stories if phrase in story.i_want]
    return found


def make_story(number: int, i_want: str, quote: str = "") -> UserStory:
    story = UserStory(
        id=f"US-{number:06x}",
        title=i_want,
        as_a="user",
        i_want=i_want,
        so_that="it works",
        acceptance_criteria=[AcceptanceCriterion(id="AC1", given="a user", when="they act", then="it works")],
        traces=[
            Trace(document="notes.md", version="v1", location=Location(line=number), quote=quote or i_want)
        ],
    )
    return story.model_copy(update={"content_hash": story.compute_hash()})


def requirements_of(*wants: str, quotes: tuple[str, ...] = ()) -> RequirementsSet:
    stories = [
        make_story(n, want, quotes[n - 1] if n <= len(quotes) else "") for n, want in enumerate(wants, 1)
    ]
    return RequirementsSet(project="demo", stories=stories)


# --- stack -----------------------------------------------------------------------------------------


def test_the_stack_named_in_the_documents_is_chosen() -> None:
    architecture = design(acme_requirements())
    stacks = {component.kind: component.stack for component in architecture.components}
    assert (stacks["frontend"].framework, stacks["frontend"].hosting) == ("React", "netlify")
    assert (stacks["backend"].framework, stacks["backend"].language) == ("FastAPI", "Python")
    assert stacks["database"].framework == "PostgreSQL"
    assert [c.path for c in architecture.components] == ["frontend/", "backend/", "database/"]


def test_defaults_when_no_technology_is_named() -> None:
    architecture = design(requirements_of("to create a note with a title", "to delete a note"))
    stacks = {component.kind: component.stack.framework for component in architecture.components}
    assert stacks == {"frontend": "static HTML", "backend": "FastAPI", "database": "SQLite"}
    assert "frontend/index.html" in architecture.repository_layout


@pytest.mark.parametrize(
    ("quote", "expected"),
    [
        ("We want a Vue frontend with an Express API on MySQL.", ("Vue", "Express", "MySQL")),
        ("A Svelte UI, a Django backend and SQLite for storage.", ("Svelte", "Django", "SQLite")),
        (
            "Plain HTML pages over a Flask backend; PostgreSQL, not SQLite, and PostgreSQL again.",
            ("static HTML", "Flask", "PostgreSQL"),
        ),
    ],
)
def test_other_named_stacks(quote: str, expected: tuple[str, str, str]) -> None:
    architecture = design(requirements_of("to create a note with a title", quotes=(quote,)))
    stacks = {component.kind: component.stack.framework for component in architecture.components}
    assert (stacks["frontend"], stacks["backend"], stacks["database"]) == expected
    backend = next(component for component in architecture.components if component.kind == "backend")
    marker = "backend/app/main.py" if backend.stack.language == "Python" else "backend/src/index.js"
    assert marker in architecture.repository_layout


# --- data model and story map --------------------------------------------------------------------------


def test_entities_and_fields_come_from_the_stories() -> None:
    requirements = acme_requirements()
    architecture = build_architecture(requirements, design_offline(requirements))
    entities = {entity.name: entity for entity in architecture.data_model}
    fields = {
        name: {f.name: (f.type, f.required) for f in entity.fields} for name, entity in entities.items()
    }
    assert set(fields) == {"Comment", "Project", "Task"}
    assert list(fields["Task"])[:4] == [
        "id",
        "title",
        "due_date",
        "priority",
    ]  # "with a title, due date and priority"
    assert fields["Task"]["title"] == ("string", True)
    assert fields["Task"]["due_date"] == ("date", False)
    assert {"assignee", "status"} <= set(fields["Task"])  # "assign ...", "filter ... by assignee and status"
    assert fields["Task"]["project_id"] == ("reference", True)  # "the tasks of a project"
    assert entities["Task"].field("project_id").references == "Project"
    assert {"name", "description"} <= set(fields["Project"])
    assert fields["Project"]["description"] == ("text", False)
    assert fields["Comment"]["task_id"] == ("reference", True)  # "comment on a task"
    # "archive a project once it is finished": a state field and the transitions that reach it
    assert entities["Project"].field("status").values == ["open", "finished", "archived"]
    transitions = {t.name: (t.from_states, t.to_state) for t in entities["Project"].transitions}
    assert transitions == {"archive": (["finished"], "archived"), "finish": (["open"], "finished")}
    assert "POST /api/projects/{id}/archive" in {
        f"{m.upper()} {p}"
        for p, item in architecture.openapi["paths"].items()
        for m in item
        if m != "parameters"
    }


def test_the_default_offline_design_is_the_whole_model_with_its_states_in_the_contract() -> None:
    requirements = acme_requirements()
    architecture = design(requirements)
    assert architecture == build_architecture(requirements, design_offline(requirements))
    entities = {entity.name: entity for entity in architecture.data_model}
    assert entities["Task"].field("project_id").type == "reference"
    assert entities["Task"].field("project_id").references == "Project"
    assert {t.name for t in entities["Project"].transitions} == {"archive", "finish"}
    archive = architecture.openapi["paths"]["/api/projects/{id}/archive"]["post"]
    # the contract driver walks the state machine from these
    assert (archive["x-state-field"], archive["x-from-states"], archive["x-to-state"]) == (
        "status",
        ["finished"],
        "archived",
    )
    assert "409" in archive["responses"]
    project = architecture.openapi["components"]["schemas"]["Project"]["properties"]["status"]
    assert project["readOnly"] and project["default"] == "open"


def test_every_story_is_mapped_to_the_components_it_touches() -> None:
    requirements = acme_requirements()
    architecture = design(requirements)
    mapping = {entry.story_id: entry.components for entry in architecture.story_map}
    assert set(mapping) == {story.id for story in requirements.stories}
    assert all(mapping.values())
    assert mapping[story_id(requirements, "dark mode")] == ["frontend"]
    assert mapping[story_id(requirements, "the API to respond")] == ["backend"]
    assert mapping[story_id(requirements, "email notification")] == ["backend", "database"]
    assert mapping[story_id(requirements, "create a task")] == ["frontend", "backend", "database"]


# --- OpenAPI -------------------------------------------------------------------------------------------


def test_the_openapi_document_is_valid_and_linked_to_stories() -> None:
    requirements = acme_requirements()
    architecture = design(requirements)
    document = architecture.openapi
    openapi_spec_validator.validate(document)
    assert openapi_problem(document) is None
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    assert {"/api/tasks", "/api/tasks/{id}", "/api/projects", "/api/projects/{id}", "/api/comments"} <= set(
        paths
    )
    operations = [op for item in paths.values() for method, op in item.items() if method != "parameters"]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    assert paths["/api/tasks/{id}"]["delete"]["x-story-ids"] == [story_id(requirements, "delete a task")]
    assert paths["/api/tasks/{id}"]["patch"]["x-story-ids"] == [story_id(requirements, "assign a task")]
    assert paths["/api/tasks"]["post"]["x-story-ids"] == [story_id(requirements, "create a task")]
    parameters = {p["name"] for p in paths["/api/tasks"]["get"]["parameters"]}
    assert parameters == {"assignee", "status", "q"}
    known = {story.id for story in requirements.stories}
    assert all(set(op["x-story-ids"]) <= known for op in operations)
    assert set(document["components"]["schemas"]) >= {"Task", "TaskInput", "TaskUpdate", "Project", "Comment"}
    # a task belongs to a project ("the tasks of a project"): its create names one
    assert document["components"]["schemas"]["TaskInput"]["required"] == ["title", "project_id"]
    assert document["components"]["schemas"]["TaskInput"]["properties"]["project_id"]["x-references"] == (
        "Project"
    )


def test_openapi_problem_reports_an_invalid_document() -> None:
    document = design(acme_requirements()).openapi
    duplicate_id = copy.deepcopy(document)
    duplicate_id["paths"]["/api/tasks"]["get"]["operationId"] = "createTask"
    unresolved_id = copy.deepcopy(document)
    del unresolved_id["paths"]["/api/tasks/{id}"]["parameters"]
    no_description = copy.deepcopy(document)
    del no_description["paths"]["/api/tasks"]["get"]["responses"]["200"]["description"]
    dangling = copy.deepcopy(document)
    dangling["paths"]["/api/tasks"]["get"]["responses"]["200"] = {"$ref": "#/components/responses/Nowhere"}
    for broken in (duplicate_id, unresolved_id, no_description, dangling):
        assert openapi_problem(broken) is not None
    assert openapi_problem(document) is None


# --- the Architecture value ----------------------------------------------------------------------------


def test_same_input_gives_the_same_architecture() -> None:
    first = design(acme_requirements())
    second = design(acme_requirements())
    assert first.model_dump_json() == second.model_dump_json()
    assert first.data_version() == second.data_version()


def test_a_story_change_that_does_not_change_the_design_keeps_the_data_version() -> None:
    requirements = acme_requirements()
    reworded = requirements.model_copy(
        update={
            "stories": [
                story.model_copy(update={"so_that": "the team is happy", "priority": "Could"})
                for story in requirements.stories
            ]
        }
    )
    assert design(reworded).data_version() == design(requirements).data_version()
    added = requirements.model_copy(
        update={"stories": [*requirements.stories, make_story(99, "to create a label with a colour")]}
    )
    assert design(added).data_version() != design(requirements).data_version()


def test_a_model_draft_is_cleaned_and_an_unmapped_story_stays_visible() -> None:
    requirements = requirements_of("to create a support ticket", "to close a support ticket")
    stack = TechStack(language="Python", framework="FastAPI")
    draft = ArchitectureDraft(
        components=[
            DraftComponent(name="Backend", kind="backend", description="api", stack=stack),
            DraftComponent(name="backend", kind="backend", description="duplicate", stack=stack),
        ],
        entities=[
            DraftEntity(
                name="support tickets",
                fields=[EntityField(name="Subject Line", type="string", required=True)],
                operations=[
                    EntityOperation(kind="create", story_ids=["US-000001", "US-nope"]),
                    EntityOperation(kind="update", story_ids=["US-000002"]),
                ],
            )
        ],
        story_map=[
            StoryComponents(story_id="US-000001", components=["backend", "mobile"]),
            StoryComponents(story_id="US-unknown", components=["backend"]),
        ],
    )
    architecture = build_architecture(requirements, draft)
    assert [c.name for c in architecture.components] == ["backend"]
    [entity] = architecture.data_model
    assert entity.name == "SupportTicket"
    assert [f.name for f in entity.fields] == ["id", "subject_line"]
    paths = architecture.openapi["paths"]
    assert paths["/api/support-tickets"]["post"]["x-story-ids"] == ["US-000001"]
    assert paths["/api/support-tickets/{id}"]["patch"]["operationId"] == "updateSupportTicket"
    assert openapi_problem(architecture.openapi) is None
    assert [(e.story_id, e.components) for e in architecture.story_map] == [
        ("US-000001", ["backend"]),
        ("US-000002", []),
    ]
    from assets.architecture.asset import check_story_map

    check = check_story_map(architecture, requirements)
    assert not check.passed and check.metadata["unmapped"].value == "US-000002"


def test_the_design_task_quotes_the_stories_and_keeps_them_out_of_the_instructions() -> None:
    requirements = acme_requirements()
    task = design_task(requirements)
    [quoted] = task.quoted
    for story in requirements.stories:
        assert story.id in quoted.text
        assert story.id not in task.instructions and story.id not in task.request
    assert "ANTHROPIC_API_KEY" not in quoted.text  # the injection never became a story
    assert task.offline() == design_offline(requirements)


# --- the asset -------------------------------------------------------------------------------------------


def test_the_assets_materialise_with_metadata_checks_and_data_version(tmp_path: Path) -> None:
    from assets.architecture.asset import architecture
    from assets.requirements.asset import requirements

    artifacts = LocalObjectStore(root=str(tmp_path / "artifacts"))
    stage_project(artifacts, PROJECT, acme_parsed())
    resources = {
        "artifacts": artifacts,
        "llm": LlmResource(provider="offline", cache_url=(tmp_path / "cache").as_uri()),
        "io_manager": ArtifactJsonIOManager(store=artifacts),
    }
    documents_spec = dg.AssetSpec("documents", partitions_def=projects_partitions)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("projects", [PROJECT])
        result = dg.materialize(
            [documents_spec, requirements, architecture],
            selection=[requirements, architecture],
            partition_key=PROJECT,
            instance=instance,
            resources=resources,
        )
        assert result.success
        checks = {check.check_name: check.passed for check in result.get_asset_check_evaluations()}
        assert checks == {
            "stories_have_criteria_and_traces": True,
            "stories_found": True,
            "stories_mapped_to_components": True,
            "openapi_valid": True,
            "data_model_has_entities_with_fields": True,
            "data_stories_mapped_to_operations": True,
        }
        value = Architecture.model_validate_json(
            artifacts.get_text(asset_value_key(dg.AssetKey("architecture"), PROJECT))
        )
        assert value.data_version() == design(acme_requirements()).data_version()
        [event] = [
            e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey("architecture")
        ]
        materialization = event.event_specific_data.materialization
        metadata = {key: entry.value for key, entry in materialization.metadata.items()}
        assert (materialization.tags or {}).get("dagster/data_version") == value.data_version()
        assert metadata["endpoints"] == operation_count(value.openapi)
        assert metadata["entities"] == 3 and metadata["components"] == 3
        assert "| frontend | frontend | React (TypeScript" in metadata["summary"]
        assert metadata["llm_provider"] == "offline" and metadata["llm_model_calls"] == 1


def test_the_checks_fail_on_an_empty_model_and_warn_on_a_data_story_without_operation() -> None:
    from assets.architecture.asset import check_data_model, check_story_operations

    requirements = requirements_of("to record each vet visit with its date", "a dark mode")
    stack = TechStack(language="Python", framework="FastAPI")
    component = DraftComponent(name="backend", kind="backend", description="api", stack=stack)
    nothing = ArchitectureDraft(components=[component], entities=[], story_map=[])
    empty = build_architecture(requirements, nothing)
    assert not check_data_model(empty).passed
    assert "stores nothing" in check_data_model(empty).metadata["problem"].value
    operations = check_story_operations(empty, requirements)
    assert not operations.passed and operations.severity == dg.AssetCheckSeverity.WARN
    assert operations.metadata["stories_without_operation"].value == 1  # the dark mode asks for no data
    bare = ArchitectureDraft(
        components=[component],
        entities=[
            DraftEntity(
                name="Visit",
                fields=[EntityField(name="id", type="integer")],
                # a story acts on it (an entity no story acts on is left out of the model)
                operations=[EntityOperation(kind="create", story_ids=[requirements.stories[0].id])],
            )
        ],
        story_map=[],
    )
    check = check_data_model(build_architecture(requirements, bare))
    assert not check.passed and "Visit" in check.metadata["problem"].value
    assert check.severity == dg.AssetCheckSeverity.ERROR  # nothing in the model has a field of its own
    designed = design(requirements)
    assert check_data_model(designed).passed and check_story_operations(designed, requirements).passed


def test_an_entity_with_only_a_name_is_named_in_a_warning() -> None:
    """A name or title is what every entity gets for free: an entity with nothing else is not
    a design of what the text says, and the check names it (a warning while others have fields)."""
    from assets.architecture.asset import check_data_model

    requirements = requirements_of("to log each bird sighting with its species and the date", "to add hides")
    [sighting, hide] = [story.id for story in requirements.stories]
    stack = TechStack(language="Python", framework="FastAPI")
    component = DraftComponent(name="backend", kind="backend", description="api", stack=stack)

    def entity(name: str, story_id: str, *fields: EntityField) -> DraftEntity:
        return DraftEntity(
            name=name,
            fields=[EntityField(name="id", type="integer"), *fields],
            operations=[EntityOperation(kind="create", story_ids=[story_id])],
        )

    named = EntityField(name="name", type="string", required=True)
    draft = ArchitectureDraft(
        components=[component],
        entities=[
            entity("Sighting", sighting, EntityField(name="species", type="string"), named),
            entity("Hide", hide, named),
        ],
        story_map=[],
    )
    check = check_data_model(build_architecture(requirements, draft))
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    problem = check.metadata["problem"].value
    assert "Hide" in problem and "Sighting" not in problem
    assert check.metadata["entities_without_fields"].value == 1
    titled = draft.model_copy(
        update={
            "entities": [
                entity("Sighting", sighting, EntityField(name="title", type="string")),
                entity("Hide", hide, named),
            ]
        }
    )
    check = check_data_model(build_architecture(requirements, titled))
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "Hide" in check.metadata["problem"].value and "Sighting" in check.metadata["problem"].value


def test_an_entity_with_only_a_name_and_a_state_is_named_in_the_warning() -> None:
    """A status is what a state verb ("cancel a booking") adds by itself: {id, name, status} says
    nothing about what is stored, so the check names the entity like one with only a name."""
    from assets.architecture.asset import check_data_model

    requirements = requirements_of("to log each bird sighting with its species", "to cancel a booking")
    [sighting, booking] = [story.id for story in requirements.stories]
    stack = TechStack(language="Python", framework="FastAPI")
    component = DraftComponent(name="backend", kind="backend", description="api", stack=stack)
    state = EntityField(name="status", type="enum", values=["booked", "cancelled"], default="booked")
    draft = ArchitectureDraft(
        components=[component],
        entities=[
            DraftEntity(
                name=name,
                fields=[
                    EntityField(name="id", type="integer"),
                    EntityField(name="name", type="string"),
                    *extra,
                ],
                operations=[EntityOperation(kind="create", story_ids=[story_id])],
            )
            for name, story_id, extra in (
                ("Sighting", sighting, [EntityField(name="species", type="string")]),
                ("Booking", booking, [state]),
            )
        ],
        story_map=[],
    )
    check = check_data_model(build_architecture(requirements, draft))
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    problem = check.metadata["problem"].value
    assert "Booking" in problem and "Sighting" not in problem
