"""Instrumented forge and generator for story-build tests and benchmarks: they count what they do."""

from __future__ import annotations

from collections.abc import Mapping

from assets.story_builds.build import StoryGenerator
from assets.story_builds.models import StoryChangeSet
from resources.forge import LocalForge
from resources.forge.base import ForgeError
from resources.llm.task import LlmUsage


class CountingForge(LocalForge):
    """A local forge that records its writes and can be told to fail the commits of some branches."""

    def model_post_init(self, context: object) -> None:
        super().model_post_init(context)
        object.__setattr__(self, "writes", [])
        object.__setattr__(self, "fail_branches", set())

    def commit_files(self, repo, branch, base, changes, message, author=None, trailers=None, date=None):  # type: ignore[no-untyped-def]
        if branch in self.fail_branches:
            raise ForgeError(f"simulated forge outage while writing {branch}")
        self.writes.append(("commit", branch))
        return super().commit_files(repo, branch, base, changes, message, author, trailers, date)

    def open_pull_request(self, repo, branch, base, title, body="", story_id=None):  # type: ignore[no-untyped-def]
        self.writes.append(("pull", branch))
        return super().open_pull_request(repo, branch, base, title, body, story_id)


def counting_generator(
    generator: StoryGenerator, calls: list[str], fail: frozenset[str] = frozenset()
) -> StoryGenerator:
    """`generator`, appending each story it is asked for to `calls`; stories in `fail` raise instead."""

    def generate(
        story_id: str, tree: Mapping[str, str], feedback: str | None
    ) -> tuple[StoryChangeSet, LlmUsage]:
        calls.append(story_id)
        if story_id in fail:
            raise ValueError("the model answered nonsense")
        return generator.generate(story_id, tree, feedback)

    return StoryGenerator(
        id=generator.id, generate=generate, finalize=generator.finalize, story_key=generator.story_key
    )
