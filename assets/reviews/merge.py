"""Review state of every story pull request, and approved ones merged into main in dependency order.

A pull request is `changes_requested` when any reviewer's latest review asks for changes, `approved`
when none does and someone's latest approves, else `open` (or `merged` / `closed` as the forge says).
An approved story is merged only after every story it depends on is merged (dependencies first, by
`plan_build_order`); a story built on a dependency's branch is pointed at main first. A pull request
that no longer merges cleanly (an independent story merged before it laid the same shared files) is
brought up to date with main by regenerating its story on main (`update.bring_up_to_date`, a merge
commit on its branch) and then merged. Only a conflict regeneration cannot resolve is reported with
its files, the pull request left as it is: nothing is forced.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import tenacity

from assets.requirements.models import RequirementsSet
from assets.reviews.models import PullState, ReviewsReport, StoryPullReview, Verdict
from assets.reviews.update import StoryRegenerator, UpdateRefused, bring_up_to_date
from assets.story_builds.build_order import plan_build_order
from resources.forge.base import Forge, ForgeError, MergeConflictError, PullRequest, Review


def latest_verdicts(reviews: list[Review]) -> list[Verdict]:
    """Each reviewer's latest review that says something about the change (approve or request)."""
    latest: dict[str, Verdict] = {}
    for review in reviews:
        if review.state == "commented" and review.author in latest:
            continue  # a comment does not take back an approval or a request (GitHub's rule too)
        latest[review.author] = Verdict(author=review.author, state=review.state, at=review.at)
    return sorted(latest.values(), key=lambda verdict: verdict.author)


def pull_state(pull: PullRequest, verdicts: list[Verdict]) -> PullState:
    if pull.state != "open":
        return pull.state
    states = {verdict.state for verdict in verdicts}
    if "changes_requested" in states:
        return "changes_requested"
    return "approved" if "approved" in states else "open"


def _story_pulls(pulls: list[PullRequest]) -> dict[str, PullRequest]:
    """Per story its current pull request: the open one, else the newest merged, else the newest."""
    chosen: dict[str, PullRequest] = {}
    rank = {"open": 2, "merged": 1, "closed": 0}
    for pull in pulls:  # oldest first: a later one of the same rank wins
        if not pull.story_id:
            continue
        current = chosen.get(pull.story_id)
        if current is None or rank[pull.state] >= rank[current.state]:
            chosen[pull.story_id] = pull
    return chosen


def review_and_merge(
    forge: Forge,
    repo: str,
    requirements: RequirementsSet,
    regenerator: Callable[[], StoryRegenerator] | None = None,
    merge_retry_seconds: Sequence[float] = (2.0, 5.0),
) -> ReviewsReport:
    """Read every story pull request's reviews, merge the approved ones whose dependencies are
    merged (in dependency order), and report each one's state and main's head afterwards.

    `regenerator` (called once, at the first conflict) gives what a conflicting story is regenerated
    with to bring its branch up to date with main; without it a conflict is only reported. After such
    an update the merge is retried after each of `merge_retry_seconds` while the forge still refuses
    (GitHub computes a pushed branch's mergeability in the background)."""
    made: list[StoryRegenerator] = []

    def regenerate() -> StoryRegenerator | None:
        if regenerator is None:
            return None
        if not made:
            made.append(regenerator())
        return made[0]

    main = forge.default_branch(repo)
    order = [story_id for layer in plan_build_order(requirements) for story_id in layer]
    depends = {story.id: [d for d in story.depends_on if d in order] for story in requirements.stories}
    pulls = _story_pulls(forge.list_pull_requests(repo))
    records: dict[str, StoryPullReview] = {}
    for story_id in order + sorted(set(pulls) - set(order)):
        pull = pulls.get(story_id)
        if pull is None:
            continue
        verdicts = latest_verdicts(forge.get_reviews(repo, pull.number)) if pull.state == "open" else []
        records[story_id] = StoryPullReview(
            story_id=story_id,
            number=pull.number,
            url=pull.url,
            branch=pull.branch,
            base=pull.base,
            state=pull_state(pull, verdicts),
            reviewers=verdicts,
            merge_commit=pull.merge_sha,
        )
    for story_id in order:
        record = records.get(story_id)
        if record is None or record.state != "approved":
            continue
        waiting = [d for d in depends.get(story_id, []) if d not in records or records[d].state != "merged"]
        if waiting:
            record.waiting_for = waiting
            record.problem = "waits for " + ", ".join(waiting) + " to be approved and merged first"
            continue
        _merge(forge, repo, main, record, pulls[story_id], regenerate, merge_retry_seconds)
    return ReviewsReport(
        project=repo,
        repository=repo,
        main_branch=main,
        main_commit=forge.branch_head(repo, main),
        merge_order=order,
        pulls=list(records.values()),
    )


