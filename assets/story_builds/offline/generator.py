"""The offline generator's entry point: the files one story adds or changes on top of a tree.

The first story (or any story whose tree lacks the skeleton) lays the application down. Each story
then enables the contract operations attributed to it (`x-story-ids`, else the verb and entity of its
want-clause) and those its tests call, the frontend controls for them, and a test module with one
test per acceptance criterion the templates can really implement. Pure and deterministic: the same
architecture, story and tree always give the same files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet, UserStory
from assets.story_builds.models import (
    CoveredCriterion,
    FileChange,
    StoryChangeSet,
    TestRef,
    UncoveredCriterion,
    tree_hash,
)
from assets.story_builds.offline.contract import ContractOperation, contract_operations
from assets.story_builds.offline.criteria import CriterionPlan, plan_criterion, story_operations
from assets.story_builds.offline.names import module_name, test_file, test_name
from assets.story_builds.offline.render_backend import render_resource_module, render_resources_package
from assets.story_builds.offline.render_docs import render_ci, render_readme
from assets.story_builds.offline.render_frontend import render_index_html, render_resources_js
from assets.story_builds.offline.render_tests import render_test_method, render_test_module
from assets.story_builds.offline.specs import resource_specs
from assets.story_builds.offline.state import (
    GENERATOR_VERSION,
    GenerationError,
    components,
    enabled_operations,
    read_state,
)
from assets.story_builds.offline.templates import (
    SKELETON_FILES,
    STORY_TESTS,
    TEMPLATES,
    template_text,
    templates_hash,
)
from pipeline_core.hashing import content_hash
from pipeline_core.repository.manifest import MANIFEST_PATH, StoryRecord, render_manifest

STATIC_FILES = {
    "backend/app/__init__.py": '"""The generated backend."""\n',
    "backend/app/resources/__init__.py": None,  # derived, see below
    "backend/tests/__init__.py": "",
    "frontend/tests/__init__.py": "",
    "backend/requirements.txt": "# The backend uses the Python standard library only.\n",
    "backend/.dockerignore": "__pycache__/\n*.pyc\ndata/\ntests/\n",
    ".gitignore": "__pycache__/\n*.pyc\nbackend/data/\n",
}


def find_story(requirements: RequirementsSet, story_id: str) -> UserStory:
    for story in requirements.stories:
        if story.id == story_id:
            return story
    raise GenerationError(f"no story {story_id!r} in the requirements of {requirements.project!r}")


def skeleton_missing(tree: Mapping[str, str]) -> bool:
    return MANIFEST_PATH not in tree or "backend/app/server.py" not in tree


def plan_story(
    architecture: Architecture, story: UserStory, operations: list[ContractOperation]
) -> tuple[list[ContractOperation], list[CriterionPlan], list[UncoveredCriterion]]:
    """The story's own operations, the plans of its testable criteria, and the others with reasons."""
    own = story_operations(architecture, story, operations)
    plans: list[CriterionPlan] = []
    uncovered: list[UncoveredCriterion] = []
    for criterion in story.acceptance_criteria:
        plan = plan_criterion(architecture, story, criterion, own, operations)
        if isinstance(plan, str):
            text = f"Given {criterion.given}, when {criterion.when}, then {criterion.then}"
            uncovered.append(
                UncoveredCriterion(story_id=story.id, criterion_id=criterion.id, reason=plan, text=text)
            )
        else:
            plans.append(plan)
    return own, plans, uncovered


# A story's own operations, the plans of its testable criteria, and the others with reasons.
StoryPlan = tuple[list[ContractOperation], list[CriterionPlan], list[UncoveredCriterion]]


