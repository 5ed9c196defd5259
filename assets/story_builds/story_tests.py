"""Running one story's component tests before its change set is committed (the closed loop).

`StoryTester` is the small callable the fix loop is given: (tree, manifest, component names) ->
`StoryTestRun`. `sandbox_tester` is the real one: each component installed and tested in the
sandbox by its manifest commands (`assets.validations.components.install_and_test`). Tests of the
loop inject the same sandbox or their own.

`StoryTestRun.report()` is what goes back to the model in a fix request: per failing component
the end of its output (at most 4,000 characters each), with every value of the pipeline's
environment that could be a secret replaced by `[redacted]`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from assets.validations.components import install_and_test
from pipeline_core.repository.manifest import Manifest

OUTPUT_TAIL = 4000
# Environment variables whose values are never quoted, however short; other values are scrubbed
# when they are long enough to be worth hiding and not to match ordinary words.
SECRET_NAME = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|SESSION|AUTH|^AWS_|^GITHUB_|^ANTHROPIC_", re.I
)
MIN_SECRET_CHARS = 4
MIN_VALUE_CHARS = 8


def scrub_secrets(text: str, environ: Mapping[str, str] | None = None) -> str:
    """`text` with the values of the pipeline's environment variables replaced by `[redacted]`."""
    env = os.environ if environ is None else environ
    values = {
        value
        for name, value in env.items()
        if len(value) >= (MIN_SECRET_CHARS if SECRET_NAME.search(name) else MIN_VALUE_CHARS)
    }
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "[redacted]")
    return text


class ComponentTestResult(BaseModel):
    """One component's install and tests for a story."""

    component: str
    passed: bool
    status: str = Field(description="passed, failed, install_failed, timed_out, missing")
    output: str = Field("", description="the end of its install and test output")


class StoryTestRun(BaseModel):
    """A story's components tested on the tree its change set produces."""

    components: list[ComponentTestResult] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(item.passed for item in self.components)

    def report(self, limit_per_component: int = OUTPUT_TAIL, environ: Mapping[str, str] | None = None) -> str:
        """The failures, for a fix request or a failed story's reason: trimmed and scrubbed."""
        parts = list(self.problems)
        for item in self.components:
            if not item.passed:
                tail = item.output[-limit_per_component:]
                parts.append(f"component {item.component}: {item.status}\n{tail}".rstrip())
        return scrub_secrets("\n\n".join(parts), environ)

    def summary(self) -> str:
        return ", ".join(f"{item.component} {item.status}" for item in self.components) or "no components"


StoryTester = Callable[[Mapping[str, str], Manifest, Sequence[str]], StoryTestRun]


def story_components(manifest: Manifest, changed_paths: Sequence[str]) -> list[str]:
    """The components a story touches: those whose folder holds a file it changed."""
    names: list[str] = []
    for path in changed_paths:
        owner = manifest.component_of(path)
        if owner is not None and owner.name not in names:
            names.append(owner.name)
    return names


def sandbox_tester(workdir_parent: Path | None = None, cache_dir: Path | None = None) -> StoryTester:
    """Install and test components in the sandbox exactly as validations do."""

    def test(tree: Mapping[str, str], manifest: Manifest, components: Sequence[str]) -> StoryTestRun:
        result = install_and_test(
            tree, manifest, list(components), cache_dir=cache_dir, workdir_parent=workdir_parent
        )
        return StoryTestRun(
            components=[
                ComponentTestResult(
                    component=item.component,
                    passed=item.ok,
                    status=item.status,
                    output=item.output(OUTPUT_TAIL),
                )
                for item in result.components
            ],
            problems=list(result.problems),
        )

    return test
