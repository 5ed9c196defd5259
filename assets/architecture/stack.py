"""The technology stack of each component: what the documents name, else a sensible default.

`pick_stack` takes the option the text names most often (a static web frontend, a Python FastAPI
backend and SQLite when it names none); `offline_components` gives the frontend, backend and
database of the offline design.
"""

from __future__ import annotations

import re

from assets.architecture.draft import DraftComponent
from assets.architecture.models import TechStack
from assets.requirements.models import RequirementsSet

_FRONTENDS: list[tuple[str, TechStack]] = [
    (
        r"\breact\b",
        TechStack(language="TypeScript", framework="React", runtime="Node.js 20 (build)", hosting="netlify"),
    ),
    (
        r"\bvue(\.js)?\b",
        TechStack(language="TypeScript", framework="Vue", runtime="Node.js 20 (build)", hosting="netlify"),
    ),
    (
        r"\bsvelte(kit)?\b",
        TechStack(language="TypeScript", framework="Svelte", runtime="Node.js 20 (build)", hosting="netlify"),
    ),
    (
        r"\b(static|plain) (html|web|site|page)s?\b|\bvanilla (js|javascript)\b",
        TechStack(language="JavaScript", framework="static HTML", runtime="browser", hosting="netlify"),
    ),
]
DEFAULT_FRONTEND = TechStack(
    language="JavaScript", framework="static HTML", runtime="browser", hosting="netlify"
)

_BACKENDS: list[tuple[str, TechStack]] = [
    (
        r"\bfast ?api\b",
        TechStack(language="Python", framework="FastAPI", runtime="Python 3.12", hosting="ecs"),
    ),
    (r"\bflask\b", TechStack(language="Python", framework="Flask", runtime="Python 3.12", hosting="ecs")),
    (r"\bdjango\b", TechStack(language="Python", framework="Django", runtime="Python 3.12", hosting="ecs")),
    (
        r"\bexpress(\.js)?\b|\bnode(\.js)? (backend|api|server)\b",
        TechStack(language="JavaScript", framework="Express", runtime="Node.js 20", hosting="ecs"),
    ),
]
DEFAULT_BACKEND = TechStack(language="Python", framework="FastAPI", runtime="Python 3.12", hosting="ecs")

_DATABASES: list[tuple[str, TechStack]] = [
    (
        r"\bpostgres(ql)?\b",
        TechStack(language="SQL", framework="PostgreSQL", runtime="PostgreSQL 16", hosting="managed"),
    ),
    (r"\bsqlite\b", TechStack(language="SQL", framework="SQLite", runtime="SQLite 3", hosting="local")),
    (
        r"\bmysql\b|\bmariadb\b",
        TechStack(language="SQL", framework="MySQL", runtime="MySQL 8", hosting="managed"),
    ),
]
DEFAULT_DATABASE = TechStack(language="SQL", framework="SQLite", runtime="SQLite 3", hosting="local")


def pick_stack(text: str, options: list[tuple[str, TechStack]], default: TechStack) -> TechStack:
    """The option the text names most often (earlier options win ties), else the default."""
    counts = [
        (len(re.findall(pattern, text, re.IGNORECASE)), -index) for index, (pattern, _) in enumerate(options)
    ]
    best = max(counts)
    return options[-best[1]][1] if best[0] else default


def stack_text(requirements: RequirementsSet) -> str:
    parts = []
    for story in requirements.stories:
        parts += [story.title, story.i_want, story.so_that, *(trace.quote for trace in story.traces)]
        parts += [f"{c.given} {c.when} {c.then}" for c in story.acceptance_criteria]
    return "\n".join(parts)


def offline_components(requirements: RequirementsSet, entity_names: list[str]) -> list[DraftComponent]:
    """Frontend, backend and database with the stacks the stories name."""
    text = stack_text(requirements)
    frontend = pick_stack(text, _FRONTENDS, DEFAULT_FRONTEND)
    backend = pick_stack(text, _BACKENDS, DEFAULT_BACKEND)
    database = pick_stack(text, _DATABASES, DEFAULT_DATABASE)
    names = ", ".join(entity_names) or "the application's records"
    return [
        DraftComponent(
            name="frontend",
            kind="frontend",
            description=f"{frontend.framework} web app the users work in; talks to the backend's /api",
            stack=frontend,
        ),
        DraftComponent(
            name="backend",
            kind="backend",
            description=f"{backend.framework} REST API under /api; the only component that uses the database",
            stack=backend,
        ),
        DraftComponent(
            name="database",
            kind="database",
            description=f"{database.framework} database of {names}",
            stack=database,
        ),
    ]
