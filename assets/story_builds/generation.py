"""One story's tree generated on a given base tree, and the generators that do it.

Shared by the stages that write a story's code: `story_builds` generates each story on the tree its
dependencies produced, and `reviews` regenerates an approved story on main's current tree when its
branch no longer merges cleanly (GitHub's "Update branch", resolved the way the story would be built
today). Both pick the generator with `project_generator`, so they write the same files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet
from assets.story_builds.budget import Budget
from assets.story_builds.models import CodegenBounds, StoryChangeSet, apply_changes
from assets.story_builds.offline import (
    GENERATOR_VERSION,
    TEMPLATES,
    OfflinePlan,
    generate_story_changes,
    story_templates_hash,
)
from assets.story_builds.story_tests import StoryTester, sandbox_tester
from pipeline_core.settings import get_settings
from resources.forge.base import FileChange as ForgeFileChange
from resources.llm.resource import LlmResource
from resources.llm.task import LlmUsage

Tree = dict[str, str]


def text_tree(tree: Mapping[str, bytes]) -> Tree:
    """A tree as the forge stores it (bytes) as the generators read it (text)."""
    return {path: data.decode("utf-8", errors="replace") for path, data in tree.items()}


def tree_changes(base: Mapping[str, str | bytes], target: Mapping[str, str | bytes]) -> list[ForgeFileChange]:
    """The forge changes that turn `base` into `target` (both text, or both bytes)."""
    changes = [
        ForgeFileChange(path=path, content=data)
        for path, data in sorted(target.items())
        if base.get(path) != data
    ]
    changes += [ForgeFileChange(path=path, delete=True) for path in sorted(base) if path not in target]
    return changes


@dataclass(frozen=True)
class StoryGenerator:
    """Turns (story, base tree, review feedback) into a change set, reporting the model usage it cost.

    `id` names the generator, its version and model: it is part of every build key. `finalize`
    (optional) brings a combined tree into a consistent state, for generators that derive shared files
    from state kept in the tree. `story_key` (optional) gives a per-story part of the build key, such
    as the hash of the templates a story renders.
    """

    id: str
    generate: Callable[[str, Mapping[str, str], str | None], tuple[StoryChangeSet, LlmUsage]]
    finalize: Callable[[Mapping[str, str], list[str]], Tree] | None = None
    story_key: Callable[[str], str] | None = None
    budget_usd_per_project: float | None = None  # what the generator may spend in one run, if bounded
    bounds: CodegenBounds | None = None  # a model's bounds (rounds, budgets); None: no model


@dataclass(frozen=True)
class GeneratedStory:
    """A story generated on a base tree: the change set, what it cost, and the tree it gives."""

    change_set: StoryChangeSet
    usage: LlmUsage
    tree: Tree


def generate_story_tree(
    generator: StoryGenerator, story_id: str, base_tree: Mapping[str, str], feedback: str | None
) -> GeneratedStory:
    """Story `story_id` generated on `base_tree` (with the review feedback it is built with): the
    change set and the base tree with it applied. The generator's errors (StoryNotBuilt, ...) pass."""
    change_set, usage = generator.generate(story_id, base_tree, feedback)
    return GeneratedStory(change_set=change_set, usage=usage, tree=apply_changes(base_tree, change_set.files))


def offline_generator(
    architecture: Architecture, requirements: RequirementsSet, templates: Path = TEMPLATES
) -> StoryGenerator:
    """The template generator: no model, each generation counted as one call of the offline provider.
    Each story's build key holds the hash of the templates (from `templates`) it renders."""
    shared = OfflinePlan(architecture, requirements, templates)  # what every story derives alike

    def generate(
        story_id: str, tree: Mapping[str, str], feedback: str | None
    ) -> tuple[StoryChangeSet, LlmUsage]:
        change = generate_story_changes(architecture, requirements, story_id, tree, templates, shared)
        return change, LlmUsage(model_calls=1)

    def finalize(tree: Mapping[str, str], built: list[str]) -> Tree:
        # Rebuilding the last story on the combined tree re-derives the shared files from every story.
        change = generate_story_changes(architecture, requirements, built[-1], tree, templates, shared)
        return apply_changes(tree, change.files)

    return StoryGenerator(
        id=GENERATOR_VERSION,
        generate=generate,
        finalize=finalize,
        story_key=lambda story_id: story_templates_hash(
            architecture, requirements, story_id, templates, shared
        ),
    )


def model_generator(
    llm: LlmResource,
    architecture: Architecture,
    requirements: RequirementsSet,
    *,
    tester: StoryTester | None,
    max_rounds: int,
    story_budget_usd: float | None = None,
    project_budget_usd: float | None = None,
) -> StoryGenerator:
    """Claude writes each story's change set: validated, confined to the repository, its manifest
    written by the pipeline, and (with a `tester`) its components' tests passing before it is
    returned, within at most `max_rounds` change sets and the budgets (one project budget per run)."""
    from assets.story_builds.codegen_claude import PROMPT_VERSION, generate_story_changes_with_model

    project_budget = Budget(project_budget_usd, f"project {architecture.project}")

    def generate(
        story_id: str, tree: Mapping[str, str], feedback: str | None
    ) -> tuple[StoryChangeSet, LlmUsage]:
        session = llm.session()
        change_set = generate_story_changes_with_model(
            session,
            architecture,
            requirements,
            story_id,
            tree,
            review_feedback=feedback,
            tester=tester,
            max_rounds=max_rounds,
            story_budget_usd=story_budget_usd,
            project_budget=project_budget,
        )
        return change_set, session.usage

    return StoryGenerator(
        id=f"{llm.provider}:{llm.effective_model()}:{PROMPT_VERSION}",
        generate=generate,
        budget_usd_per_project=project_budget_usd,
        bounds=CodegenBounds(
            fix_rounds=max_rounds,
            budget_usd_per_story=story_budget_usd,
            budget_usd_per_project=project_budget_usd,
        ),
    )


def codegen_bounds(
    fix_rounds: int | None = None,
    budget_usd_per_story: float | None = None,
    budget_usd_per_project: float | None = None,
) -> CodegenBounds:
    """The bounds given, each unset one taken from the settings (PIPELINE_CODEGEN_FIX_ROUNDS,
    PIPELINE_BUDGET_USD_PER_STORY, PIPELINE_BUDGET_USD_PER_PROJECT): the one place they are resolved."""
    settings = get_settings()
    return CodegenBounds(
        fix_rounds=fix_rounds or settings.pipeline_codegen_fix_rounds,
        budget_usd_per_story=budget_usd_per_story or settings.pipeline_budget_usd_per_story,
        budget_usd_per_project=budget_usd_per_project or settings.pipeline_budget_usd_per_project,
    )


def project_generator(
    llm: LlmResource,
    architecture: Architecture,
    requirements: RequirementsSet,
    *,
    bounds: CodegenBounds | None = None,
) -> StoryGenerator:
    """The generator a project's stories are written with: the offline templates when the provider is
    offline, else the model with its components' tests run in the sandbox, within `bounds` (unset: the
    settings')."""
    if llm.provider == "offline":
        return offline_generator(architecture, requirements)
    bounds = bounds or codegen_bounds()
    return model_generator(
        llm,
        architecture,
        requirements,
        tester=sandbox_tester(),
        max_rounds=bounds.fix_rounds,
        story_budget_usd=bounds.budget_usd_per_story,
        project_budget_usd=bounds.budget_usd_per_project,
    )
