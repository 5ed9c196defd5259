"""The offline code generator's public names, kept for the modules that import them from here.

The generator lives in `assets.story_builds.offline` (one module per job); import from there.
"""

from assets.story_builds.offline import (
    GENERATOR_VERSION,
    MANIFEST_PATH,
    TEMPLATES,
    BuildOrderError,
    GenerationError,
    component_tests,
    entity_label,
    find_story,
    generate_story_changes,
    input_hash,
    module_name,
    plan_build_order,
    rendered_templates,
    skeleton_missing,
    story_class,
    story_templates_hash,
    template_hash,
    test_file,
    test_name,
)

__all__ = [
    "GENERATOR_VERSION",
    "MANIFEST_PATH",
    "TEMPLATES",
    "BuildOrderError",
    "GenerationError",
    "component_tests",
    "entity_label",
    "find_story",
    "generate_story_changes",
    "input_hash",
    "module_name",
    "plan_build_order",
    "rendered_templates",
    "skeleton_missing",
    "story_class",
    "story_templates_hash",
    "template_hash",
    "test_file",
    "test_name",
]
