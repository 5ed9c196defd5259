"""Building a project's stories into a repository, one branch, commit and pull request per story.

The plain logic behind the `story_builds` asset. Each story is built on top of the code its
dependencies produced (their trees combined), in dependency order; independent stories of one layer
are built concurrently. A story is rebuilt only when its build key changes: the hash of its spec,
the slice of the architecture it touches, its dependencies' build keys and the review feedback on it.
A branch whose head does not carry the expected `Build-Key` trailer (moved, or half-written by a
failed run) and is not the commit the last run recorded is never trusted: the story is redone.
A rebuild that comes out the same as the branch head (feedback a generator cannot act on) or as its
base changes nothing on the forge: never an empty commit, never a new pull request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from assets.architecture.models import Architecture
from assets.architecture.openapi import iter_operations, schema_refs
from assets.requirements.models import RequirementsSet, UserStory
from assets.story_builds.build_order import BuildOrderError, plan_build_order
from assets.story_builds.generation import StoryGenerator, Tree, generate_story_tree, text_tree, tree_changes
from assets.story_builds.models import (
    StoryBuild,
    StoryBuildsSet,
    StoryChangeSet,
    StoryNotBuilt,
)
from pipeline_core.hashing import content_hash
from pipeline_core.repository.manifest import (
    MANIFEST_PATH,
    merge_manifests,
    parse_manifest,
    render_manifest,
)
from resources.forge import BUILD_KEY_TRAILER, STORY_ID_TRAILER, Forge
from resources.forge.base import CommitRef
from resources.llm.task import LlmUsage

INTEGRATION_BRANCH = "ai-pipeline/integration"
FEEDBACK_TRAILER = "Review-Feedback"


def story_branch(story_id: str) -> str:
    return f"story/{story_id.lower()}"


def architecture_slice(architecture: Architecture, story_id: str) -> dict[str, Any]:
    """The parts of the design one story touches: its components, its operations and their entities.

    A component's description is prose (the database's names every entity), so it is left out: a new
    entity elsewhere must not rebuild every story that touches the database.
    """
    return ArchitectureSlices(architecture).slice(story_id)


class ArchitectureSlices:
    """Every story's `architecture_slice` from one walk of the design (a walk per story made a run's
    cost grow with stories × operations); the design must not change while it is in use."""

    def __init__(self, architecture: Architecture) -> None:
        self._components = {entry.story_id: entry.components for entry in architecture.story_map}
        self._component_dumps = [
            (component.name, component.model_dump(mode="json", exclude={"description"}))
            for component in architecture.components
        ]
        self._operations: dict[str, list[tuple[str, dict[str, Any], set[str]]]] = {}
        for operation in iter_operations(architecture.openapi):
            item = (
                operation.label,
                {k: v for k, v in operation.operation.items() if k != "x-story-ids"},
                schema_refs(operation.operation),
            )
            for story_id in dict.fromkeys(operation.story_ids):
                self._operations.setdefault(story_id, []).append(item)
        self._entity_dumps = [(e.name, e.model_dump(mode="json")) for e in architecture.data_model]

    def slice(self, story_id: str) -> dict[str, Any]:
        components = self._components.get(story_id, [])
        operations: dict[str, Any] = {}
        refs: set[str] = set()
        for label, operation, operation_refs in self._operations.get(story_id, []):
            operations[label] = operation
            refs.update(operation_refs)
        return {
            "components": [dump for name, dump in self._component_dumps if name in components],
            "operations": operations,
            "entities": [dump for name, dump in self._entity_dumps if name in refs],
        }


def build_key(
    generator_id: str,
    story: UserStory,
    slice_: dict[str, Any],
    dependency_keys: list[str],
    feedback: str | None,
) -> str:
    return content_hash(
        {
            "generator": generator_id,
            "story": story.model_dump(mode="json", exclude={"traces"}),
            "architecture": slice_,
            "dependencies": dependency_keys,
            "feedback": feedback or "",
        },
        length=24,
    )


def combine_trees(trees: list[Mapping[str, str]]) -> Tree:
    """The union of several stories' trees, in build order (a later tree wins a differing file).

    Their manifests are merged through the contract module (`merge_manifests`: every component and
    every story record, later ones winning), so that the next generation sees every dependency's story as
    built. A manifest that breaks the contract raises ManifestError (the story fails with it).
    """
    combined: Tree = {}
    texts: list[str] = []
    for tree in trees:
        combined.update(tree)
        if MANIFEST_PATH in tree:
            texts.append(tree[MANIFEST_PATH])
    if len(texts) > 1:
        merged = merge_manifests(parse_manifest(text) for text in texts)
        assert merged is not None
        combined[MANIFEST_PATH] = render_manifest(merged)
    return dict(sorted(combined.items()))


@dataclass
class _Context:
    project: str
    repo: str
    forge: Forge
    requirements: RequirementsSet
    architecture: Architecture
    generator: StoryGenerator
    previous: dict[str, StoryBuild]
    default_branch: str
    default_head: str | None  # read once per run
    slices: ArchitectureSlices
    trees: dict[str, Tree] = field(default_factory=dict)  # commit -> tree, read or built in this run
    heads: dict[str, CommitRef | None] = field(default_factory=dict)  # story branch -> head at run start
    feedback: Mapping[str, str] | None = None  # story id -> review feedback text (None: read the reviews)

    def head_with_key(self, branch: str, key: str) -> CommitRef | None:
        """The branch head if it carries build key `key`: from the heads read (in one batch) when the
        run started, which only this run's later writes could have moved."""
        if branch in self.heads:
            head = self.heads[branch]
        else:
            head = self.forge.find_commit_with_trailer(self.repo, branch, BUILD_KEY_TRAILER, key)
        return head if head is not None and head.trailers.get(BUILD_KEY_TRAILER) == key else None

    def recorded_head(self, branch: str, commit: str | None) -> CommitRef | None:
        """The branch head at run start if it is `commit` (the one the last run recorded for it)."""
        head = self.heads.get(branch)
        return head if head is not None and commit and head.sha == commit else None

    def tree_at(self, commit: str) -> Tree:
        """The tree of `commit`, read from the forge at most once per run (GitHub reads cost a request
        per file); trees this run committed are known without reading."""
        if commit not in self.trees:
            self.trees[commit] = text_tree(self.forge.read_tree(self.repo, commit))
        return self.trees[commit]


