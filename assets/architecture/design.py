"""Design the application from its user stories (the stage's entry points, in one place).

`design_task` asks the model (or, offline, the rules of `offline.design_offline`) for an
`ArchitectureDraft`; `build_architecture` turns it into the `Architecture` value. The parts live
in modules of one job each: `stack` (technology choice), `domain` (entities, fields, relations,
transitions, limits, summaries), `story_map` (components per story), `task` (the Claude task),
`build` (the cleaned value with its OpenAPI document).
"""

from assets.architecture.build import API_VERSION, build_architecture, repository_layout
from assets.architecture.cleaning import entity_name
from assets.architecture.draft import ArchitectureDraft, DraftComponent, DraftEntity
from assets.architecture.offline import design_offline
from assets.architecture.task import DESIGN_VERSION, INSTRUCTIONS, design_task, render_stories

__all__ = [
    "API_VERSION",
    "DESIGN_VERSION",
    "INSTRUCTIONS",
    "ArchitectureDraft",
    "DraftComponent",
    "DraftEntity",
    "build_architecture",
    "design_offline",
    "design_task",
    "entity_name",
    "render_stories",
    "repository_layout",
]
