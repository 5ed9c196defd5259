"""Review state of every story pull request, and approved ones merged into main in dependency order.

A pull request is `changes_requested` when any reviewer's latest review asks for changes, `approved`
when none does and someone's latest approves, else `open` (or `merged` / `closed` as the forge says).
An approved story is merged only after every story it depends on is merged (dependencies first, by
`plan_build_order`); a story built on a dependency's branch is pointed at main first. A conflict is
reported with its files and the pull request left as it is: nothing is forced.
"""

from __future__ import annotations

from assets.requirements.models import RequirementsSet
from assets.reviews.models import PullState, ReviewsReport, StoryPullReview, Verdict
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


def review_and_merge(forge: Forge, repo: str, requirements: RequirementsSet) -> ReviewsReport:
    """Read every story pull request's reviews, merge the approved ones whose dependencies are
    merged (in dependency order), and report each one's state and main's head afterwards."""
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
        _merge(forge, repo, main, record, pulls[story_id])
    return ReviewsReport(
        project=repo,
        repository=repo,
        main_branch=main,
        main_commit=forge.branch_head(repo, main),
        merge_order=order,
        pulls=list(records.values()),
    )


def _merge(forge: Forge, repo: str, main: str, record: StoryPullReview, pull: PullRequest) -> None:
    try:
        if pull.base != main:
            # Its dependencies are in main now: the pull request proposes the story for main itself.
            moved = forge.open_pull_request(repo, pull.branch, main, pull.title, story_id=record.story_id)
            record.base = moved.base
        merged = forge.merge_pull_request(repo, pull.number)
    except MergeConflictError as conflict:
        record.conflict, record.conflict_files = True, conflict.files
        named = ", ".join(conflict.files) or "files the forge does not name"
        record.problem = f"merge conflict with {main} in {named}: nothing was forced"
        return
    except ForgeError as error:
        record.problem = f"not merged: {error}"
        return
    record.state = "merged"
    record.merged_in_this_run = True
    record.merge_commit = merged.merge_sha
