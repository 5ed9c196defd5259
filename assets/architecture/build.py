"""The `Architecture` value from a draft (either provider's): cleaned names, OpenAPI, story map, layout."""

from __future__ import annotations

from assets.architecture.cleaning import clean_entities
from assets.architecture.draft import ArchitectureDraft
from assets.architecture.models import Architecture, Component, StoryComponents
from assets.architecture.openapi import operation_count, render_openapi
from assets.requirements.language import words
from assets.requirements.models import RequirementsSet

API_VERSION = "0.1.0"

_KIND_PATHS: dict[str, str] = {
    "frontend": "frontend/",
    "backend": "backend/",
    "database": "database/",
    "worker": "worker/",
}


def _component_name(name: str) -> str:
    return "-".join(words(name)) or "component"


def repository_layout(components: list[Component]) -> list[str]:
    """The files and folders of the generated repository, from the components' stacks."""
    layout = ["README.md", ".gitignore", "openapi.json", ".github/workflows/ci.yml"]
    for component in components:
        path, framework = component.path, component.stack.framework
        layout.append(path)
        if component.kind == "frontend":
            if framework in ("React", "Vue", "Svelte"):
                layout += [f"{path}package.json", f"{path}index.html", f"{path}src/", f"{path}src/api.ts"]
            else:
                layout += [f"{path}index.html", f"{path}app.js", f"{path}style.css"]
        elif component.kind in ("backend", "worker"):
            if component.stack.language == "Python":
                layout += [f"{path}pyproject.toml", f"{path}app/", f"{path}app/main.py", f"{path}tests/"]
            else:
                layout += [f"{path}package.json", f"{path}src/", f"{path}src/index.js", f"{path}test/"]
            layout.append(f"{path}Dockerfile")
        elif component.kind == "database":
            layout += [f"{path}schema.sql", f"{path}migrations/"]
    return sorted(dict.fromkeys(layout))


def build_architecture(requirements: RequirementsSet, draft: ArchitectureDraft) -> Architecture:
    """The architecture from a draft: cleaned names, OpenAPI document, story map and layout (pure)."""
    components: list[Component] = []
    used_paths: set[str] = set()
    for proposed in draft.components:
        name = _component_name(proposed.name)
        if any(component.name == name for component in components):
            continue
        path = _KIND_PATHS[proposed.kind]
        if path in used_paths:
            path = f"{name}/"
        used_paths.add(path)
        components.append(
            Component(
                name=name,
                kind=proposed.kind,
                description=proposed.description,
                stack=proposed.stack,
                path=path,
            )
        )

    story_ids = {story.id for story in requirements.stories}
    data_model, operations = clean_entities(draft.entities, story_ids)

    component_names = [component.name for component in components]
    proposed_map: dict[str, list[str]] = {}
    for entry in draft.story_map:
        proposed_map.setdefault(entry.story_id, []).extend(_component_name(c) for c in entry.components)
    story_map = [
        StoryComponents(
            story_id=story.id,
            components=[name for name in component_names if name in proposed_map.get(story.id, [])],
        )
        for story in requirements.stories
    ]

    openapi = render_openapi(
        title=f"{requirements.project} API",
        entities=data_model,
        operations=operations,
        version=API_VERSION,
        description=f"REST API of {requirements.project}, designed from its user stories.",
    )
    stacks = ", ".join(
        f"{c.stack.framework} {c.name} ({c.stack.language}, {c.stack.hosting})" for c in components
    )
    mapped = sum(1 for entry in story_map if entry.components)
    entity_names = ", ".join(entity.name for entity in data_model) or "none"
    summary = (
        f"{requirements.project}: {stacks}; {len(data_model)} entities ({entity_names}), "
        f"{operation_count(openapi)} API operations; {mapped} of {len(story_map)} stories mapped."
    )
    return Architecture(
        project=requirements.project,
        summary=summary,
        components=components,
        openapi=openapi,
        data_model=data_model,
        story_map=story_map,
        repository_layout=repository_layout(components),
    )
