"""story_builds: one branch, commit and pull request per story, rebuilt only when its inputs change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assets.architecture.models import Architecture
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, UserStory
from assets.story_builds.asset import offline_generator
from assets.story_builds.build import (
    INTEGRATION_BRANCH,
    architecture_slice,
    build_stories,
    combine_trees,
    story_branch,
)
from assets.story_builds.build_order import BuildOrderError, plan_build_order
from assets.story_builds.models import StoryBuildsSet
from assets.story_builds.offline import MANIFEST_PATH
from pipeline_core.repository.manifest import Manifest, ManifestError, read_manifest, render_manifest
from resources.forge import BUILD_KEY_TRAILER, LocalForge
from tests.support.pipeline import example_harness, materialization_metadata
from tests.support.story_builds import CountingForge, counting_generator, dependents

PROJECT = "acme-tasks"


@pytest.fixture(scope="module")
def designed(tmp_path_factory: pytest.TempPathFactory) -> tuple[RequirementsSet, Architecture]:
    """The example project's stories and architecture, from the real stages."""
    with example_harness(tmp_path_factory.mktemp("designed") / "var", PROJECT) as harness:
        return harness.design(PROJECT)


def test_every_story_gets_its_own_branch_commit_and_pull_request(
    designed: tuple[RequirementsSet, Architecture], tmp_path: Path
) -> None:
    requirements, architecture = designed
    forge = LocalForge(root=str(tmp_path / "forge"))
    value = build_stories(
        PROJECT, requirements, architecture, forge, offline_generator(architecture, requirements), None
    )

    assert {b.status for b in value.stories} == {"built"}
    assert {b.story_id for b in value.stories} == {s.id for s in requirements.stories}
    pulls = {pull.branch: pull for pull in forge.list_pull_requests(PROJECT)}
    for build in value.stories:
        assert forge.branch_head(PROJECT, build.branch) == build.commit
        commit = forge.get_commit(PROJECT, build.commit or "")
        assert commit.trailers[BUILD_KEY_TRAILER] == build.build_key
        # Built on top of its dependency's code, as its own commit: the parent is the base branch's head.
        assert commit.parents == [forge.branch_head(PROJECT, build.base_branch)]
        assert pulls[build.branch].story_id == build.story_id
        assert pulls[build.branch].base == build.base_branch
        assert build.files_changed, build.story_id
    # Dependencies come first in the build order.
    position = {story_id: i for i, story_id in enumerate(s for layer in value.build_order for s in layer)}
    for story in requirements.stories:
        assert all(position[d] < position[story.id] for d in story.depends_on)
    # The integration branch holds every story's tests.
    tree = forge.read_tree(PROJECT, INTEGRATION_BRANCH)
    for build in value.stories:
        for covered in build.covered_criteria:
            assert f"def {covered.test.name}(" in tree[covered.test.file].decode()
    assert forge.branch_head(PROJECT, INTEGRATION_BRANCH) == value.integration_commit


def test_a_rerun_with_nothing_changed_makes_no_forge_writes_and_no_generation(
    designed: tuple[RequirementsSet, Architecture], tmp_path: Path
) -> None:
    requirements, architecture = designed
    forge = CountingForge(root=str(tmp_path / "forge"))
    calls: list[str] = []
    generator = counting_generator(offline_generator(architecture, requirements), calls)
    first = build_stories(PROJECT, requirements, architecture, forge, generator, None)
    assert len(calls) == len(requirements.stories)
    forge.writes.clear()
    calls.clear()
    second = build_stories(PROJECT, requirements, architecture, forge, generator, first)
    assert forge.writes == [] and calls == []
    assert {b.status for b in second.stories} == {"unchanged"}
    assert [b.commit for b in second.stories] == [b.commit for b in first.stories]
    assert second.integration_commit == first.integration_commit
    # Unchanged output, unchanged data version: downstream stages are not marked changed.
    assert second.data_version() == first.data_version()


def test_a_changed_story_rebuilds_only_itself_and_its_dependents(
    designed: tuple[RequirementsSet, Architecture], tmp_path: Path
) -> None:
    requirements, architecture = designed
    forge = LocalForge(root=str(tmp_path / "forge"))
    generator = offline_generator(architecture, requirements)
    first = build_stories(PROJECT, requirements, architecture, forge, generator, None)

    target = next(s for s in requirements.stories if s.depends_on)  # a story in the middle of the graph
    changed = requirements.model_copy(deep=True)
    story = next(s for s in changed.stories if s.id == target.id)
    story.so_that = story.so_that + " and nobody is surprised"
    story.content_hash = story.compute_hash()
    second = build_stories(
        PROJECT, changed, architecture, forge, offline_generator(architecture, changed), first
    )
    rebuilt = {b.story_id for b in second.stories if b.status == "built"}
    assert rebuilt == dependents(changed, target.id)
    assert len(rebuilt) < len(requirements.stories)
    before = {b.story_id: b.commit for b in first.stories}
    for build in second.stories:
        if build.story_id not in rebuilt:
            assert build.status == "unchanged" and build.commit == before[build.story_id]
    assert second.integration_commit != first.integration_commit


