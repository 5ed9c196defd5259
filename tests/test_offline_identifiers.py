"""Every name the offline generator derives from text is safe in Python, JavaScript and SQL: an entity
named after any Python or JavaScript keyword still gives a backend that imports and passes its tests."""

from __future__ import annotations

import builtins
import keyword
import re
from pathlib import Path

import pytest

from assets.architecture.models import (
    Architecture,
    Entity,
    EntityField,
    StoryComponents,
)
from assets.architecture.openapi import EntityOperation, collection_path, render_openapi
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.offline.names import (
    JS_RESERVED,
    js_name,
    module_name,
    safe_js,
    safe_python,
    table_name,
    variable,
)
from tests.support.offline_build import build_all, sandbox_tests, stdlib_components

PYTHON_KEYWORDS = sorted(set(keyword.kwlist) | set(keyword.softkwlist))
JS_KEYWORDS = sorted(
    """await break case catch class const continue debugger default delete do else enum export extends
    false finally for function if import in instanceof new null return super switch this throw true try
    typeof var void while with yield let static implements interface package private protected public
    arguments eval""".split()
)
KEYWORDS = sorted(set(PYTHON_KEYWORDS) | set(JS_KEYWORDS))
# Names a keyword could be read as by accident in JavaScript (any identifier must not be one).
_JS_IDENTIFIER = re.compile(r"^[A-Za-z_$][0-9A-Za-z_$]*$")


def entity_name(word: str) -> str:
    return word.strip("_").capitalize() or "Underscore"


@pytest.mark.parametrize("word", KEYWORDS)
def test_derived_names_are_never_keywords(word: str) -> None:
    entity = entity_name(word)
    for name in (
        module_name(entity),
        table_name(entity),
        variable(entity),
        variable(entity, 1),
        safe_python(word),
    ):
        assert name.isidentifier() and not keyword.iskeyword(name) and not keyword.issoftkeyword(name), name
        assert name not in dir(builtins), name
    for name in (js_name(entity), safe_js(word)):
        assert _JS_IDENTIFIER.match(name) and name not in JS_RESERVED, name
    assert module_name("Return") == "return_" and js_name("Class") == "class_"


def keyword_design() -> tuple[RequirementsSet, Architecture]:
    """One entity per keyword, all served (so every module is imported); a create criterion for some."""
    entities = []
    seen_paths: set[str] = set()
    for word in KEYWORDS:
        name = entity_name(word)
        path = collection_path(name)
        if path in seen_paths or name in {e.name for e in entities}:
            continue  # two keywords with one plural ("is"/"i") would share a path: keep one
        seen_paths.add(path)
        entities.append(
            Entity(
                name=name,
                fields=[
                    EntityField(name="id", type="integer", required=True),
                    EntityField(name="title", type="string", required=True),
                    EntityField(name="count", type="integer"),
                ],
            )
        )
    tested = ["Return", "Class", "Import", "Await", "None", "Function", "Lambda", "Yield"]
    tested = list(dict.fromkeys(name for name in tested if any(e.name == name for e in entities)))
    story = UserStory(
        id="US-kw",
        title="Keep records of every kind",
        as_a="user",
        i_want="to create records",
        so_that="nothing breaks",
        acceptance_criteria=[
            AcceptanceCriterion(
                id=f"AC{index}",
                given="a user",
                when=f"they create a {name.lower()} with a title",
                then="it is kept",
            )
            for index, name in enumerate(tested, start=1)
        ],
    )
    operations = {
        entity.name: [
            EntityOperation(kind=kind, story_ids=["US-kw"]) for kind in ("list", "create", "read", "delete")
        ]
        for entity in entities
    }
    architecture = Architecture(
        project="keywords",
        summary="An entity for every keyword.",
        components=stdlib_components(),
        openapi=render_openapi("Keywords", entities, operations),
        data_model=entities,
        story_map=[StoryComponents(story_id="US-kw", components=["backend", "frontend"])],
    )
    return RequirementsSet(project="keywords", stories=[story]), architecture


def test_an_entity_per_keyword_gives_a_backend_that_imports_and_passes(tmp_path: Path) -> None:
    requirements, architecture = keyword_design()
    assert len(architecture.data_model) > 60
    build = build_all(requirements, architecture)
    tree = build.tree
    assert "backend/app/resources/return_.py" in tree and "backend/app/resources/class_.py" in tree
    [change] = build.change_sets
    assert not change.uncovered_criteria, change.uncovered_criteria
    for path, text in tree.items():
        if path.endswith(".py"):
            compile(text, path, "exec")  # every generated module parses
    backend = sandbox_tests(tree, "backend", tmp_path)
    frontend = sandbox_tests(tree, "frontend", tmp_path)
    assert backend.ok, backend.stderr_tail
    assert frontend.ok, frontend.stderr_tail
    passed = {test.name for test in backend.tests if test.status == "passed"}
    assert {item.test.name for item in change.covered_criteria} <= passed
    assert {"test_health", "test_contract_is_served"} <= passed
