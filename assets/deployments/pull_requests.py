"""The preview on each story's pull request: a marked section of its body, written only when it changes.

The section names the preview's URLs, the commit they run, and that story's validation result, so a
reviewer opens the application from the pull request. It sits between hidden markers, so a later
deployment replaces it in place, and its text holds no time, so an unchanged preview writes nothing.
The update goes through the forge's own update of an open pull request (`open_pull_request` on its
branch brings title, base and body up to date).
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from assets.deployments.models import EnvironmentDeployment
from assets.story_builds.models import StoryBuildsSet
from assets.validations.models import StoryStatus, ValidationReport
from resources.forge import Forge, ForgeError
from resources.forge.base import story_id_from_body

START = "<!-- ai-pipeline:preview -->"
END = "<!-- /ai-pipeline:preview -->"
_SECTION = re.compile(re.escape(START) + r".*?" + re.escape(END) + r"\n?", re.S)
_STORY_MARKER = re.compile(r"\n*<!-- ai-pipeline:story-id=[^\s>]+ -->\n?")


class PullRequestUpdates(BaseModel):
    """What the preview did to the pull requests."""

    updated: list[int] = Field(default_factory=list)
    unchanged: list[int] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)


def _story_result(status: StoryStatus | None) -> str:
    if status is None:
        return "not validated"
    text = f"**{status.status}**"
    counts = []
    if status.passed:
        counts.append(f"{len(status.passed)} test(s) passed")
    if status.failed:
        counts.append(f"{len(status.failed)} failed: {', '.join(status.failed[:10])}")
    if status.not_run:
        counts.append(f"{len(status.not_run)} not run")
    if status.covered or status.uncovered:
        counts.append(f"criteria covered {len(status.covered)}/{len(status.covered) + len(status.uncovered)}")
    if counts:
        text += " (" + "; ".join(counts) + ")"
    if status.reason:
        text += f": {status.reason}"
    return text


def preview_section(preview: EnvironmentDeployment, story: StoryStatus | None) -> str:
    """The marked section for one story's pull request (deterministic: no times)."""
    lines = [START, "### Preview", ""]
    for record in preview.records:
        where = f"<{record.url}>" if record.url else "not running"
        state = record.health if record.ok else f"{record.status}, {record.health}"
        lines.append(f"- {record.component} ({record.kind}, {record.target}): {where} ({state})")
    lines.append(f"- commit `{preview.commit[:12]}` of `{preview.branch}`")
    included = story is not None and story.story_id in preview.stories
    lines.append(f"- this story in the preview: {'yes' if included else 'no'}")
    lines.append(f"- validation of this story: {_story_result(story)}")
    lines.append(END)
    return "\n".join(lines) + "\n"


def with_section(body: str, section: str) -> str:
    """`body` (the forge's stored body) with the preview section replaced or added, without the
    forge's story marker (the forge adds it back)."""
    text = _SECTION.sub("", _STORY_MARKER.sub("\n", body)).rstrip()
    return f"{text}\n\n{section}" if text else section


def update_pull_requests(
    forge: Forge,
    story_builds: StoryBuildsSet,
    validations: ValidationReport,
    preview: EnvironmentDeployment,
) -> PullRequestUpdates:
    """The preview section on every open story pull request; a body already showing it is left alone."""
    out = PullRequestUpdates()
    statuses = {status.story_id: status for status in validations.stories}
    for build in story_builds.stories:
        if build.pull_request is None:
            continue
        try:
            pull = forge.get_pull_request(story_builds.repository, build.pull_request)
            if pull.state != "open":
                continue
            section = preview_section(preview, statuses.get(build.story_id))
            wanted = with_section(pull.body, section)
            found = _SECTION.search(pull.body)
            if found is not None and found.group(0).strip() == section.strip():
                out.unchanged.append(pull.number)
                continue
            forge.open_pull_request(
                story_builds.repository,
                pull.branch,
                pull.base,
                pull.title,
                wanted,
                pull.story_id or story_id_from_body(pull.body) or build.story_id,
            )
            out.updated.append(pull.number)
        except ForgeError as error:
            out.problems.append(f"pull request #{build.pull_request} ({build.story_id}): {error}")
    return out
