"""Bringing an approved story branch up to date with main when it no longer merges cleanly.

What a person does with GitHub's "Update branch" and a conflict, done the way the story would be
built today: the story is regenerated on main's current tree by the generator `story_builds` uses
(so the files that list stories, such as the manifest and the README, list main's stories and this
one), and the result is committed on the story branch as a merge commit whose parents are the branch
head and main's head. No history is rewritten and nothing is forced: the branch only moves forward.

A person's own commits on the branch (those after the pipeline's last commit of the story) are
carried over by a three-way merge of their edits onto the regenerated files (git's own file merge,
`file_merge`). When such an edit touches the same lines as the regeneration, or the generator fails,
nothing is written: the conflict stands and is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field

from assets.reviews.file_merge import Conflict, MergeFailed, merge_file
from assets.story_builds.generation import StoryGenerator, generate_story_tree, text_tree, tree_changes
from resources.forge.base import (
    BUILD_KEY_TRAILER,
    STORY_ID_TRAILER,
    CommitRef,
    Forge,
    ForgeError,
    PullRequest,
)

# How far back from a branch head the pipeline's last commit of the story is looked for.
MAX_PERSON_COMMITS = 50


@dataclass(frozen=True)
class StoryRegenerator:
    """What stories are regenerated with: the generator `story_builds` used, the review feedback each
    story is built with, and the build key of each story's current build (its branch must hold it)."""

    generator: StoryGenerator
    feedback: Mapping[str, str]
    build_keys: Mapping[str, str]


class BranchUpdate(BaseModel):
    """The merge commit that brought a story branch up to date with main."""

    commit: str
    files_regenerated: list[str] = Field(
        default_factory=list, description="files whose content is neither the branch's nor main's"
    )
    person_commits: list[str] = Field(
        default_factory=list, description="people's own commits on the branch, carried over"
    )


class UpdateRefused(Exception):
    """The branch cannot be brought up to date by regeneration: `reason`, and the files it concerns."""

    def __init__(self, reason: str, files: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.files = files or []


def _pipeline_tip(forge: Forge, repo: str, head: str, story_id: str) -> tuple[CommitRef, list[CommitRef]]:
    """The branch's last commit the pipeline made for the story (it carries the story's Story-Id and
    a Build-Key), and the people's commits after it, newest first (first parents only)."""
    people: list[CommitRef] = []
    sha = head
    for _ in range(MAX_PERSON_COMMITS):
        commit = forge.get_commit(repo, sha)
        if commit.trailers.get(STORY_ID_TRAILER) == story_id and commit.trailers.get(BUILD_KEY_TRAILER):
            return commit, people
        people.append(commit)
        if not commit.parents:
            break
        sha = commit.parents[0]
    raise UpdateRefused(
        f"no commit of the pipeline for {story_id} within {MAX_PERSON_COMMITS} commits of the branch head"
    )


def bring_up_to_date(
    forge: Forge, repo: str, main: str, pull: PullRequest, story_id: str, regenerator: StoryRegenerator
) -> BranchUpdate:
    """Regenerate the story on main's head and commit it on the pull request's branch as a merge commit
    (parents: the branch head, main's head). UpdateRefused, with nothing written, when it cannot."""
    head = forge.branch_head(repo, pull.branch)
    main_head = forge.branch_head(repo, main)
    if head is None or main_head is None:
        raise UpdateRefused(f"branch {pull.branch!r} or {main!r} is gone")
    tip, people = _pipeline_tip(forge, repo, head, story_id)
    key = tip.trailers[BUILD_KEY_TRAILER]
    expected = regenerator.build_keys.get(story_id)
    if expected is not None and key != expected:
        raise UpdateRefused(
            f"the branch holds build {key} of {story_id}, not its current build {expected}: "
            "the next story_builds run rebuilds it"
        )
    refs = list(dict.fromkeys([main_head, head, tip.sha]))
    trees = dict(zip(refs, forge.read_trees(repo, refs), strict=True))
    main_tree, head_tree, tip_tree = trees[main_head], trees[head], trees[tip.sha]

    try:
        generated = generate_story_tree(
            regenerator.generator, story_id, text_tree(main_tree), regenerator.feedback.get(story_id)
        )
    except Exception as error:  # the generator's failure leaves the conflict as it is
        why = f"regenerating {story_id} on {main} failed: {type(error).__name__}: {error}"
        raise UpdateRefused(why) from None
    target = dict(main_tree)  # main's bytes where the story writes nothing (binary files stay intact)
    for change in generated.change_set.files:
        if change.content is None:
            target.pop(change.path, None)
        else:
            target[change.path] = change.content.encode("utf-8")

    # People's edits since the pipeline's last commit, merged onto the regenerated files.
    conflicts: list[str] = []
    for path in sorted(set(tip_tree) | set(head_tree)):
        if tip_tree.get(path) == head_tree.get(path):
            continue
        try:
            merged = merge_file(tip_tree.get(path), target.get(path), head_tree.get(path))
        except MergeFailed as error:
            raise UpdateRefused(f"{path}: {error}", [path]) from None
        if isinstance(merged, Conflict):
            conflicts.append(path)
        elif merged is None:
            target.pop(path, None)
        else:
            target[path] = merged
    if conflicts:
        who = ", ".join(dict.fromkeys(f"{c.sha[:10]}" for c in people))
        raise UpdateRefused(
            f"a person's own commit on the branch ({who}) changes the same lines as {story_id} "
            f"regenerated on {main}",
            conflicts,
        )

    changes = tree_changes(head_tree, target)
    regenerated = sorted(
        path
        for path in set(target) | set(head_tree) | set(main_tree)
        if target.get(path) not in (head_tree.get(path), main_tree.get(path))
    )
    message = (
        f"Bring {pull.branch} up to date with {main}\n\n"
        f"{story_id} regenerated on {main} at {main_head[:10]}; regenerated: "
        + (", ".join(regenerated) or "nothing")
    )
    if people:
        message += f"; people's commits carried over: {', '.join(c.sha[:10] for c in people)}"
    try:
        commit = forge.commit_merge(
            repo,
            pull.branch,
            head,
            main_head,
            changes,
            message,
            trailers={STORY_ID_TRAILER: story_id, BUILD_KEY_TRAILER: key},
        )
    except ForgeError as error:
        raise UpdateRefused(f"the merge commit was not written: {error}") from None
    return BranchUpdate(
        commit=commit.sha, files_regenerated=regenerated, person_commits=[c.sha for c in people]
    )
