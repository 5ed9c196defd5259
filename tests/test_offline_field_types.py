"""Every field type of the data model through the offline templates: one entity holding one field of
each type (and a second entity for its reference), designed by hand.

The sample values the generated tests send (`story_builds.offline.samples`) and those the contract
check builds from the OpenAPI document (`validations.openapi_schemas`) must satisfy the contract's
schema and formats, and the generated backend must accept them; its own tests must pass, the
contract check must hold, and over HTTP it must serve create, read, update, list and delete with a
refusal (422) of each field left out, of a value breaking the field's rule and of a value of the
wrong JSON type, and 404 for an unknown id. The HTTP checks run as a test module added to the
generated tree, in the sandbox.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
from jsonschema import Draft202012Validator

from assets.architecture.models import (
    Architecture,
    Entity,
    EntityField,
    FieldType,
    StoryComponents,
)
from assets.architecture.openapi import EntityOperation, render_openapi
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.offline.samples import invalid_value, other_value, wrong_type
from assets.story_builds.offline.samples import sample_value as generated_sample
from assets.validations.backend_check import check_backend_contract
from assets.validations.install import install_component
from assets.validations.openapi_schemas import resolve, schema_problem
from assets.validations.openapi_schemas import sample_value as contract_sample
from assets.validations.sandbox import run_tests_in_sandbox
from pipeline_core.repository.manifest import read_manifest
from tests.support.offline_build import Build, build_all, sandbox_tests, stdlib_components

VARIANTS = range(0, 40)
STRICT = Draft202012Validator.FORMAT_CHECKER

FIELDS = [
    EntityField(name="label", type="string", required=True, max_length=40),
    EntityField(name="notes", type="text", required=True),
    EntityField(name="count", type="integer", required=True, minimum=0, maximum=500),
    EntityField(name="ratio", type="number", required=True, minimum=0, maximum=1),
    EntityField(name="price", type="money", required=True),
    EntityField(name="active", type="boolean", required=True),
    EntityField(name="due_on", type="date", required=True),
    EntityField(name="starts_at", type="datetime", required=True),
    EntityField(name="opens_at", type="time", required=True),
    EntityField(name="contact", type="email", required=True),
    EntityField(name="homepage", type="url", required=True),
    EntityField(name="grade", type="enum", required=True, values=["low", "mid", "high"]),
    EntityField(name="owner_id", type="reference", required=True, references="Owner"),
]


def _criterion(cid: str, when: str, then: str) -> AcceptanceCriterion:
    return AcceptanceCriterion(id=cid, given="a keeper", when=when, then=then)


def _story(sid: str, want: str, criteria: list[AcceptanceCriterion], deps: list[str]) -> UserStory:
    return UserStory(
        id=sid,
        title=want.removeprefix("to ").capitalize(),
        as_a="keeper",
        i_want=want,
        so_that="the register is complete",
        depends_on=deps,
        acceptance_criteria=criteria,
    )


def specimen_design() -> tuple[RequirementsSet, Architecture]:
    stories = [
        _story(
            "US-own",
            "to add an owner with a name",
            [
                _criterion("AC1", "they add an owner with a name", "the owner is listed"),
                _criterion("AC2", "they add an owner without a name", "they see an error"),
            ],
            [],
        ),
        _story(
            "US-add",
            "to add a specimen with all its details",
            [
                _criterion("AC1", "they add a specimen with all its details", "it is saved"),
                _criterion("AC2", "they add a specimen without a label", "they see an error"),
                _criterion("AC3", "they enter an invalid contact for a specimen", "it is refused"),
                _criterion("AC4", "they add a specimen with an invalid opens at", "it is refused"),
                _criterion("AC5", "they add a specimen with an invalid starts at", "it is refused"),
                _criterion("AC6", "they add a specimen with an invalid due on", "it is refused"),
                _criterion("AC7", "they add a specimen with an invalid grade", "it is refused"),
            ],
            ["US-own"],
        ),
        _story(
            "US-edit",
            "to edit a specimen",
            [_criterion("AC1", "they edit a specimen's opens at", "the new time is shown")],
            ["US-add"],
        ),
        _story(
            "US-see",
            "to list and open specimens",
            [
                _criterion("AC1", "they list specimens", "they see every specimen"),
                _criterion("AC2", "they open a specimen", "they see its details"),
            ],
            ["US-add"],
        ),
        _story(
            "US-del",
            "to delete a specimen",
            [_criterion("AC1", "they delete a specimen", "it is gone")],
            ["US-add"],
        ),
    ]
    owner = Entity(
        name="Owner",
        fields=[
            EntityField(name="id", type="integer", required=True),
            EntityField(name="name", type="string", required=True),
        ],
    )
    specimen = Entity(
        name="Specimen", fields=[EntityField(name="id", type="integer", required=True), *FIELDS]
    )
    operations = {
        "Owner": [
            EntityOperation(kind="create", story_ids=["US-own"]),
            EntityOperation(kind="list", story_ids=["US-own"]),
            EntityOperation(kind="read", story_ids=["US-own"]),
        ],
        "Specimen": [
            EntityOperation(kind="create", story_ids=["US-add"]),
            EntityOperation(kind="list", story_ids=["US-see"]),
            EntityOperation(kind="read", story_ids=["US-see"]),
            EntityOperation(kind="update", story_ids=["US-edit"]),
            EntityOperation(kind="delete", story_ids=["US-del"]),
        ],
    }
    architecture = Architecture(
        project="specimens",
        summary="Specimens of a collection and their owners.",
        components=stdlib_components(),
        openapi=render_openapi("Specimens API", [owner, specimen], operations),
        data_model=[owner, specimen],
        story_map=[StoryComponents(story_id=s.id, components=["backend", "frontend"]) for s in stories],
    )
    return RequirementsSet(project="specimens", stories=stories), architecture


@pytest.fixture(scope="module")
def specimens() -> Build:
    return build_all(*specimen_design())


def field_schemas(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema = resolve(document, {"$ref": f"#/components/schemas/{name}"})
    return {key: resolve(document, value) for key, value in schema["properties"].items()}


def test_the_design_holds_every_field_type() -> None:
    assert sorted(field.type for field in FIELDS) == sorted(get_args(FieldType))


@pytest.mark.parametrize("field", FIELDS, ids=[field.type for field in FIELDS])
def test_sample_values_meet_the_contract_schema_and_format(field: EntityField) -> None:
    """Both sample builders give values the contract's schema (with its formats) accepts, for many
    variants; the deliberately bad values break it."""
    _, architecture = specimen_design()
    document = architecture.openapi
    schema = field_schemas(document, "SpecimenInput")[field.name]
    for variant in VARIANTS:
        for value in (
            contract_sample(document, schema, field.name, variant),
            generated_sample("Specimen", field, variant),
            other_value("Specimen", field, generated_sample("Specimen", field, variant), variant),
        ):
            if field.type == "reference":
                value = variant + 1  # an id; sample builders leave references to the test
            assert schema_problem(document, schema, value) is None, (variant, value)
            # and the format as JSON Schema 2020-12 defines it (RFC 3339: a time with an offset)
            if "format" in schema:
                assert STRICT.conforms(value, schema["format"]), (variant, value)
        assert other_value("Specimen", field, generated_sample("Specimen", field, 1)) != generated_sample(
            "Specimen", field, 1
        )
    assert schema_problem(document, schema, wrong_type(field)) is not None
    invalid = invalid_value(field)
    if field.type == "boolean":  # no value of the right type breaks a rule
        assert invalid is None
        return
    assert invalid is not None, "every other field type here has a value that breaks its rule"
    # A missing record and a blank required text are the backend's rules, not the schema's.
    if invalid[1] not in ("a reference to a record that does not exist", "empty"):
        assert schema_problem(document, schema, invalid[0]) is not None, invalid


def test_the_generated_app_passes_its_own_tests(specimens: Build, tmp_path: Path) -> None:
    backend = sandbox_tests(specimens.tree, "backend", tmp_path)
    assert backend.ok, backend.stderr_tail
    passed = {test.name for test in backend.tests if test.status == "passed"}
    covered = {
        (change.story_id, item.criterion_id): item.test.name
        for change in specimens.change_sets
        for item in change.covered_criteria
    }
    uncovered = [
        (c.story_id, i.criterion_id, i.reason) for c in specimens.change_sets for i in c.uncovered_criteria
    ]
    assert not uncovered
    assert set(covered.values()) <= passed


def test_the_contract_check_holds(specimens: Build, tmp_path: Path) -> None:
    manifest = read_manifest(specimens.tree)
    assert manifest is not None
    backend = manifest.component("backend")
    assert backend is not None
    install, environment = install_component(specimens.tree, backend, tmp_path / "install")
    assert environment is not None, install.output_tail
    result = check_backend_contract(
        specimens.tree, specimens.architecture.openapi, backend, environment, 90, workdir_parent=tmp_path
    )
    assert result.started and result.ok, [mismatch.describe() for mismatch in result.mismatches]
    assert result.notes == []  # every body it sent was valid, every record it needed was made
    assert {"POST /api/specimens", "PATCH /api/specimens/{id}", "DELETE /api/specimens/{id}"} <= set(
        result.operations
    )


PROBE_MODULE = '''"""Every field type over HTTP (added by ai-pipeline's own tests, not generated)."""

import json
import unittest

from tests.support import ApiTestCase

PLAN = json.loads(%r)


class FieldTypes(ApiTestCase):
    def body(self):
        owner = self.created("POST", PLAN["owners"], {"name": "Ann"})
        return {**PLAN["body"], "owner_id": owner["id"]}

    def test_crud_and_unknown_ids(self):
        body = self.body()
        item = self.created("POST", PLAN["collection"], body)
        path = self.path_of(PLAN["item"], item["id"])
        status, read = self.api("GET", path)
        self.assertEqual(status, 200, read)
        self.assertEqual({key: read[key] for key in body}, body)
        status, rows = self.api("GET", PLAN["collection"])
        self.assertEqual((status, [row["id"] for row in rows]), (200, [item["id"]]))
        for name, spec in PLAN["fields"].items():
            with self.subTest(update=name):
                change = {name: body["owner_id"] if name == "owner_id" else spec["other"]}
                status, updated = self.api("PATCH", path, change)
                self.assertEqual(status, 200, updated)
                self.assertEqual(self.api("GET", path)[1][name], change[name])
        self.assertEqual(self.api("DELETE", path), (204, None))
        self.assertEqual(self.api("GET", path)[0], 404)
        unknown = self.path_of(PLAN["item"], 987654)
        for method, payload in (("GET", None), ("PATCH", {"label": "x"}), ("DELETE", None)):
            self.assertEqual(self.api(method, unknown, payload)[0], 404, method)

    def test_every_sample_value_is_accepted_and_kept(self):
        body = self.body()
        for name, spec in PLAN["fields"].items():
            for value in spec["samples"]:
                with self.subTest(field=name, value=value):
                    item = self.created("POST", PLAN["collection"], {**body, name: value})
                    self.assertEqual(item[name], value)

    def test_refusals(self):
        body = self.body()
        item = self.created("POST", PLAN["collection"], body)
        path = self.path_of(PLAN["item"], item["id"])
        for name, spec in PLAN["fields"].items():
            with self.subTest(missing=name):
                without = {key: value for key, value in body.items() if key != name}
                self.refused(422, "POST", PLAN["collection"], without, name)
            with self.subTest(invalid=name, value=spec["invalid"]):
                if spec["invalid"] is None:
                    continue
                self.refused(422, "POST", PLAN["collection"], {**body, name: spec["invalid"]}, name)
                self.refused(422, "PATCH", path, {name: spec["invalid"]}, name)
            with self.subTest(wrong_type=name, value=spec["wrong"]):
                self.refused(422, "POST", PLAN["collection"], {**body, name: spec["wrong"]}, name)
                self.refused(422, "PATCH", path, {name: spec["wrong"]}, name)
        self.assertEqual(self.api("GET", path)[1], item)  # nothing refused changed it


if __name__ == "__main__":
    unittest.main()
'''


def probe_plan(architecture: Architecture) -> dict[str, Any]:
    document = architecture.openapi
    schemas = field_schemas(document, "SpecimenInput")
    fields: dict[str, Any] = {}
    for field in FIELDS:
        samples = [generated_sample("Specimen", field, variant) for variant in VARIANTS]
        samples += [
            contract_sample(document, schemas[field.name], field.name, variant) for variant in VARIANTS
        ]
        invalid = invalid_value(field)
        fields[field.name] = {
            "samples": [] if field.type == "reference" else list(dict.fromkeys(samples)),
            "other": other_value("Specimen", field, generated_sample("Specimen", field, 1)),
            "invalid": None if invalid is None else invalid[0],
            "wrong": wrong_type(field),
        }
    body = {
        field.name: generated_sample("Specimen", field, 1) for field in FIELDS if field.type != "reference"
    }
    return {
        "owners": "/api/owners",
        "collection": "/api/specimens",
        "item": "/api/specimens/{id}",
        "body": body,
        "fields": fields,
    }


def test_every_field_type_over_http(specimens: Build, tmp_path: Path) -> None:
    tree = dict(specimens.tree)
    assert "backend/tests/support.py" in tree
    tree["backend/tests/test_field_types_probe.py"] = PROBE_MODULE % json.dumps(
        probe_plan(specimens.architecture)
    )
    run = run_tests_in_sandbox(
        tree,
        [sys.executable, "-m", "unittest", "-v", "tests.test_field_types_probe"],
        timeout_s=180,
        workdir_parent=tmp_path,
        cwd="backend",
    )
    status = {test.name: test.status for test in run.tests}
    assert status == {
        "test_crud_and_unknown_ids": "passed",
        "test_every_sample_value_is_accepted_and_kept": "passed",
        "test_refusals": "passed",
    }, run.stderr_tail[-3000:]
