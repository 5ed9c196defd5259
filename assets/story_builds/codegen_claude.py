"""The Claude code generator: one story at a time, tested before it is committed (the closed loop).

`generate_story_changes_with_model` asks the model for the story's change set (`claude_task`),
checks it (`claude_checks`; an invalid answer is sent back once with its problems), writes the
manifest from the answer's component fields through the contract module (`claude_manifest`), and,
given a `StoryTester`, installs and tests the story's components on the resulting tree. When the
tests fail, their output (trimmed per component, secrets scrubbed) goes back as a fix request on
top of the applied change set, for at most `max_rounds` change sets in all. Only a change set whose
tests pass is returned; otherwise `StoryGenerationError` (status `failed`, the last failure as its
reason) or, when a call would pass the story's or the project's budget, status `over_budget` with
the figures. Nothing is applied to any branch here: the caller commits what is returned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import dagster as dg

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet, UserStory
from assets.story_builds.budget import Budget, OverBudget, estimate_call_usd
from assets.story_builds.claude_checks import InvalidProposal, normalise_operation, validate_proposal
from assets.story_builds.claude_manifest import component_of, merged_components, story_manifest
from assets.story_builds.claude_task import (
    CODEGEN_VERSION,
    DEFAULT_LIMITS,
    CodegenLimits,
    ProposedChanges,
    bullets,
    contract_labels,
    repair_feedback,
    story_task,
)
from assets.story_builds.models import (
    CoveredCriterion,
    FileChange,
    StoryChangeSet,
    StoryNotBuilt,
    TestRef,
    UncoveredCriterion,
    apply_changes,
    tree_hash,
)
from assets.story_builds.offline import GenerationError, find_story
from assets.story_builds.story_tests import StoryTester, story_components
from pipeline_core.hashing import content_hash
from pipeline_core.repository.manifest import MANIFEST_PATH, ManifestError, read_manifest, render_manifest
from resources.llm.resource import LlmSession
from resources.llm.task import LlmTask, LlmTaskError

PROMPT_VERSION = CODEGEN_VERSION  # the name assets/story_builds/asset.py imports
DEFAULT_ROUNDS = 3


class StoryGenerationError(StoryNotBuilt):
    """A story that could not be generated; the other stories carry on."""


@dataclass
class _Story:
    """One story's attempt: its session, budgets, and every task asked (to forget on failure)."""

    session: LlmSession
    story: UserStory
    story_budget: Budget
    project_budget: Budget | None
    asked: list[LlmTask[ProposedChanges]] = field(default_factory=list)
    last_output_tokens: int = 0
    rounds: int = 0

    def fail(self, reason: str, status: str = "failed") -> StoryGenerationError:
        return StoryGenerationError(
            self.story.id,
            reason,
            status="over_budget" if status == "over_budget" else "failed",
            usage=self.session.usage,
            rounds=self.rounds,
        )

    def ask(self, task: LlmTask[ProposedChanges]) -> ProposedChanges:
        """The task's answer, within both budgets (checked before the call and after it)."""
        estimate = estimate_call_usd(self.session.model, task, self.last_output_tokens)
        try:
            self.story_budget.reserve(estimate)
            if self.project_budget is not None:
                try:
                    self.project_budget.reserve(estimate)
                except OverBudget:
                    self.story_budget.settle(estimate, 0.0)
                    raise
        except OverBudget as error:
            raise self.fail(f"stopped before a model call: {error}", "over_budget") from None
        before = self.session.usage
        self.asked.append(task)
        try:
            return self.session.run(task)
        except LlmTaskError as error:
            raise self.fail(f"the model gave no usable answer: {error.reason}") from error
        finally:
            after = self.session.usage
            cost = after.cost_usd - before.cost_usd
            if after.output_tokens > before.output_tokens:
                self.last_output_tokens = after.output_tokens - before.output_tokens
            passed = []
            for budget in (self.story_budget, self.project_budget):
                if budget is None:
                    continue
                try:
                    budget.settle(estimate, cost)
                except OverBudget as error:
                    passed.append(str(error))
            if passed:
                raise self.fail("stopped after a model call: " + "; ".join(passed), "over_budget") from None

    def forget_all(self) -> None:
        """A failed story's answers must not be replayed from the cache: a re-run asks again."""
        for task in self.asked:
            self.session.forget(task)


def model_input_hash(
    model: str,
    architecture: Architecture,
    story: UserStory,
    current_tree: Mapping[str, str],
    review_feedback: str | None,
    limits: CodegenLimits,
) -> str:
    return content_hash(
        {
            "generator": CODEGEN_VERSION,
            "model": model,
            "story": story.model_dump(mode="json", exclude={"traces"}),
            "architecture": architecture.data_version(),
            "tree": tree_hash(current_tree),
            "review_feedback": review_feedback or "",
            "limits": limits.model_dump(),
        }
    )


def _diff(base: Mapping[str, str], target: Mapping[str, str]) -> list[FileChange]:
    changes = [FileChange(path=path, content=text) for path, text in target.items() if base.get(path) != text]
    changes += [FileChange(path=path, content=None) for path in base if path not in target]
    return sorted(changes, key=lambda change: change.path)