def test_a_failed_story_is_recorded_its_dependents_wait_and_a_rerun_retries_only_them(
    designed: tuple[RequirementsSet, Architecture], tmp_path: Path
) -> None:
    requirements, architecture = designed
    forge = LocalForge(root=str(tmp_path / "forge"))
    offline = offline_generator(architecture, requirements)
    broken = next(s for s in requirements.stories if any(s.id in o.depends_on for o in requirements.stories))

    failing = counting_generator(offline, [], fail=frozenset({broken.id}))
    first = build_stories(PROJECT, requirements, architecture, forge, failing, None)
    by_id = {b.story_id: b for b in first.stories}
    assert by_id[broken.id].status == "failed"
    assert "the model answered nonsense" in (by_id[broken.id].reason or "")
    waiting = dependents(requirements, broken.id) - {broken.id}
    assert waiting and all(by_id[s].status == "blocked" for s in waiting)
    others = {s.id for s in requirements.stories} - waiting - {broken.id}
    assert all(by_id[s].status == "built" for s in others)
    assert forge.branch_head(PROJECT, story_branch(broken.id)) is None
    assert first.integration_commit is not None  # the others are integrated and can be validated

    calls: list[str] = []
    second = build_stories(
        PROJECT, requirements, architecture, forge, counting_generator(offline, calls), first
    )
    assert set(calls) == waiting | {broken.id}
    assert {b.status for b in second.stories} == {"built", "unchanged"}


def test_a_forge_failure_mid_story_leaves_no_branch_a_rerun_would_trust(
    designed: tuple[RequirementsSet, Architecture], tmp_path: Path
) -> None:
    requirements, architecture = designed
    forge = CountingForge(root=str(tmp_path / "forge"))
    generator = offline_generator(architecture, requirements)
    first = build_stories(PROJECT, requirements, architecture, forge, generator, None)
    victim = first.stories[-1]
    # Someone (or a half-finished run) moved the story's branch: its head no longer carries the build key.
    other = first.stories[0]
    forge.commit_files(PROJECT, victim.branch, other.commit or "", [], "stray commit")
    forge.fail_branches.add(victim.branch)
    second = build_stories(PROJECT, requirements, architecture, forge, generator, first)
    failed = {b.story_id: b for b in second.stories}[victim.story_id]
    assert failed.status == "failed" and "simulated forge outage" in (failed.reason or "")

    forge.fail_branches.clear()
    third = build_stories(PROJECT, requirements, architecture, forge, generator, second)
    redone = {b.story_id: b for b in third.stories}[victim.story_id]
    assert redone.status == "built"
    head = forge.get_commit(PROJECT, forge.branch_head(PROJECT, victim.branch) or "")
    assert head.trailers[BUILD_KEY_TRAILER] == redone.build_key


def test_the_asset_reports_stories_links_and_model_calls(tmp_path: Path) -> None:
    with example_harness(tmp_path / "var", PROJECT) as harness:
        first = harness.run(PROJECT)
        assert first.success
        value = harness.value("story_builds", PROJECT, StoryBuildsSet)
        metadata = materialization_metadata(first, "story_builds")
        assert metadata["stories_built"] == len(value.stories) == metadata["llm_model_calls"]
        # The local forge's repository is a folder: the UI shows how to clone and review it, never a
        # file:// link a browser will not open from the UI.
        clone = metadata["repository_clone"]
        assert clone == f"git clone {Path(value.repository_url.removeprefix('file://'))}"
        assert "ai-pipeline review list --project acme-tasks" in metadata["review_with"]
        assert "repository" not in metadata and "file://" not in metadata["stories"]
        assert all(f"| #{b.pull_request} |" in metadata["stories"] for b in value.stories)
        forge = LocalForge(root=str(harness.settings.data_dir / "forge"))
        manifest = forge.read_tree(PROJECT, INTEGRATION_BRANCH)
        assert MANIFEST_PATH in manifest

        again = harness.run(PROJECT)
        metadata = materialization_metadata(again, "story_builds")
        assert metadata["stories_unchanged"] == len(value.stories)
        assert metadata["llm_model_calls"] == 0


def test_requested_changes_on_a_pull_request_rebuild_that_story(
    designed: tuple[RequirementsSet, Architecture], tmp_path: Path
) -> None:
    requirements, architecture = designed
    forge = LocalForge(root=str(tmp_path / "forge"))
    generator = offline_generator(architecture, requirements)
    first = build_stories(PROJECT, requirements, architecture, forge, generator, None)
    reviewed = next(
        b for b in first.stories if not any(b.story_id in s.depends_on for s in requirements.stories)
    )
    forge.add_review(
        PROJECT, reviewed.pull_request or 0, "changes_requested", "Sort the list by due date", "ana"
    )

    second = build_stories(PROJECT, requirements, architecture, forge, generator, first)
    keys = {b.story_id: b.build_key for b in first.stories}
    rebuilt = {b.story_id for b in second.stories if b.build_key != keys[b.story_id]}
    assert rebuilt == {reviewed.story_id}
    # The offline generator cannot act on free text: the rebuild is the same tree, so nothing is
    # committed and no pull request is opened (its key is recorded, so the next run keeps it).
    again = {b.story_id: b for b in second.stories}[reviewed.story_id]
    assert (
        again.status == "unchanged"
        and again.commit == reviewed.commit
        and "nothing committed" in (again.reason or "")
    )
    assert forge.branch_head(PROJECT, reviewed.branch) == reviewed.commit
    assert len(forge.list_pull_requests(PROJECT)) == len(first.stories)
    calls: list[str] = []
    third = build_stories(
        PROJECT, requirements, architecture, forge, counting_generator(generator, calls), second
    )
    assert {b.status for b in third.stories} == {"unchanged"} and calls == []  # nothing regenerated


