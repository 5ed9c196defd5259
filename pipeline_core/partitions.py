"""One dynamic partition per project; the bucket sensor adds them."""

from __future__ import annotations

import re

import dagster as dg

projects_partitions = dg.DynamicPartitionsDefinition(name="projects")

_PROJECT_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class InvalidProjectName(ValueError):
    pass


def check_project_name(name: str) -> str:
    """A project is a lowercase slug: letters, digits and inner hyphens, at most 63 characters."""
    if not _PROJECT_NAME.fullmatch(name):
        raise InvalidProjectName(
            f"invalid project name {name!r}: use a lowercase slug (a-z, 0-9, inner '-', 1-63 characters)"
        )
    return name
