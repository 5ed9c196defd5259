"""A story `reviews` regenerates with a model (bringing a conflicting approved branch up to date) is
held to the bounds `story_builds` ran with: its run config, else the settings, resolved in one place
and recorded in the story_builds value."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assets.reviews.asset import regenerator_for
from assets.story_builds.build import StoryGenerator, build_stories
from assets.story_builds.generation import codegen_bounds, offline_generator
from assets.story_builds.models import CodegenBounds, StoryBuildsSet, StoryNotBuilt
from pipeline_core.settings import get_settings
from resources.forge.local import LocalForge
from resources.llm import LlmResource
from tests.support.story_builds import loop_project

BOUND_VARIABLES = (
    "PIPELINE_CODEGEN_FIX_ROUNDS",
    "PIPELINE_BUDGET_USD_PER_STORY",
    "PIPELINE_BUDGET_USD_PER_PROJECT",
)


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The bounds' environment variables, read afresh by get_settings()."""
    for name in BOUND_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _set(env: pytest.MonkeyPatch, **values: str) -> None:
    for name, value in values.items():
        env.setenv(name, value)
    get_settings.cache_clear()


def claude(tmp_path: Path) -> LlmResource:
    """A Claude provider no test here reaches: every call these tests allow is refused by a budget."""
    return LlmResource(
        provider="anthropic",
        api_key="sk-test",
        base_url="http://127.0.0.1:9",
        cache_url=(tmp_path / "llm-cache").as_uri(),
        max_retries=0,
    )


def built_value(bounds: CodegenBounds | None) -> StoryBuildsSet:
    return StoryBuildsSet(
        project="bench-loop",
        repository="bench-loop",
        repository_url="file:///bench-loop",
        build_order=[],
        stories=[],
        integration_branch="integration",
        budget_usd_per_project=bounds.budget_usd_per_project if bounds else None,
        codegen_bounds=bounds,
    )


def test_the_run_config_wins_and_unset_bounds_take_the_settings(settings_env: pytest.MonkeyPatch) -> None:
    _set(settings_env, PIPELINE_CODEGEN_FIX_ROUNDS="4", PIPELINE_BUDGET_USD_PER_PROJECT="7.5")
    assert codegen_bounds(None, 0.5, None) == CodegenBounds(
        fix_rounds=4, budget_usd_per_story=0.5, budget_usd_per_project=7.5
    )
    assert codegen_bounds(2, None, 3.0) == CodegenBounds(
        fix_rounds=2, budget_usd_per_story=None, budget_usd_per_project=3.0
    )


def test_story_builds_records_the_bounds_its_generator_ran_within(tmp_path: Path) -> None:
    requirements, architecture = loop_project(stories=1)
    offline = offline_generator(architecture, requirements)
    bounds = CodegenBounds(fix_rounds=2, budget_usd_per_story=0.25, budget_usd_per_project=1.5)
    bounded = StoryGenerator(
        id=offline.id,
        generate=offline.generate,
        finalize=offline.finalize,
        story_key=offline.story_key,
        budget_usd_per_project=1.5,
        bounds=bounds,
    )
    forge = LocalForge(root=str(tmp_path / "forge"))
    value = build_stories("bench-loop", requirements, architecture, forge, bounded, None)
    assert value.codegen_bounds == bounds
    assert StoryBuildsSet.model_validate_json(value.model_dump_json()).codegen_bounds == bounds
    plain = build_stories("bench-loop", requirements, architecture, forge, offline, None)
    assert plain.codegen_bounds is None  # no model, no bounds


def test_a_regeneration_in_reviews_takes_story_builds_bounds_not_the_settings(
    settings_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _set(settings_env, PIPELINE_BUDGET_USD_PER_STORY="50", PIPELINE_BUDGET_USD_PER_PROJECT="500")
    requirements, architecture = loop_project(stories=1)
    forge = LocalForge(root=str(tmp_path / "forge"))
    tiny = CodegenBounds(fix_rounds=2, budget_usd_per_story=1e-6, budget_usd_per_project=3.0)
    regenerator = regenerator_for(built_value(tiny), requirements, architecture, forge, claude(tmp_path))
    assert regenerator.generator.bounds == tiny
    assert regenerator.generator.budget_usd_per_project == 3.0
    # The recorded story budget is what the regeneration is held to: its first call would pass it.
    with pytest.raises(StoryNotBuilt) as refused:
        regenerator.generator.generate("S-0", {}, None)
    assert refused.value.status == "over_budget" and "story S-0 budget" in refused.value.reason
    assert refused.value.usage.model_calls == 0


def test_a_value_without_recorded_bounds_regenerates_within_the_settings(
    settings_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _set(settings_env, PIPELINE_BUDGET_USD_PER_STORY="0.000001", PIPELINE_CODEGEN_FIX_ROUNDS="5")
    requirements, architecture = loop_project(stories=1)
    forge = LocalForge(root=str(tmp_path / "forge"))
    regenerator = regenerator_for(built_value(None), requirements, architecture, forge, claude(tmp_path))
    assert regenerator.generator.bounds == CodegenBounds(
        fix_rounds=5, budget_usd_per_story=1e-6, budget_usd_per_project=None
    )
    with pytest.raises(StoryNotBuilt) as refused:
        regenerator.generator.generate("S-0", {}, None)
    assert refused.value.status == "over_budget"