def _merge(
    forge: Forge,
    repo: str,
    main: str,
    record: StoryPullReview,
    pull: PullRequest,
    regenerate: Callable[[], StoryRegenerator | None],
    retry_seconds: Sequence[float],
) -> None:
    try:
        if pull.base != main:
            # Its dependencies are in main now: the pull request proposes the story for main itself.
            moved = forge.open_pull_request(repo, pull.branch, main, pull.title, story_id=record.story_id)
            record.base = moved.base
        merged = forge.merge_pull_request(repo, pull.number)
    except MergeConflictError as conflict:
        merged = _update_and_merge(forge, repo, main, record, pull, conflict, regenerate(), retry_seconds)
        if merged is None:
            return
    except ForgeError as error:
        record.problem = f"not merged: {error}"
        return
    record.state = "merged"
    record.merged_in_this_run = True
    record.merge_commit = merged.merge_sha


def _conflict(record: StoryPullReview, main: str, files: list[str], why: str = "") -> None:
    record.conflict, record.conflict_files = True, files
    named = ", ".join(files) or "files the forge does not name"
    record.problem = f"merge conflict with {main} in {named}: nothing was forced"
    if why:
        record.problem += f" ({why})"


def _update_and_merge(
    forge: Forge,
    repo: str,
    main: str,
    record: StoryPullReview,
    pull: PullRequest,
    conflict: MergeConflictError,
    regenerator: StoryRegenerator | None,
    retry_seconds: Sequence[float],
) -> PullRequest | None:
    """Bring the branch up to date with main by regenerating its story, then merge it; None (the
    conflict recorded) when regeneration cannot resolve it or the forge still refuses."""
    if regenerator is None:
        _conflict(record, main, conflict.files)
        return None
    try:
        update = bring_up_to_date(forge, repo, main, pull, record.story_id, regenerator)
    except UpdateRefused as refused:
        _conflict(record, main, list(dict.fromkeys([*conflict.files, *refused.files])), refused.reason)
        return None
    record.updated_with_main, record.files_regenerated = update.commit, update.files_regenerated
    try:
        return merge_retrying(retry_seconds)(forge.merge_pull_request, repo, pull.number)
    except MergeConflictError as again:
        why = f"still refused after bringing it up to date ({update.commit[:10]})"
        _conflict(record, main, again.files, why)
    except ForgeError as error:
        record.problem = f"brought up to date with {main} ({update.commit[:10]}) but not merged: {error}"
    return None


def merge_retrying(retry_seconds: Sequence[float]) -> tenacity.Retrying:
    """A merge tried at once, then again after each of `retry_seconds` while the forge refuses it as a
    conflict (any other error is not retried); the last refusal is raised."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(MergeConflictError),
        stop=tenacity.stop_after_attempt(len(retry_seconds) + 1),
        wait=tenacity.wait_chain(*(tenacity.wait_fixed(seconds) for seconds in retry_seconds))
        if retry_seconds
        else tenacity.wait_none(),
        reraise=True,
    )