def generate_story_changes_with_model(
    session: LlmSession,
    architecture: Architecture,
    requirements: RequirementsSet,
    story_id: str,
    current_tree: Mapping[str, str],
    limits: CodegenLimits = DEFAULT_LIMITS,
    review_feedback: str | None = None,
    *,
    tester: StoryTester | None = None,
    max_rounds: int = DEFAULT_ROUNDS,
    story_budget_usd: float | None = None,
    project_budget: Budget | None = None,
) -> StoryChangeSet:
    """Story `story_id` implemented by the model on top of `current_tree` (path -> text).

    Each round's answer is checked (one repair when invalid), its manifest rendered, and, with a
    `tester`, the story's components installed and tested on the result; failing tests start the
    next round (a fix request) up to `max_rounds` rounds. Raises StoryGenerationError (status
    failed or over_budget, with the usage spent) when no passing change set is reached.
    """
    if max_rounds < 1:
        raise ValueError("max_rounds must be at least 1")
    try:
        story = find_story(requirements, story_id)
    except GenerationError as error:
        raise StoryGenerationError(story_id, str(error)) from None
    attempt = _Story(
        session=session,
        story=story,
        story_budget=Budget(story_budget_usd, f"story {story.id}"),
        project_budget=project_budget,
    )
    try:
        read_manifest(current_tree)
    except ManifestError as error:
        raise attempt.fail(f"the repository's manifest breaks the contract: {error}") from None
    contract = contract_labels(architecture)
    log = dg.get_dagster_logger()

    tree: dict[str, str] = dict(current_tree)
    test_output: str | None = None
    while True:
        attempt.rounds += 1

        def task(feedback: str | None, base: Mapping[str, str] = tree, output: str | None = test_output):
            return story_task(
                architecture,
                requirements,
                story.id,
                base,
                feedback,
                review_feedback=review_feedback,
                test_output=output,
                limits=limits,
            )

        first_task = task(None)
        proposal = attempt.ask(first_task)
        try:
            files = validate_proposal(proposal, tree, limits, story=story, contract=contract)
        except InvalidProposal as first:
            session.forget(first_task)  # a rejected answer must not be replayed from the cache on a re-run
            log.warning(
                f"story {story.id}: the model's change set was rejected, asking once for a repair:\n"
                f"{bullets(first.reasons)}"
            )
            repair_task = task(repair_feedback(story.id, first.reasons))
            proposal = attempt.ask(repair_task)
            try:
                files = validate_proposal(proposal, tree, limits, story=story, contract=contract)
            except InvalidProposal as second:
                attempt.forget_all()
                raise attempt.fail(
                    "the model's change set was still invalid after one repair, so nothing was applied:\n"
                    + bullets(second.reasons)
                ) from second

        components, _ = merged_components(read_manifest(tree), proposal.components)
        covered = [
            CoveredCriterion(
                story_id=story.id,
                criterion_id=item.criterion_id,
                test=TestRef(
                    component=(owner.name if (owner := component_of(item.test_file, components)) else "")
                    or item.test_file.split("/", 1)[0],
                    file=item.test_file,
                    name=item.test_name,
                ),
                behaviour=item.behaviour or f"checked by {item.test_name}",
            )
            for item in proposal.covered_criteria
        ]
        uncovered = [
            UncoveredCriterion(story_id=story.id, criterion_id=item.criterion_id, reason=item.reason)
            for item in proposal.uncovered_criteria
        ]
        operations = list(dict.fromkeys(normalise_operation(label) for label in proposal.operations))
        try:
            manifest = story_manifest(
                tree, architecture.project, story, components, covered, uncovered, operations
            )
        except (ManifestError, ValueError) as error:
            attempt.forget_all()
            raise attempt.fail(f"the manifest fails the contract: {error}") from None
        candidate = apply_changes(
            tree, [*files, FileChange(path=MANIFEST_PATH, content=render_manifest(manifest))]
        )
        if tester is None:
            break
        changed = [change.path for change in _diff(current_tree, candidate)]
        run = tester(candidate, manifest, story_components(manifest, changed))
        if run.ok:
            log.info(f"story {story.id}: tests pass after {attempt.rounds} round(s) ({run.summary()})")
            break
        test_output = run.report()
        if attempt.rounds >= max_rounds:
            attempt.forget_all()
            raise attempt.fail(
                f"the tests still failed after {attempt.rounds} round(s), so nothing was committed; "
                f"last failure:\n{test_output}"
            )
        log.warning(
            f"story {story.id}: tests failed in round {attempt.rounds} ({run.summary()}), asking for a fix"
        )
        tree = candidate

    return StoryChangeSet(
        story_id=story.id,
        message=f"{story.id}: {story.title}",
        files=_diff(current_tree, candidate),
        laid_skeleton=MANIFEST_PATH not in current_tree,
        operations=operations,
        covered_criteria=covered,
        uncovered_criteria=uncovered,
        input_hash=model_input_hash(
            session.model, architecture, story, current_tree, review_feedback, limits
        ),
        rounds=attempt.rounds if tester is not None else 0,
    )