def _story(story_id: str, depends_on: list[str] | None = None) -> UserStory:
    return UserStory(
        id=story_id,
        title=story_id,
        as_a="user",
        i_want="to create a note",
        so_that="it is done",
        depends_on=depends_on or [],
        acceptance_criteria=[AcceptanceCriterion(id="AC1", given="a user", when="they act", then="it works")],
    )


def test_build_order_layers_put_dependencies_first_and_keep_the_given_order() -> None:
    requirements = RequirementsSet(
        project="p",
        stories=[
            _story("US-d", ["US-b"]),
            _story("US-a"),
            _story("US-b", ["US-a", "US-gone"]),
            _story("US-c"),
            _story("US-e", ["US-a"]),
        ],
    )
    assert plan_build_order(requirements) == [["US-a", "US-c"], ["US-b", "US-e"], ["US-d"]]


def test_a_dependency_cycle_names_its_stories() -> None:
    requirements = RequirementsSet(
        project="p",
        stories=[
            _story("US-free"),
            _story("US-a", ["US-c"]),
            _story("US-b", ["US-a"]),
            _story("US-c", ["US-b"]),
        ],
    )
    with pytest.raises(BuildOrderError) as caught:
        plan_build_order(requirements)
    assert set(caught.value.cycle) == {"US-a", "US-b", "US-c"}
    assert caught.value.cycle[0] == caught.value.cycle[-1]
    assert "dependency cycle" in str(caught.value) and "US-a" in str(caught.value)
    with pytest.raises(BuildOrderError, match="US-self -> US-self"):
        plan_build_order(RequirementsSet(project="p", stories=[_story("US-self", ["US-self"])]))


def _manifest(components: list[dict], stories: list[str]) -> str:
    return render_manifest(
        Manifest.model_validate(
            {
                "generator": "claude-codegen-2",
                "project": "p",
                "components": components,
                "stories": [{"id": s, "title": s, "spec_hash": s} for s in stories],
            }
        )
    )


def test_combined_trees_merge_their_manifests_through_the_contract() -> None:
    api = {
        "name": "api",
        "path": "api",
        "kind": "worker",
        "runtime": "python",
        "test": ["python", "-m", "pytest"],
    }
    web = {
        "name": "web",
        "path": "web",
        "kind": "frontend",
        "runtime": "node",
        "test": ["npm", "test"],
        "publish_dir": "web/dist",
    }
    left = {"api/a.py": "a = 1\n", MANIFEST_PATH: _manifest([api], ["US-a"])}
    right = {
        "web/b.js": "b\n",
        MANIFEST_PATH: _manifest([web, {**api, "test": ["python", "-m", "unittest"]}], ["US-b"]),
    }

    combined = combine_trees([left, right])

    manifest = read_manifest(combined)
    assert manifest is not None
    assert [story.id for story in manifest.stories] == ["US-a", "US-b"]
    assert {c.name: c.test for c in manifest.components} == {
        "api": ["python", "-m", "unittest"],
        "web": ["npm", "test"],
    }
    assert set(combined) == {"api/a.py", "web/b.js", MANIFEST_PATH}

    broken = {
        MANIFEST_PATH: json.dumps(
            {"generator": "claude-codegen-2", "project": "p", "components": [{"name": "x"}]}
        )
    }
    with pytest.raises(ManifestError, match="does not follow the contract"):
        combine_trees([left, broken])


def test_a_component_description_naming_a_new_entity_rebuilds_no_story(
    designed: tuple[RequirementsSet, Architecture],
) -> None:
    # The offline database's description lists every entity: a new entity elsewhere changes it.
    requirements, architecture = designed
    renamed = architecture.model_copy(
        update={
            "components": [
                component.model_copy(update={"description": component.description + ", Invoice"})
                for component in architecture.components
            ]
        }
    )
    for story in requirements.stories:
        assert architecture_slice(renamed, story.id) == architecture_slice(architecture, story.id)
    # What the design says of a component's stack still counts.
    restacked = architecture.model_copy(
        update={
            "components": [
                component.model_copy(update={"stack": other_stack})
                for component in architecture.components
                for other_stack in [component.stack.model_copy(update={"framework": "Other"})]
            ]
        }
    )
    story = requirements.stories[0]
    assert architecture_slice(restacked, story.id) != architecture_slice(architecture, story.id)
