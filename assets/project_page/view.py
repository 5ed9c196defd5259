"""The project page's content, from the stages' values: plain functions, no Dagster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from assets.documents.models import DocumentsSnapshot
from assets.project_page.models import (
    CriterionView,
    DocumentView,
    PageView,
    QuoteView,
    RejectedView,
    ReviewView,
    StageLink,
    StoryView,
    TestView,
    UsageView,
)
from assets.requirements.models import RequirementsSet
from assets.story_builds.models import StoryBuildsSet
from assets.validations.models import ValidationReport
from resources.forge.base import PullRequest, Review

REVIEW_WORDS = {"approved": "approved", "changes_requested": "changes requested", "commented": "commented"}


def review_state(reviews: Sequence[Review]) -> str:
    """Each reviewer's latest verdict ("approved by bob; changes requested by alice"), comments aside."""
    latest: dict[str, str] = {}
    for review in reviews:
        if review.state != "commented" or review.author not in latest:
            latest[review.author] = review.state
    verdicts = [f"{REVIEW_WORDS[state]} by {author}" for author, state in latest.items()]
    return "; ".join(verdicts) or "no review yet"


def _http(url: str | None) -> str:
    return url if url and url.startswith(("http://", "https://")) else ""


def _version_labels(documents: DocumentsSnapshot) -> dict[tuple[str, str], str]:
    labels = {}
    for record in documents.documents:
        for version in record.versions:
            if version.content_hash:
                labels[(record.path, version.content_hash)] = (
                    f"v{version.number} ({version.content_hash[:8]})"
                )
    return labels


def build_page_view(
    documents: DocumentsSnapshot,
    requirements: RequirementsSet,
    story_builds: StoryBuildsSet | None,
    validations: ValidationReport | None,
    pulls: Mapping[int, tuple[PullRequest, Sequence[Review]]],
    usage: Sequence[UsageView],
    stage_links: Sequence[StageLink] = (),
    *,
    now: datetime | None = None,
) -> PageView:
    """Every story with its criteria, quotes, build, pull request, review and tests; the documents
    and the rejected ones; model use per stage. `pulls` maps a pull-request number to its live state."""
    versions = _version_labels(documents)
    builds = {build.story_id: build for build in story_builds.stories} if story_builds else {}
    coverage = (
        {(item.story_id, item.criterion_id): item for item in validations.coverage} if validations else {}
    )
    statuses = {item.story_id: item for item in validations.stories} if validations else {}
    repository = story_builds.repository if story_builds else requirements.project
    stories = []
    for story in requirements.stories:
        criteria = []
        for criterion in story.acceptance_criteria:
            item = coverage.get((story.id, criterion.id))
            criteria.append(
                CriterionView(
                    id=criterion.id,
                    given=criterion.given,
                    when=criterion.when,
                    then=criterion.then,
                    coverage=item.status if item else "not validated",
                    reason=item.reason if item else "",
                    tests=[
                        TestView(name=test.test.name, file=test.test.file, outcome=test.outcome)
                        for test in (item.tests if item else [])
                    ],
                )
            )
        quotes = [
            QuoteView(
                document=trace.document,
                version=versions.get((trace.document, trace.version), trace.version[:8]),
                location=trace.location.describe(),
                speaker=trace.location.speaker or "",
                quote=trace.quote,
            )
            for trace in story.traces
        ]
        view = StoryView(
            id=story.id,
            title=story.title,
            priority=story.priority,
            as_a=story.as_a,
            i_want=story.i_want,
            so_that=story.so_that,
            depends_on=story.depends_on,
            criteria=criteria,
            quotes=quotes,
        )
        build = builds.get(story.id)
        if build is not None:
            view.build_status = build.status
            view.build_reason = build.reason or ""
            view.branch = build.branch
            view.commit = (build.commit or "")[:12]
            if build.pull_request is not None:
                pull, reviews = pulls.get(build.pull_request, (None, ()))
                url = _http(pull.url if pull else build.pull_request_url)
                view.pull_request = ReviewView(
                    number=build.pull_request,
                    url=url,
                    state=pull.state if pull else "unknown",
                    review_state=review_state(reviews),
                    command="" if url else f"ai-pipeline review show {repository} {build.pull_request}",
                )
        status = statuses.get(story.id)
        if status is not None:
            view.tests_status = status.status
        stories.append(view)

    runs = validations.components if validations else []
    return PageView(
        project=requirements.project,
        generated_at=(now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        repository=repository,
        repository_url=_http(story_builds.repository_url if story_builds else None),
        commit=(validations.commit or "") if validations else "",
        stories=stories,
        documents=[
            DocumentView(
                path=record.path,
                kind=record.kind,
                versions=len(record.versions),
                current=record.current.status
                if record.current.status != "active"
                else versions.get((record.path, record.current.content_hash or ""), ""),
            )
            for record in documents.documents
        ],
        rejected=[RejectedView(path=item.path, reason=item.reason) for item in documents.rejected],
        excluded=[
            RejectedView(
                path=f"{item.document} ({item.location.describe()}): {item.text}", reason=item.reason
            )
            for item in requirements.excluded
        ],
        usage=list(usage),
        stages=list(stage_links),
        tests_passed=sum(run.passed for run in runs),
        tests_failed=sum(run.failed + run.error + run.timeout for run in runs),
        criteria_covered=sum(1 for item in coverage.values() if item.status != "uncovered"),
        criteria_total=sum(len(story.acceptance_criteria) for story in requirements.stories),
        problems=list(validations.problems) if validations else ["not validated yet"],
    )