class OfflinePlan:
    """What every story of one run derives from the same design and story set, derived once.

    The contract's operations, the story index, the rendered `openapi.json`, the design's data version,
    and per story its plan and template hash: each grows with the number of stories, so recomputing
    them for every story made a build quadratic in the stories. The design and the stories must not
    change while a plan is in use (a run reads them once); build a new plan for new inputs.
    """

    def __init__(
        self, architecture: Architecture, requirements: RequirementsSet, templates: Path = TEMPLATES
    ) -> None:
        self.architecture = architecture
        self.requirements = requirements
        self.templates = templates
        self._plans: dict[str, StoryPlan] = {}
        self._template_hashes: dict[str, str] = {}

    @cached_property
    def operations(self) -> list[ContractOperation]:
        return contract_operations(self.architecture)

    @cached_property
    def stories(self) -> dict[str, UserStory]:
        return {story.id: story for story in reversed(self.requirements.stories)}  # the first one wins

    @cached_property
    def openapi_json(self) -> str:
        return json.dumps(self.architecture.openapi, indent=2, sort_keys=True) + "\n"

    @cached_property
    def architecture_version(self) -> str:
        return self.architecture.data_version()

    def story(self, story_id: str) -> UserStory:
        if story_id not in self.stories:
            project = self.requirements.project
            raise GenerationError(f"no story {story_id!r} in the requirements of {project!r}")
        return self.stories[story_id]

    def plan(self, story_id: str) -> StoryPlan:
        if story_id not in self._plans:  # two threads may both plan a story: the same result
            self._plans[story_id] = plan_story(self.architecture, self.story(story_id), self.operations)
        own, plans, uncovered = self._plans[story_id]
        return list(own), list(plans), list(uncovered)

    def has_tests(self, story_id: str) -> bool:
        """Whether the story yields a test module: its first testable criterion says so, without
        planning the others (a re-run computes every story's key, but builds only the changed ones)."""
        if story_id in self._plans:
            return bool(self._plans[story_id][1])
        story = self.story(story_id)
        own = story_operations(self.architecture, story, self.operations)
        return any(
            not isinstance(plan_criterion(self.architecture, story, criterion, own, self.operations), str)
            for criterion in story.acceptance_criteria
        )

    def rendered_templates(self, story_id: str) -> list[str]:
        story = self.story(story_id)
        names = [] if any(dep in self.stories for dep in story.depends_on) else sorted(SKELETON_FILES)
        if self.has_tests(story_id):
            names.append(STORY_TESTS)
        return names

    def templates_hash(self, story_id: str) -> str:
        if story_id not in self._template_hashes:
            names = self.rendered_templates(story_id)
            self._template_hashes[story_id] = templates_hash(names, self.templates)
        return self._template_hashes[story_id]


def rendered_templates(architecture: Architecture, requirements: RequirementsSet, story_id: str) -> list[str]:
    """The templates building `story_id` renders: the skeleton when the story is built on no other
    story of the set (its base tree lacks the application), the test module when it yields tests."""
    return OfflinePlan(architecture, requirements).rendered_templates(story_id)


def story_templates_hash(
    architecture: Architecture,
    requirements: RequirementsSet,
    story_id: str,
    root: Path = TEMPLATES,
    shared: OfflinePlan | None = None,
) -> str:
    """A hash of exactly the templates `story_id` renders: part of its build key, so editing a
    template rebuilds exactly the stories that render it (and, through their keys, their dependents)."""
    return (shared or OfflinePlan(architecture, requirements, root)).templates_hash(story_id)


def input_hash(
    architecture: Architecture,
    requirements: RequirementsSet,
    story: UserStory,
    tree: Mapping[str, str],
    templates: Path = TEMPLATES,
    shared: OfflinePlan | None = None,
) -> str:
    """The build key of one story: generator and templates, design, story content and base tree."""
    shared = shared or OfflinePlan(architecture, requirements, templates)
    return content_hash(
        {
            "generator": GENERATOR_VERSION,
            "templates": shared.templates_hash(story.id),
            "architecture": shared.architecture_version,
            "story": story.model_dump(mode="json", exclude={"traces"}),
            "tree": tree_hash(tree),
        }
    )


