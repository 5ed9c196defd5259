"""The offline code generator: a runnable application from templates, grown story by story.

What it builds (stdlib only, so the generated tests run with a bare `python`):

- `backend/`: a Python HTTP API (`http.server` + `sqlite3` + `json`) serving the architecture's
  OpenAPI contract (`backend/openapi.json`): CRUD on each entity with typed, validated fields,
  references checked, list filters, search and sort, state transitions with their rules, count
  limits, unique values, and summary reports; SQLite persistence; a Dockerfile.
- `frontend/`: a static page (index.html, app.js, style.css) with a section per entity: its list,
  filters, a create/edit form, transition buttons and summary tables.
- `.github/workflows/ci.yml` and `README.md`.
- `.ai-pipeline/manifest.json` through `pipeline_core.repository.manifest`: the components and, per
  story, what it enabled and what its tests cover.

Modules, one job each: `names` (safe identifiers), `contract` (the OpenAPI document as operations on
entities), `actions` (a criterion's verb read as an operation of the model), `criteria` (what a story
enables, how each criterion is tested or why not, by the rules of `plan_rules` and `plan_crud` over the
`plans` records; `entity_fields` reads fields and states off an entity), `samples` (test values),
`specs` (what is served so far), `wording` (the phrases criteria are read by),
`writer`, `render_tests` and `render_rule_tests` (a story's tests), `render_backend`, `render_frontend`,
`render_docs`, `state` (the manifest), `templates` (files and hashes), and `generator`
(the entry point `generate_story_changes`).
"""

from assets.story_builds.build_order import BuildOrderError, plan_build_order
from assets.story_builds.offline.generator import (
    OfflinePlan,
    find_story,
    generate_story_changes,
    input_hash,
    rendered_templates,
    skeleton_missing,
    story_templates_hash,
)
from assets.story_builds.offline.names import entity_label, module_name, story_class, test_file, test_name
from assets.story_builds.offline.state import GENERATOR_VERSION, GenerationError, component_tests
from assets.story_builds.offline.templates import TEMPLATES, template_hash
from pipeline_core.repository.manifest import MANIFEST_PATH

__all__ = [
    "GENERATOR_VERSION",
    "MANIFEST_PATH",
    "OfflinePlan",
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
