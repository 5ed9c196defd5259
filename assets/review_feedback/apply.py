"""What a story build does with its review feedback.

The feedback a generator acts on goes into the story's build key, so new feedback rebuilds exactly that
story and, through their keys, the stories built on it. A model reads all of it as quoted material.
The offline provider cannot read prose: feedback written as Given/When/Then becomes a criterion of the
story (built and tested like its own, and its key part), and any other text is recorded on the story,
with a comment on the pull request saying the offline provider cannot act on it (written once per
feedback item); such text alone rebuilds nothing, since it could not change what is written.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from assets.requirements.models import AcceptanceCriterion, RequirementsSet
from assets.review_feedback.criteria import review_criteria, split_feedback, with_criteria
from assets.review_feedback.models import KIND_WORDS, FeedbackItem, ProjectFeedback
from assets.story_builds.models import StoryBuildsSet
from pipeline_core.hashing import content_hash
from resources.forge.base import Forge


class OfflineNote(BaseModel):
    """Feedback the offline provider cannot act on: where it was written and its free text."""

    story_id: str
    item: FeedbackItem
    free_text: str

    def key(self) -> str:
        return "offline-feedback-" + content_hash(self.item.model_dump(mode="json"), length=16)

    def line(self) -> str:
        return f"{self.item.author} ({KIND_WORDS[self.item.kind]}): {self.free_text}"


class FeedbackPlan(BaseModel):
    """The review feedback of one project, made ready for one `story_builds` run."""

    requirements: RequirementsSet = Field(description="the stories to build (offline: with review criteria)")
    texts: dict[str, str] = Field(
        default_factory=dict, description="story id -> the feedback its generator acts on (build key)"
    )
    hashes: dict[str, str] = Field(default_factory=dict, description="story id -> feedback hash")
    criteria: dict[str, list[AcceptanceCriterion]] = Field(default_factory=dict)
    notes: list[OfflineNote] = Field(default_factory=list)


def plan_feedback(requirements: RequirementsSet, feedback: ProjectFeedback, *, offline: bool) -> FeedbackPlan:
    """The feedback on the project's stories (others' is ignored), for a model or the offline provider."""
    plan = FeedbackPlan(requirements=requirements)
    for story in requirements.stories:
        found = feedback.story(story.id)
        if found is None or not found.items:
            continue
        plan.hashes[story.id] = found.feedback_hash()
        if not offline:
            plan.texts[story.id] = found.text()
            continue
        added = review_criteria(story, [item.body for item in found.items])
        if added:
            plan.criteria[story.id] = added
            # What the offline provider acts on (the criteria, also in the story itself) is its key part;
            # free text could not change what it writes, so it rebuilds nothing (a comment says so).
            plan.texts[story.id] = "\n".join(f"{c.id}: {c.given} / {c.when} / {c.then}" for c in added)
        for item in found.items:
            free = split_feedback(item.body).free_text
            if free:
                plan.notes.append(OfflineNote(story_id=story.id, item=item, free_text=free))
    plan.requirements = with_criteria(requirements, plan.criteria)
    return plan


def annotate(value: StoryBuildsSet, plan: FeedbackPlan) -> StoryBuildsSet:
    """The builds with the feedback each story was built with: its hash, its review criteria and
    the feedback its generator could not act on (blocked or failed stories were not built with it)."""
    stories = []
    for build in value.stories:
        if build.status in ("built", "unchanged"):
            build = build.model_copy(
                update={
                    "feedback_hash": plan.hashes.get(build.story_id, ""),
                    "review_criteria": plan.criteria.get(build.story_id, []),
                    "feedback_not_acted_on": [n.line() for n in plan.notes if n.story_id == build.story_id],
                }
            )
        stories.append(build)
    return value.model_copy(update={"stories": stories})


def offline_comment(note: OfflineNote) -> str:
    quoted = "\n".join(f"> {line}" for line in note.free_text.splitlines())
    return (
        f"The offline provider cannot act on this feedback from {note.item.author}:\n\n{quoted}\n\n"
        f"It is recorded on story {note.story_id} (`story_builds`: feedback not acted on), and the story "
        "was not changed for it. Write it as an acceptance criterion (Given ..., when ..., then ...) to "
        "have it built and tested offline, or set ANTHROPIC_API_KEY so that Claude rebuilds the story "
        "with it."
    )


def tell_what_offline_cannot_do(forge: Forge, repo: str, value: StoryBuildsSet, plan: FeedbackPlan) -> int:
    """One comment per free-text feedback item on the pull request it was written on (never twice);
    only for stories built in this run. Returns how many notes there are."""
    built = {build.story_id for build in value.stories if build.status in ("built", "unchanged")}
    notes = [note for note in plan.notes if note.story_id in built]
    for note in notes:
        forge.comment_once(repo, note.item.pull_request, offline_comment(note), note.key())
    return len(notes)