def generate_story_changes(
    architecture: Architecture,
    requirements: RequirementsSet,
    story_id: str,
    current_tree: Mapping[str, str],
    templates: Path = TEMPLATES,
    shared: OfflinePlan | None = None,
) -> StoryChangeSet:
    """The files story `story_id` adds or changes on top of `current_tree` (path -> text), with the
    criteria its tests cover and those it cannot, each with the reason (templates from `templates`).
    `shared` carries what every story of a run shares (built from the same three inputs when absent)."""
    shared = shared or OfflinePlan(architecture, requirements, templates)
    story = shared.story(story_id)
    laid_skeleton = skeleton_missing(current_tree)
    manifest = read_state(current_tree, architecture.project)
    operations = shared.operations
    by_key = {op.key: op for op in operations}
    own, plans, uncovered = shared.plan(story_id)

    enabled_keys = list(dict.fromkeys([op.key for op in own] + [key for plan in plans for key in plan.needs]))
    enabled_keys = [key for key in enabled_keys if key in by_key]
    record = StoryRecord(
        id=story.id,
        title=story.title,
        spec_hash=story.content_hash or story.compute_hash(),
        operations=[by_key[key].label for key in enabled_keys],
        tests=[test_file(story.id)] if plans else [],
        covered=[plan.criterion.id for plan in plans],
        uncovered={item.criterion_id: item.reason for item in uncovered},
    )
    manifest = manifest.with_story(record).model_copy(
        update={"generator": GENERATOR_VERSION, "project": architecture.project, "components": components()}
    )
    specs = resource_specs(architecture, operations, enabled_operations(manifest, operations))
    spec_of = {spec.entity.name: spec for spec in specs}

    files: dict[str, str | None] = {}
    for template, target in SKELETON_FILES.items():
        if laid_skeleton or target not in current_tree:
            files[target] = template_text(template, templates)
    for path, text in STATIC_FILES.items():
        if text is not None and (laid_skeleton or path not in current_tree):
            files[path] = text
    # Derived files follow the design and the stories built so far: regenerated for every story.
    files["backend/openapi.json"] = shared.openapi_json
    files[".github/workflows/ci.yml"] = render_ci(manifest.components)
    for path in current_tree:
        if path.startswith("backend/app/resources/") and path.endswith(".py"):
            files[path] = None  # an entity no longer served; the ones still served are written below
    files["backend/app/resources/__init__.py"] = render_resources_package(specs)
    for spec in specs:
        files[f"backend/app/resources/{module_name(spec.entity.name)}.py"] = render_resource_module(spec)
    files["frontend/resources.js"] = render_resources_js(specs)
    files["frontend/index.html"] = render_index_html(architecture, specs)
    files["README.md"] = render_readme(architecture, manifest, specs)
    files[MANIFEST_PATH] = render_manifest(manifest)

    covered: list[CoveredCriterion] = []
    methods = []
    target_file = test_file(story.id)
    for plan in plans:
        methods.append(render_test_method(story, plan, spec_of))
        covered.append(
            CoveredCriterion(
                story_id=story.id,
                criterion_id=plan.criterion.id,
                test=TestRef(
                    component="backend", file=target_file, name=test_name(story.id, plan.criterion.id)
                ),
                behaviour=plan.describe(_behaviour_label(plan, by_key)),
            )
        )
    if methods:
        files[target_file] = render_test_module(story, methods, uncovered, templates)
    elif target_file in current_tree:
        files[target_file] = None  # a rebuilt story whose criteria no longer yield tests

    changes = [
        FileChange(path=path, content=text)
        for path, text in sorted(files.items())
        if current_tree.get(path) != text and not (text is None and path not in current_tree)
    ]
    return StoryChangeSet(
        story_id=story.id,
        message=f"{story.id}: {story.title}" + (" (with the application skeleton)" if laid_skeleton else ""),
        files=changes,
        laid_skeleton=laid_skeleton,
        operations=record.operations,
        covered_criteria=covered,
        uncovered_criteria=uncovered,
        input_hash=input_hash(architecture, requirements, story, current_tree, templates, shared),
    )


_PLAN_OPERATION = {
    "create": "create",
    "validate": "create",
    "invalid": "create",
    "unique": "create",
    "limit": "create",
    "read": "read",
    "update": "update",
    "delete": "delete",
    "delete_referenced": "delete",
    "list": "list",
    "sort": "list",
    "transition": "transition",
    "summary": "summary",
}


def _behaviour_label(plan: CriterionPlan, by_key: Mapping[tuple[str, str, str], ContractOperation]) -> str:
    kind = _PLAN_OPERATION[plan.kind]
    name = plan.name if kind in ("transition", "summary") else ""
    operation = by_key.get((plan.entity, kind, name))
    return operation.label if operation else ""
