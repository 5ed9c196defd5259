"""The build key of an offline-built story holds the hash of exactly the templates it renders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assets.architecture.models import Architecture
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.asset import offline_generator
from assets.story_builds.build import build_stories, combine_trees
from assets.story_builds.models import apply_changes
from assets.story_builds.offline import (
    TEMPLATES,
    generate_story_changes,
    plan_build_order,
    story_templates_hash,
)
from resources.forge import LocalForge
from tests.support.offline_build import acme_inputs, notes_design


def template_names(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def marked_copy(root: Path, target: Path, name: str) -> Path:
    """A copy of the templates in which `name` carries a marker its rendered output will show."""
    shutil.copytree(root, target)
    path = target / name
    comment = "/* template-marker */" if path.suffix in (".js", ".css") else "# template-marker"
    path.write_text(path.read_text() + f"\n{comment}\n")
    return target


def stories_rendering(architecture: Architecture, requirements: RequirementsSet, templates: Path) -> set[str]:
    """The stories whose change set, built on its dependencies' trees as story_builds does, shows the
    marker: ground truth of which stories render the marked template."""
    trees: dict[str, dict[str, str]] = {}
    found = set()
    for story_id in [story for layer in plan_build_order(requirements) for story in layer]:
        story = next(s for s in requirements.stories if s.id == story_id)
        base = combine_trees([trees[dep] for dep in story.depends_on if dep in trees])
        change = generate_story_changes(architecture, requirements, story_id, base, templates)
        if any("template-marker" in (item.content or "") for item in change.files):
            found.add(story_id)
        trees[story_id] = apply_changes(base, change.files)
    return found


@pytest.fixture(scope="module")
def acme() -> tuple[RequirementsSet, Architecture]:
    return acme_inputs()


def test_editing_a_template_changes_the_key_of_exactly_the_stories_rendering_it(
    acme: tuple[RequirementsSet, Architecture], tmp_path: Path
) -> None:
    requirements, architecture = acme
    ids = [story.id for story in requirements.stories]
    before = {story_id: story_templates_hash(architecture, requirements, story_id) for story_id in ids}
    names = template_names(TEMPLATES)
    assert "backend/app/server.py" in names and "backend/tests/story_tests.py.tmpl" in names
    seen_partial = False
    for index, name in enumerate(names):
        edited = marked_copy(TEMPLATES, tmp_path / str(index), name)
        changed = {
            story_id
            for story_id in ids
            if story_templates_hash(architecture, requirements, story_id, edited) != before[story_id]
        }
        rendering = stories_rendering(architecture, requirements, edited)
        assert rendering, f"no story renders {name}"
        assert changed == rendering, name
        seen_partial = seen_partial or changed != set(ids)
    assert seen_partial, "every template is rendered by every story: the test would not tell them apart"


def test_a_template_edit_rebuilds_only_the_stories_rendering_it_and_their_dependents(tmp_path: Path) -> None:
    requirements, architecture = notes_design()
    # A story on its own whose only criterion the templates cannot test: it renders no test module.
    lone = UserStory(
        id="US-note05",
        title="Share a note",
        as_a="user",
        i_want="to share a note",
        so_that="others read it",
        acceptance_criteria=[
            AcceptanceCriterion(
                id="AC1", given="a user", when="they share a note", then="only the author can edit it"
            )
        ],
    )
    requirements = requirements.model_copy(update={"stories": [*requirements.stories, lone]})
    forge = LocalForge(root=str(tmp_path / "forge"))
    original = tmp_path / "original"
    shutil.copytree(TEMPLATES, original)
    first = build_stories(
        "notes",
        requirements,
        architecture,
        forge,
        offline_generator(architecture, requirements, original),
        None,
    )
    assert {build.status for build in first.stories} == {"built"}

    tests_edited = marked_copy(original, tmp_path / "tests-edited", "backend/tests/story_tests.py.tmpl")
    second = build_stories(
        "notes",
        requirements,
        architecture,
        forge,
        offline_generator(architecture, requirements, tests_edited),
        first,
    )
    status = {build.story_id: build.status for build in second.stories}
    assert status == {
        "US-note01": "built",
        "US-note02": "built",
        "US-note03": "built",
        "US-note04": "built",
        "US-note05": "unchanged",
    }

    style_edited = marked_copy(tests_edited, tmp_path / "style-edited", "frontend/style.css")
    third = build_stories(
        "notes",
        requirements,
        architecture,
        forge,
        offline_generator(architecture, requirements, style_edited),
        second,
    )
    # Both root stories lay the skeleton down; the others are rebuilt because their base changed.
    assert {build.status for build in third.stories} == {"built"}
    again = build_stories(
        "notes",
        requirements,
        architecture,
        forge,
        offline_generator(architecture, requirements, style_edited),
        third,
    )
    assert {build.status for build in again.stories} == {"unchanged"}


def test_story_keys_are_the_same_when_computed_on_many_threads(
    acme: tuple[RequirementsSet, Architecture],
) -> None:
    """story_builds computes keys on a thread pool: the rules must not share a stemmer's state."""
    from concurrent.futures import ThreadPoolExecutor

    from assets.story_builds.offline import wording

    requirements, architecture = acme
    ids = [story.id for story in requirements.stories] * 4
    expected = [story_templates_hash(architecture, requirements, story_id) for story_id in ids]
    for _ in range(5):
        wording.stem_word.cache_clear()
        with ThreadPoolExecutor(max_workers=8) as pool:
            got = list(pool.map(lambda s: story_templates_hash(architecture, requirements, s), ids))
        assert got == expected
