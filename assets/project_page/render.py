"""The project page as one self-contained HTML file (inline CSS, no script), rendered with Jinja2."""

from __future__ import annotations

from pathlib import Path

import jinja2

from assets.project_page.models import PageView

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(view: PageView) -> str:
    """The HTML of the page; every value is escaped."""
    return _ENVIRONMENT.get_template("page.html.j2").render(page=view)