def _review_feedback(context: _Context, story_id: str, previous: StoryBuild | None) -> str | None:
    """The review feedback on the story's pull requests: part of its build key. Given by the caller
    (`review_feedback`, read once per run), else the changes requested on its last pull request."""
    if context.feedback is not None:
        return context.feedback.get(story_id) or None
    if previous is None or previous.pull_request is None:
        return None
    reviews = context.forge.get_reviews(context.repo, previous.pull_request)
    requested = [
        review.body.strip() for review in reviews if review.state == "changes_requested" and review.body
    ]
    return "\n\n".join(requested) or None


def _build_one(
    context: _Context, story: UserStory, done: dict[str, StoryBuild], order_index: dict[str, int]
) -> StoryBuild:
    previous = context.previous.get(story.id)
    dependencies = sorted((d for d in story.depends_on if d in order_index), key=order_index.__getitem__)
    branch = story_branch(story.id)
    base_branch = story_branch(dependencies[-1]) if dependencies else context.default_branch
    record = {
        "story_id": story.id,
        "title": story.title,
        "spec_hash": story.content_hash or story.compute_hash(),
        "depends_on": dependencies,
        "branch": branch,
        "base_branch": base_branch,
    }
    unbuilt = [d for d in dependencies if done[d].status not in ("built", "unchanged")]
    if unbuilt:
        return StoryBuild(
            **record, status="blocked", build_key="", reason=f"waits for {', '.join(unbuilt)} (not built)"
        )
    feedback = _review_feedback(context, story.id, previous)
    generator_id = context.generator.id
    if context.generator.story_key is not None:
        generator_id += ":" + context.generator.story_key(story.id)
    key = build_key(
        generator_id,
        story,
        context.slices.slice(story.id),
        [done[d].build_key for d in dependencies],
        feedback,
    )
    record["build_key"] = key

    # Unchanged inputs and a branch head that carries this build key: nothing to do, no forge writes.
    if previous is not None and previous.build_key == key and previous.status in ("built", "unchanged"):
        head = context.head_with_key(branch, key) or context.recorded_head(branch, previous.commit)
        if head is not None:
            pull = previous
            if previous.pull_request is None:
                opened = context.forge.open_pull_request(
                    context.repo, branch, base_branch, previous.title, story_id=story.id
                )
                pull = previous.model_copy(
                    update={"pull_request": opened.number, "pull_request_url": opened.url}
                )
            return pull.model_copy(update={"status": "unchanged", "commit": head.sha, "reason": None})
    elif (resumed := _resume_interrupted(context, record, branch, key)) is not None:
        return resumed

    try:
        if dependencies:
            base_commit = done[dependencies[-1]].commit or ""
            trees = [context.tree_at(done[d].commit or "") for d in dependencies]
            base_tree = trees[-1]
            current = combine_trees(trees)
        else:
            base_commit = context.default_head or context.default_branch
            base_tree = context.tree_at(base_commit)
            current = base_tree
        generated = generate_story_tree(context.generator, story.id, current, feedback)
        change_set, usage, target = generated.change_set, generated.usage, generated.tree
        body = _pull_request_body(story, change_set)
        kept = _same_as_before(context, branch, previous, base_commit, target)
        if kept is not None:
            # The rebuild changes nothing the branch does not hold already: no commit, and only an open
            # pull request is brought up to date (its base, title and body).
            context.trees[kept.sha] = target
            reason = (
                "rebuilt with new inputs; the result is what the branch holds already (nothing committed)"
            )
            return _kept(context, record, previous, kept.sha, change_set, usage, body, reason)
        changes = tree_changes(base_tree, target)
        if not changes:
            # Its base holds the story already (it was merged there): an empty commit would say nothing.
            reason = f"nothing to commit: {base_branch} holds this story's changes already"
            return _kept(context, record, previous, base_commit, change_set, usage, body, reason)
        commit = context.forge.commit_files(
            context.repo,
            branch,
            base_commit,
            changes,
            message=change_set.message,
            trailers={
                STORY_ID_TRAILER: story.id,
                BUILD_KEY_TRAILER: key,
                # The commit names the review feedback it answers (a hash of its text).
                **({FEEDBACK_TRAILER: content_hash(feedback, length=16)} if feedback else {}),
            },
        )
        pull = context.forge.open_pull_request(
            context.repo, branch, base_branch, change_set.message, body, story.id
        )
    except StoryNotBuilt as error:  # the generator's verdict, with what the attempt cost
        return StoryBuild(
            **record,
            status=error.status,
            reason=error.reason,
            rounds=error.rounds,
            **_cost(error.usage),
        )
    except Exception as error:  # one story's failure is recorded; the others carry on
        return StoryBuild(**record, status="failed", reason=f"{type(error).__name__}: {error}")
    context.trees[commit.sha] = target
    return StoryBuild(
        **record,
        status="built",
        commit=commit.sha,
        pull_request=pull.number,
        pull_request_url=pull.url,
        **_generated(change_set, usage),
    )


