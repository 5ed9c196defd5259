"""Reading review feedback from the forge: the plain function behind the `review_feedback` asset, the
review sensor and `story_builds` (so all three see the same feedback and the same hashes)."""

from __future__ import annotations

from collections.abc import Sequence

from assets.review_feedback.models import Approval, FeedbackItem, ProjectFeedback, StoryFeedback
from pipeline_core.hashing import content_hash
from resources.forge.base import Forge, PullRequest


def pull_requests_activity(pulls: Sequence[PullRequest]) -> str:
    """Changes whenever any pull request is reviewed, commented on, edited or merged (its
    `updated_at`), so a poller reads reviews and comments only when this moved."""
    return content_hash(sorted((p.number, p.state, str(p.updated_at)) for p in pulls), length=24)


def read_project_feedback(
    forge: Forge, project: str, pulls: Sequence[PullRequest] | None = None
) -> ProjectFeedback:
    """Per story (by the story marker of its pull requests) the feedback people gave on any of its pull
    requests, oldest first (`pulls`: the project's pull requests if the caller listed them already).
    A project whose repository does not exist yet has none; any other forge error is raised (an
    empty answer would look like feedback taken back)."""
    if pulls is None:
        if not forge.repository_exists(project):
            return ProjectFeedback(project=project, repository_exists=False)
        pulls = forge.list_pull_requests(project)
    stories: dict[str, StoryFeedback] = {}
    for pull in pulls:
        if not pull.story_id:
            continue
        story = stories.setdefault(pull.story_id, StoryFeedback(story_id=pull.story_id))
        story.pull_requests.append(pull.number)
        for review in forge.get_reviews(project, pull.number):
            if review.state == "approved":
                story.approvals.append(Approval(pull_request=pull.number, author=review.author, at=review.at))
            elif review.body.strip():
                kind = "changes_requested" if review.state == "changes_requested" else "review_comment"
                story.items.append(
                    FeedbackItem(
                        pull_request=pull.number,
                        kind=kind,
                        author=review.author,
                        body=review.body.strip(),
                        at=review.at,
                    )
                )
        for comment in forge.list_comments(project, pull.number):
            if comment.pipeline_key is None and comment.body.strip():
                story.items.append(
                    FeedbackItem(
                        pull_request=pull.number,
                        kind="comment",
                        author=comment.author,
                        body=comment.body.strip(),
                        at=comment.at,
                        path=comment.path,
                    )
                )
    for story in stories.values():
        # Reviews and comments are read separately: one timeline, stable for equal times.
        story.items.sort(key=lambda item: (item.at.timestamp() if item.at else 0.0, item.pull_request))
    return ProjectFeedback(project=project, stories=sorted(stories.values(), key=lambda s: s.story_id))
