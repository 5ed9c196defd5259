"""Records of the story-builds stage: the file changes one story makes, and what its tests cover."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from assets.requirements.models import AcceptanceCriterion
from pipeline_core.hashing import content_hash
from resources.llm.task import LlmUsage


def check_tree_path(path: str) -> str:
    """A relative POSIX path inside a repository: no absolute paths, no `..`, no `.git/`."""
    pure = PurePosixPath(path)
    if (
        not path
        or path != pure.as_posix()
        or pure.is_absolute()
        or "\\" in path
        or any(part in ("", ".", "..") for part in pure.parts)
        or pure.parts[0] == ".git"
    ):
        raise ValueError(f"not a safe repository path: {path!r}")
    return path


class FileChange(BaseModel):
    """One file written (`content`) or deleted (`content=None`) by a story."""

    path: str
    content: str | None

    @field_validator("path")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        return check_tree_path(value)


class TestRef(BaseModel):
    """A generated test: the component it belongs to, its file and its (unique) test function name."""

    __test__ = False  # not a pytest test class

    component: str
    file: str
    name: str


class CoveredCriterion(BaseModel):
    """An acceptance criterion and the generated test that checks it."""

    story_id: str
    criterion_id: str
    test: TestRef
    behaviour: str = Field(description="what the test checks, e.g. 'create Task (POST /api/tasks)'")


class UncoveredCriterion(BaseModel):
    """An acceptance criterion the offline templates cannot implement, with the reason."""

    story_id: str
    criterion_id: str
    reason: str
    text: str = Field(default="", description="the criterion's own words: given, when, then")


class StoryChangeSet(BaseModel):
    """The change one story makes to the repository its predecessors produced."""

    story_id: str
    message: str
    files: list[FileChange] = Field(default_factory=list)
    laid_skeleton: bool = False
    operations: list[str] = Field(
        default_factory=list, description="API operations this story enables, as 'METHOD /path'"
    )
    covered_criteria: list[CoveredCriterion] = Field(default_factory=list)
    uncovered_criteria: list[UncoveredCriterion] = Field(default_factory=list)
    input_hash: str = Field("", description="hash of generator version, story, architecture and base tree")
    rounds: int = Field(
        0, description="change sets the generator tested before this one passed (0: not tested at generation)"
    )

    def content_hash(self) -> str:
        return content_hash(self.model_dump(mode="json"))


def apply_changes(tree: Mapping[str, str], changes: Sequence[FileChange]) -> dict[str, str]:
    """A new tree: `tree` with the changes applied (writes replace, `None` deletes)."""
    out = dict(tree)
    for change in changes:
        if change.content is None:
            out.pop(change.path, None)
        else:
            out[change.path] = change.content
    return dict(sorted(out.items()))


def tree_hash(tree: Mapping[str, str]) -> str:
    return content_hash(sorted(tree.items()))


class StoryBuild(BaseModel):
    """One story's build: its branch, commit and pull request, and the key of the inputs it was built from."""

    story_id: str
    title: str
    status: Literal["built", "unchanged", "failed", "blocked", "over_budget"]
    build_key: str = Field(
        description="hash of the story's spec, its architecture slice, its dependencies' builds "
        "and the review feedback on it"
    )
    spec_hash: str
    depends_on: list[str] = Field(default_factory=list)
    branch: str
    base_branch: str
    commit: str | None = None
    pull_request: int | None = None
    pull_request_url: str | None = None
    files_changed: list[str] = Field(default_factory=list)
    operations: list[str] = Field(default_factory=list)
    covered_criteria: list[CoveredCriterion] = Field(default_factory=list)
    uncovered_criteria: list[UncoveredCriterion] = Field(default_factory=list)
    reason: str | None = Field(None, description="why the build failed, is blocked or went over budget")
    feedback_hash: str = Field("", description="hash of the review feedback the story was built with")
    review_criteria: list[AcceptanceCriterion] = Field(
        default_factory=list, description="criteria reviewers wrote as Given/When/Then, built with the story"
    )
    feedback_not_acted_on: list[str] = Field(
        default_factory=list, description="review feedback the generator could not act on, with who wrote it"
    )
    rounds: int = Field(0, description="change sets applied and tested at generation (the closed loop)")
    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class StoryNotBuilt(RuntimeError):
    """A generator's verdict that a story cannot be committed: `status` failed or over_budget, the
    reason, and what the attempt cost (model usage, rounds), so the record can show it."""

    def __init__(
        self,
        story_id: str,
        reason: str,
        status: Literal["failed", "over_budget"] = "failed",
        usage: LlmUsage | None = None,
        rounds: int = 0,
    ):
        super().__init__(f"story {story_id} could not be generated: {reason}")
        self.story_id = story_id
        self.reason = reason
        self.status = status
        self.usage = usage or LlmUsage()
        self.rounds = rounds


class CodegenBounds(BaseModel):
    """The closed loop's bounds for Claude-written stories, as `story_builds` ran with them (its run
    config, else the settings): recorded in its value, so a story `reviews` regenerates is held to the
    same bounds."""

    fix_rounds: int = Field(ge=1, description="most change sets tested per story")
    budget_usd_per_story: float | None = Field(None, gt=0, description="estimated USD one story may cost")
    budget_usd_per_project: float | None = Field(None, gt=0, description="estimated USD one run may cost")


class StoryBuildsSet(BaseModel):
    """The value of the `story_builds` asset for one project."""

    project: str
    repository: str
    repository_url: str
    build_order: list[list[str]]
    stories: list[StoryBuild]
    integration_branch: str = Field(description="branch holding every built story together")
    integration_commit: str | None = None
    budget_usd_per_project: float | None = Field(None, description="the project's budget for this run")
    codegen_bounds: CodegenBounds | None = Field(
        None, description="the bounds a model generated the stories within (None: no model)"
    )
    spent_usd: float = Field(0.0, description="estimated model spend of this run, every story together")

    def review_criteria(self) -> dict[str, list[AcceptanceCriterion]]:
        """story id -> the criteria its reviewers added (those the story was built with)."""
        return {build.story_id: build.review_criteria for build in self.stories if build.review_criteria}

    def data_version(self) -> str:
        return content_hash(
            # "unchanged" is "built" in an earlier run: the same output, so the same data version.
            sorted(
                (
                    build.story_id,
                    "built" if build.status == "unchanged" else build.status,
                    build.build_key,
                    build.commit,
                )
                for build in self.stories
            )
        )