def _cost(usage: LlmUsage) -> dict[str, Any]:
    """The StoryBuild fields of what generating a story cost."""
    return {
        "model_calls": usage.model_calls,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cost_usd": usage.cost_usd,
    }


def _generated(change_set: StoryChangeSet, usage: LlmUsage) -> dict[str, Any]:
    """The StoryBuild fields of a generated change set: what it changes and covers, and its cost."""
    return {
        "files_changed": [change.path for change in change_set.files],
        "operations": change_set.operations,
        "covered_criteria": change_set.covered_criteria,
        "uncovered_criteria": change_set.uncovered_criteria,
        "rounds": change_set.rounds,
        **_cost(usage),
    }


def _same_as_before(
    context: _Context, branch: str, previous: StoryBuild | None, base_commit: str, target: Tree
) -> CommitRef | None:
    """The branch head, if it is the commit the last run recorded, sits on `base_commit` and holds
    exactly `target`: the rebuild then has nothing to commit."""
    head = context.recorded_head(branch, previous.commit if previous else None)
    if head is None or head.parents != [base_commit]:
        return None
    return head if context.tree_at(head.sha) == target else None


def _kept(
    context: _Context,
    record: dict[str, Any],
    previous: StoryBuild | None,
    commit: str,
    change_set: StoryChangeSet,
    usage: LlmUsage,
    body: str,
    reason: str,
) -> StoryBuild:
    """A rebuild whose result `commit` already is (the branch head, or its base): recorded under its
    new build key, its open pull request (if any) updated, nothing committed, no pull request opened."""
    pull_number = previous.pull_request if previous else None
    pull_url = previous.pull_request_url if previous else None
    if context.forge.open_pull_request_of(context.repo, record["branch"]) is not None:
        pull = context.forge.open_pull_request(
            context.repo,
            record["branch"],
            record["base_branch"],
            change_set.message,
            body,
            record["story_id"],
        )
        pull_number, pull_url = pull.number, pull.url
    return StoryBuild(
        **record,
        status="unchanged",
        commit=commit,
        pull_request=pull_number,
        pull_request_url=pull_url,
        reason=reason,
        **_generated(change_set, usage),
    )


def _resume_interrupted(
    context: _Context, record: dict[str, Any], branch: str, key: str
) -> StoryBuild | None:
    """The story as a run that was cut off (killed, restarted) built it, if its branch says so.

    Such a run wrote the branch and pull request but never stored its value, so the stored value
    does not know them; a retry keeps that work instead of generating and writing it again.
    """
    head = context.head_with_key(branch, key)
    if head is None:
        return None
    pull = context.forge.open_pull_request_of(context.repo, branch)
    if pull is None:
        return None
    return StoryBuild(
        **record,
        status="built",
        commit=head.sha,
        pull_request=pull.number,
        pull_request_url=pull.url,
        reason="kept from an earlier run that was cut off after building it",
    )


