"""The template files of the offline generator and their hashes.

Skeleton templates are copied into a repository when its application is laid down; the story test
module template is filled per story. `templates_hash` covers a chosen set of them, so a story's build
key changes exactly when a template it renders changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path

from pipeline_core.hashing import content_hash

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

# Template file -> path in the generated repository. Written when the skeleton is laid down (or missing).
SKELETON_FILES = {
    "backend/Dockerfile": "backend/Dockerfile",
    "backend/app/resource.py": "backend/app/resource.py",
    "backend/app/validation.py": "backend/app/validation.py",
    "backend/app/store.py": "backend/app/store.py",
    "backend/app/summaries.py": "backend/app/summaries.py",
    "backend/app/server.py": "backend/app/server.py",
    "backend/app/__main__.py": "backend/app/__main__.py",
    "backend/tests/support.py": "backend/tests/support.py",
    "backend/tests/health_tests.py": "backend/tests/test_health.py",
    "frontend/app.js": "frontend/app.js",
    "frontend/style.css": "frontend/style.css",
    "frontend/config.js": "frontend/config.js",
    "frontend/tests/frontend_tests.py": "frontend/tests/test_frontend.py",
}
STORY_TESTS = "backend/tests/story_tests.py.tmpl"  # a story's test module (string.Template)


@cache
def template_text(name: str, root: Path = TEMPLATES) -> str:
    return (root / name).read_text(encoding="utf-8")


def templates_hash(names: Iterable[str], root: Path = TEMPLATES) -> str:
    return content_hash({name: template_text(name, root) for name in sorted(set(names))}, length=16)


def template_hash(root: Path = TEMPLATES) -> str:
    """Every template the generator has (a change to any of them shows here)."""
    return templates_hash([*SKELETON_FILES, STORY_TESTS], root)