def _pull_request_body(story: UserStory, change_set: StoryChangeSet) -> str:
    lines = [
        f"**{story.id}**: As a {story.as_a}, I want {story.i_want}, so that {story.so_that}.",
        "",
        "Acceptance criteria:",
        *[f"- {c.id}: Given {c.given}, when {c.when}, then {c.then}" for c in story.acceptance_criteria],
        "",
        f"Covered by tests: {', '.join(c.criterion_id for c in change_set.covered_criteria) or 'none'}",
    ]
    if change_set.uncovered_criteria:
        lines.append(
            "Not covered: "
            + "; ".join(f"{c.criterion_id} ({c.reason})" for c in change_set.uncovered_criteria)
        )
    return "\n".join(lines)


def build_stories(
    project: str,
    requirements: RequirementsSet,
    architecture: Architecture,
    forge: Forge,
    generator: StoryGenerator,
    previous: StoryBuildsSet | None,
    max_workers: int = 4,
    progress: Callable[[int, int], None] | None = None,
    feedback: Mapping[str, str] | None = None,
) -> StoryBuildsSet:
    """Build every story whose build key changed; keep the others as they are. `progress(done, total)`
    is called as each story's build ends. `feedback` (story id -> the review feedback on it, from
    `review_feedback`) goes into each story's build key and its generation; without it the changes
    requested on each story's last pull request are read."""
    repository = forge.ensure_repository(project, f"Generated by ai-pipeline from the {project} requirements")
    try:
        order = plan_build_order(requirements)
    except BuildOrderError as error:
        raise ValueError(f"cannot build {project}: {error}") from error
    order_index = {story_id: index for index, story_id in enumerate(s for layer in order for s in layer)}
    stories = {story.id: story for story in requirements.stories}
    context = _Context(
        project=project,
        repo=repository.name,
        forge=forge,
        requirements=requirements,
        architecture=architecture,
        generator=generator,
        previous={build.story_id: build for build in (previous.stories if previous else [])},
        default_branch=repository.default_branch,
        default_head=forge.branch_head(repository.name, repository.default_branch),
        slices=ArchitectureSlices(architecture),
        heads=forge.branch_commits(repository.name, [story_branch(story_id) for story_id in order_index]),
        feedback=feedback,
    )
    done: dict[str, StoryBuild] = {}
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        for layer in order:
            for build in pool.map(
                lambda story_id: _build_one(context, stories[story_id], done, order_index), layer
            ):
                done[build.story_id] = build
                if progress is not None:
                    progress(len(done), len(order_index))
    builds = [done[story_id] for layer in order for story_id in layer]
    integration_commit = _integrate(context, builds)
    return StoryBuildsSet(
        project=project,
        repository=repository.name,
        repository_url=repository.url,
        build_order=order,
        stories=builds,
        integration_branch=INTEGRATION_BRANCH,
        integration_commit=integration_commit,
        budget_usd_per_project=generator.budget_usd_per_project,
        codegen_bounds=generator.bounds,
        spent_usd=round(sum(build.cost_usd for build in builds if build.status != "unchanged"), 6),
    )


def _integrate(context: _Context, builds: list[StoryBuild]) -> str | None:
    """Point the integration branch at every built story together (what validations test)."""
    built = [build for build in builds if build.status in ("built", "unchanged") and build.commit]
    if not built:
        return None
    key = content_hash([(build.story_id, build.build_key) for build in built], length=24)
    head = context.forge.find_commit_with_trailer(context.repo, INTEGRATION_BRANCH, BUILD_KEY_TRAILER, key)
    if head is not None:
        return head.sha
    unread = list(dict.fromkeys(b.commit for b in built if b.commit and b.commit not in context.trees))
    for commit, files in zip(unread, context.forge.read_trees(context.repo, unread), strict=True):
        context.trees[commit] = text_tree(files)  # one batched read instead of one per story
    tree = combine_trees([context.tree_at(build.commit or "") for build in built])
    if context.generator.finalize is not None:
        tree = context.generator.finalize(tree, [build.story_id for build in built])
    base = context.default_head or context.default_branch
    base_tree = context.tree_at(base)
    commit = context.forge.commit_files(
        context.repo,
        INTEGRATION_BRANCH,
        base,
        tree_changes(base_tree, tree),
        message=f"Integrate {len(built)} stories",
        trailers={BUILD_KEY_TRAILER: key},
    )
    return commit.sha
