"""The human review loop on the embedded defaults: reviews through the CLI, the review sensor, the
rebuild of exactly the commented stories, merges into main in dependency order, and conflicts.

The example project is built once (module fixture); then, through `ai-pipeline review`, one chain of
stories is approved (dependent first), one story gets a Given/When/Then as requested changes, and
another a free-text comment. The review sensor (evaluated directly) must request exactly one run
(and none on the next tick); that run must merge the chain into main dependencies first, rebuild
only the commented story and its dependents with the new criterion tested, answer the free text
with a pull-request comment, and write no empty commit and no new pull request.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from assets.architecture.models import Architecture
from assets.requirements.models import RequirementsSet
from assets.review_feedback.apply import annotate, plan_feedback, tell_what_offline_cannot_do
from assets.review_feedback.collect import read_project_feedback
from assets.review_feedback.criteria import split_feedback
from assets.reviews.merge import review_and_merge
from assets.reviews.models import ReviewsReport
from assets.reviews.update import StoryRegenerator
from assets.story_builds.asset import model_generator, offline_generator
from assets.story_builds.build import FEEDBACK_TRAILER, build_stories
from assets.story_builds.models import StoryBuildsSet
from assets.validations.models import ValidationReport
from pipeline_core.repository.manifest import read_manifest
from pipeline_core.settings import Settings
from pipeline_defs.cli.app import main as cli_main
from resources.forge import LocalForge
from resources.forge.base import FileChange, GitIdentity, PullRequest
from resources.hosting import LocalHosting
from sensors.review_sensor import APPROVALS_TAG, build_review_sensor
from tests.support.anthropic_server import AnthropicServer
from tests.support.claude_project import documents_of, make_architecture, make_requirements, us1_answer
from tests.support.offline_build import acme_inputs, sandbox_tests
from tests.support.pipeline import EXAMPLE_PROJECT, PipelineHarness, materialization_metadata
from tests.support.story_builds import dependents

PROJECT = "acme-tasks"
GWT = "given a team lead\nWHEN they create a project named Website\nThen the project named Website is listed"
FREE_TEXT = "Sort the board by due date, please"


def git(forge_root: Path, *args: str) -> str:
    bare = forge_root / f"{PROJECT}.git"
    return subprocess.run(
        ["git", f"--git-dir={bare}", *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def review(*args: str) -> None:
    """`ai-pipeline review ...` in-process (the CLI reads PIPELINE_DATA_DIR, set by the fixture)."""
    assert cli_main(["review", *args]) == 0


@dataclass
class Loop:
    harness: PipelineHarness
    forge: LocalForge
    forge_root: Path
    requirements: RequirementsSet
    first: StoryBuildsSet
    pulls_before: list[PullRequest]
    heads_before: dict[str, str]
    root: str  # approved, with its dependent `chained`
    chained: str
    commented: str  # Given/When/Then as requested changes
    noted: str  # a free-text comment
    quiet_tick: Any  # the sensor's tick before any review
    ticks: list[Any]
    run: dg.ExecuteInProcessResult
    after_tick: Any
    second: StoryBuildsSet
    reviews: ReviewsReport
    validations: ValidationReport


def _pick(requirements: RequirementsSet) -> tuple[str, str, str, str]:
    """Chosen by the dependency structure: the story to comment on is the root story with the fewest
    dependents (the example's "create a project", which the Given/When/Then is about); the approved
    chain is another root story and a dependent of it that nothing depends on; the free-text comment
    goes to a story outside both."""
    stories = requirements.stories
    depended = {dep for story in stories for dep in story.depends_on}
    roots = [story.id for story in stories if not story.depends_on and story.id in depended]
    assert len(roots) >= 2, "the example needs two stories with dependents"
    commented = min(roots, key=lambda story_id: len(dependents(requirements, story_id)))
    root = next(story_id for story_id in roots if story_id != commented)
    chained = next(story.id for story in stories if story.depends_on == [root] and story.id not in depended)
    taken = dependents(requirements, commented) | {root, chained}
    noted = next(story.id for story in stories if story.id not in taken and story.id not in depended)
    return root, chained, commented, noted


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    tmp = tmp_path_factory.mktemp("review-loop")
    settings = Settings(pipeline_data_dir=tmp / "var", pipeline_llm_provider="offline")
    saved = {
        key: os.environ.get(key) for key in ("PIPELINE_DATA_DIR", "PIPELINE_LLM_PROVIDER", "PIPELINE_FORGE")
    }
    os.environ.update(
        {"PIPELINE_DATA_DIR": str(tmp / "var"), "PIPELINE_LLM_PROVIDER": "offline", "PIPELINE_FORGE": "local"}
    )
    try:
        with dg.instance_for_test() as instance:
            harness = PipelineHarness.create(settings, instance)
            harness.drop_folder(EXAMPLE_PROJECT, PROJECT)
            harness.tick()
            assert harness.run(PROJECT).success
            forge_root = tmp / "var" / "forge"
            forge = LocalForge(root=str(forge_root))
            requirements = harness.value("requirements", PROJECT, RequirementsSet)
            first = harness.value("story_builds", PROJECT, StoryBuildsSet)
            pulls_before = forge.list_pull_requests(PROJECT)
            heads_before = {b.story_id: forge.branch_head(PROJECT, b.branch) or "" for b in first.stories}
            number = {b.story_id: b.pull_request for b in first.stories}
            root, chained, commented, noted = _pick(requirements)

            sensor = harness.defs.resolve_sensor_def("review_sensor")
            resources = dict(harness.defs.resources or {})

            def tick(cursor: str | None) -> Any:
                with dg.build_sensor_context(
                    instance=instance, cursor=cursor, resources=resources
                ) as context:
                    return sensor(context), context.cursor

            quiet_tick, cursor = tick(None)

            review("approve", PROJECT, str(number[chained]), "--author", "bea")  # dependent first
            review("approve", PROJECT, str(number[root]), "--author", "ana", "-m", "Good")
            review("request-changes", PROJECT, str(number[commented]), "--author", "ana", "--comment", GWT)
            review("comment", PROJECT, str(number[noted]), "--author", "carl", "-m", FREE_TEXT)

            first_tick, cursor = tick(cursor)
            cursor = first_tick.cursor or cursor
            second_tick, cursor = tick(cursor)
            [request] = first_tick.run_requests
            job = harness.defs.resolve_job_def("project_pipeline")
            run = job.execute_in_process(
                partition_key=request.partition_key,
                asset_selection=list(request.asset_selection or []),
                instance=instance,
                tags=request.tags,
            )
            after_tick, _ = tick(cursor)
            yield Loop(
                harness=harness,
                forge=forge,
                forge_root=forge_root,
                requirements=requirements,
                first=first,
                pulls_before=pulls_before,
                heads_before=heads_before,
                root=root,
                chained=chained,
                commented=commented,
                noted=noted,
                quiet_tick=quiet_tick,
                ticks=[first_tick, second_tick],
                run=run,
                after_tick=after_tick,
                second=harness.value("story_builds", PROJECT, StoryBuildsSet),
                reviews=harness.value("reviews", PROJECT, ReviewsReport),
                validations=harness.value("validations", PROJECT, ValidationReport),
            )
    finally:
        LocalHosting(root=str(settings.releases_dir), install_cache_dir="").stop()  # the previews
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_the_sensor_requests_exactly_one_run_for_new_feedback_and_none_again(loop: Loop) -> None:
    assert isinstance(loop.quiet_tick, dg.SkipReason)  # nobody had reviewed anything yet
    first, second = loop.ticks
    assert isinstance(first, dg.SensorResult)
    [request] = first.run_requests
    assert request.partition_key == PROJECT
    assert {key.to_user_string() for key in request.asset_selection or []} >= {
        "review_feedback",
        "story_builds",
        "validations",
        "deployments",
        "reviews",
    }
    assert "documents" not in {key.to_user_string() for key in request.asset_selection or []}
    feedback = read_project_feedback(loop.forge, PROJECT)
    assert feedback.data_version() in (request.run_key or "")
    # The tick observed review_feedback with the new data version.
    [observed] = first.asset_events
    assert observed.partition == PROJECT and observed.tags["dagster/data_version"] == feedback.data_version()
    # The run observed it too, per project, before building.
    records = loop.harness.instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("review_feedback"), asset_partitions=[PROJECT]), limit=1
    ).records
    [latest] = [record.asset_observation for record in records]
    assert latest is not None and latest.tags["dagster/data_version"] == feedback.data_version()
    assert latest.metadata["stories_with_feedback"].value == 2  # an approval's note is no feedback
    # No second run for the same feedback: the next tick, and the one after the run, request nothing.
    assert isinstance(second, dg.SkipReason)
    assert isinstance(loop.after_tick, dg.SkipReason)
    assert loop.run.success


def test_approved_pull_requests_are_merged_into_main_dependencies_first(loop: Loop) -> None:
    pulls = {pull.story_id: pull for pull in loop.reviews.pulls}
    assert pulls[loop.root].state == pulls[loop.chained].state == "merged"
    assert [p.story_id for p in loop.reviews.merged_now()] == [loop.root, loop.chained]
    # The dependent was built on the root's branch: it was pointed at main before merging.
    merged = {p.story_id: p for p in loop.forge.list_pull_requests(PROJECT) if p.state == "merged"}
    assert merged[loop.chained].base == "main"
    # main's first-parent history: the root's merge, then the dependent's, on top of where it was.
    history = git(loop.forge_root, "log", "--first-parent", "--format=%H %s", "main").splitlines()
    assert history[0].split()[0] == loop.reviews.main_commit == loop.forge.branch_head(PROJECT, "main")
    assert f"from story/{loop.chained.lower()}" in history[0]
    assert f"from story/{loop.root.lower()}" in history[1]
    # Who reviewed and when.
    verdicts = {(v.author, v.state) for v in pulls[loop.commented].reviewers}
    assert verdicts == {("ana", "changes_requested")} and pulls[loop.commented].state == "changes_requested"
    assert all(v.at is not None for v in pulls[loop.commented].reviewers)
    metadata = materialization_metadata(loop.run, "reviews")
    assert metadata["main_commit"] == loop.reviews.main_commit
    assert "changes requested" in metadata["pull_requests"] and "ana" in metadata["pull_requests"]


def test_only_the_commented_story_and_its_dependents_are_rebuilt_with_the_new_criterion(loop: Loop) -> None:
    built = {b.story_id for b in loop.second.stories if b.status == "built"}
    assert built == dependents(loop.requirements, loop.commented)
    story = {b.story_id: b for b in loop.second.stories}[loop.commented]
    [criterion] = story.review_criteria
    assert (criterion.given, criterion.when, criterion.then) == (
        "a team lead",
        "they create a project named Website",
        "the project named Website is listed",
    )
    covering = [c for c in story.covered_criteria if c.criterion_id == criterion.id]
    assert covering, story.uncovered_criteria
    tree = loop.forge.read_tree(PROJECT, story.commit or "")
    test_code = tree[covering[0].test.file].decode()
    assert f"Covers: {loop.commented} {criterion.id}" in test_code and "Website" in test_code
    # Its commit names the feedback it answers.
    assert loop.forge.get_commit(PROJECT, story.commit or "").trailers[FEEDBACK_TRAILER]
    # Built and tested: validations ran the new test and count the criterion as covered and passed.
    coverage = {(c.story_id, c.criterion_id): c.status for c in loop.validations.coverage}
    assert coverage[(loop.commented, criterion.id)] == "passed"
    # The pull request is the same one, its body naming the new criterion.
    pull = loop.forge.get_pull_request(PROJECT, story.pull_request or 0)
    assert story.pull_request == {b.story_id: b.pull_request for b in loop.first.stories}[loop.commented]
    assert f"{criterion.id}: Given a team lead" in pull.body


def test_free_text_gets_a_comment_and_no_commit_or_pull_request(loop: Loop) -> None:
    story = {b.story_id: b for b in loop.second.stories}[loop.noted]
    assert story.status == "unchanged" and story.commit == loop.heads_before[loop.noted]
    assert story.feedback_not_acted_on == [f"carl (comment): {FREE_TEXT}"]
    metadata = materialization_metadata(loop.run, "story_builds")
    assert f"- {loop.noted}: carl (comment): {FREE_TEXT}" in metadata["feedback_not_acted_on"]
    assert metadata["stories_with_feedback"] == 2 and loop.commented in metadata["review_criteria"]
    assert loop.forge.branch_head(PROJECT, story.branch) == loop.heads_before[loop.noted]
    comments = loop.forge.list_comments(PROJECT, story.pull_request or 0)
    mine = [c for c in comments if c.pipeline_key]
    assert len(mine) == 1 and "offline provider cannot act" in mine[0].body and FREE_TEXT in mine[0].body
    # No new pull request anywhere, and no commit that changes nothing on any story branch.
    assert len(loop.forge.list_pull_requests(PROJECT)) == len(loop.pulls_before)
    for build in loop.second.stories:
        head = loop.forge.branch_head(PROJECT, build.branch) or ""
        assert git(loop.forge_root, "diff", "--name-only", f"{head}^", head), build.story_id
    unchanged = {b.story_id for b in loop.second.stories} - dependents(loop.requirements, loop.commented)
    assert all(
        loop.forge.branch_head(PROJECT, f"story/{s.lower()}") == loop.heads_before[s] for s in unchanged
    )


def test_feedback_written_as_criteria_in_any_layout() -> None:
    assert split_feedback("GIVEN a board\nwhen I open it\nTHEN tasks are sorted.").criteria == [
        ("a board", "I open it", "tasks are sorted")
    ]
    both = split_feedback("Nice. Given a, when b, then c. given d when e then f\n\nAnd thanks")
    assert both.criteria == [("a", "b", "c"), ("d", "e", "f")] and both.free_text == "Nice And thanks"
    assert split_feedback(FREE_TEXT).criteria == [] and split_feedback(FREE_TEXT).free_text == FREE_TEXT


def test_the_generated_readme_says_which_branch_holds_what(loop: Loop) -> None:
    readme = loop.forge.read_tree(PROJECT, loop.second.integration_commit or "")["README.md"].decode()
    branches = readme.split("## Branches", 1)[1].split("\n## ", 1)[0]
    assert "`story/<id>`" in branches and "pull request" in branches
    assert f"`{loop.second.integration_branch}`" in branches and "preview" in branches
    assert "`main`" in branches and "approved" in branches and "production" in branches


def test_with_a_model_the_feedback_is_quoted_into_that_storys_prompt(
    anthropic_server: AnthropicServer, tmp_path: Path
) -> None:
    requirements = make_requirements()
    requirements = requirements.model_copy(update={"stories": requirements.stories[:1]})
    architecture = make_architecture()
    forge = LocalForge(root=str(tmp_path / "forge"))
    llm = anthropic_server.llm(tmp_path / "llm-cache")
    generator = model_generator(llm, architecture, requirements, tester=None, max_rounds=1)
    anthropic_server.enqueue_json_answer(us1_answer())
    first = build_stories("tasks", requirements, architecture, forge, generator, None, feedback={})
    [built] = first.stories
    assert built.status == "built" and "review-feedback" not in documents_of(anthropic_server.requests[0])

    forge.add_review("tasks", built.pull_request or 0, "changes_requested", "Log every deletion.", "ana")
    forge.comment_on_pull_request("tasks", built.pull_request or 0, "And sort the list by title.", "bea")
    plan = plan_feedback(requirements, read_project_feedback(forge, "tasks"), offline=False)
    assert plan.requirements == requirements and not plan.notes  # a model reads the words themselves
    answer = us1_answer()
    answer["changes"][1]["content"] += "\n# Deletions are logged.\n"
    anthropic_server.enqueue_json_answer(answer)
    second = build_stories("tasks", requirements, architecture, forge, generator, first, feedback=plan.texts)

    request = anthropic_server.requests[-1]
    quoted = documents_of(request)["review-feedback"]
    assert "ana (changes requested): Log every deletion." in quoted
    assert "bea (comment): And sort the list by title." in quoted
    system = json.dumps(request.body.get("system", ""))
    assert "Log every deletion" not in system and "sort the list by title" not in system
    [rebuilt] = second.stories
    assert rebuilt.status == "built" and rebuilt.commit != built.commit
    assert rebuilt.pull_request == built.pull_request and len(forge.list_pull_requests("tasks")) == 1
    tree = forge.read_tree("tasks", rebuilt.commit or "")
    assert b"Deletions are logged" in tree["backend/app/tasks.py"]


REVIEW_READS: list[int] = []  # pull requests whose reviews _ReadCountingForge read


class _ReadCountingForge(LocalForge):
    """A local forge that records every read of reviews (Dagster copies resources, so the record is
    kept outside the instance)."""

    def get_reviews(self, repo, number):  # type: ignore[no-untyped-def]
        REVIEW_READS.append(number)
        return super().get_reviews(repo, number)


def test_the_sensor_reads_reviews_only_when_pull_requests_moved(tmp_path: Path) -> None:
    forge = _ReadCountingForge(root=str(tmp_path / "forge"))
    forge.ensure_repository("shop")
    forge.commit_files("shop", "story/s-1", "main", [FileChange(path="a.py", content="a")], "S-1")
    pull = forge.open_pull_request("shop", "story/s-1", "main", "S-1", "Cart.", story_id="S-1")
    sensor = build_review_sensor(
        dg.define_asset_job("loop", selection=["review_feedback"]), ["review_feedback", "story_builds"]
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("projects", ["shop", "not-built-yet"])
        cursor: str | None = None

        def tick() -> Any:
            nonlocal cursor
            with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"forge": forge}) as ctx:
                result = sensor(ctx)
                cursor = result.cursor if isinstance(result, dg.SensorResult) else ctx.cursor
            return result

        assert isinstance(tick(), dg.SkipReason)  # nobody reviewed anything
        forge.add_review("shop", pull.number, "approved", "", "ana")
        approved = tick()
        [request] = approved.run_requests
        approvals = read_project_feedback(forge, "shop").approvals_version()
        assert request.partition_key == "shop" and request.tags[APPROVALS_TAG] == approvals
        assert not approved.asset_events  # an approval is no feedback: review_feedback's version stays
        time.sleep(2.1)  # the approval's second is over: its activity can be trusted from now on
        assert isinstance(tick(), dg.SkipReason)
        reads = len(REVIEW_READS)
        assert isinstance(tick(), dg.SkipReason) and len(REVIEW_READS) == reads  # nothing moved: not read
        forge.comment_on_pull_request(
            "shop", pull.number, "Given a cart, when I pay, then I get a receipt", "bea"
        )
        [commented] = tick().run_requests
        version = read_project_feedback(forge, "shop").data_version()
        assert version in (commented.run_key or "") and commented.run_key != request.run_key


def test_feedback_on_a_merged_story_never_makes_an_empty_commit_or_pull_request(loop: Loop) -> None:
    architecture = loop.harness.value("architecture", PROJECT, Architecture)
    merged = {b.story_id: b for b in loop.second.stories}[loop.root]
    loop.forge.comment_on_pull_request(PROJECT, merged.pull_request or 0, "Nice work on this one.", "eve")
    plan = plan_feedback(loop.requirements, read_project_feedback(loop.forge, PROJECT), offline=True)
    pulls_before = len(loop.forge.list_pull_requests(PROJECT))
    value = build_stories(
        PROJECT,
        plan.requirements,
        architecture,
        loop.forge,
        offline_generator(architecture, plan.requirements),
        loop.second,
        feedback=plan.texts,
    )
    # Free text the offline provider cannot act on rebuilds nothing: no commit, no pull request, for
    # the merged story and every story built on it; the pull request is told so instead.
    assert {b.story_id: (b.build_key, b.commit) for b in value.stories} == {
        b.story_id: (b.build_key, b.commit) for b in loop.second.stories
    }
    assert len(loop.forge.list_pull_requests(PROJECT)) == pulls_before
    value = annotate(value, plan)  # as the asset does
    assert tell_what_offline_cannot_do(loop.forge, PROJECT, value, plan) == 2  # carl's, and eve's
    again = {b.story_id: b for b in value.stories}[loop.root]
    assert again.feedback_not_acted_on == ["eve (comment): Nice work on this one"]
    told = [c for c in loop.forge.list_comments(PROJECT, merged.pull_request or 0) if c.pipeline_key]
    assert len(told) == 1 and "Nice work on this one" in told[0].body


# --- approvals of independent stories: each brought up to date with main, all merged ----------------

PARALLEL = "acme-parallel"


def run_assets(harness: PipelineHarness, project: str, *assets: str) -> dg.ExecuteInProcessResult:
    """The project pipeline's `assets` for one project, the others' stored values read as inputs."""
    job = harness.defs.resolve_job_def("project_pipeline")
    result = job.execute_in_process(
        partition_key=project,
        instance=harness.instance,
        asset_selection=[dg.AssetKey(asset) for asset in assets],
    )
    assert result.success
    return result


def main_tree(forge: LocalForge, project: str) -> dict[str, str]:
    return {path: data.decode() for path, data in forge.read_tree(project, "main").items()}


def owned_files(builds: StoryBuildsSet, story_id: str) -> list[str]:
    """The files only `story_id` writes (the others are shared: manifest, README, registries...)."""
    others = {path for b in builds.stories if b.story_id != story_id for path in b.files_changed}
    [build] = [b for b in builds.stories if b.story_id == story_id]
    return [path for path in build.files_changed if path not in others]


@dataclass
class Parallel:
    """A second project in the loop's harness whose independent root stories are approved together."""

    harness: PipelineHarness
    forge: LocalForge
    builds: StoryBuildsSet
    roots: list[str]  # stories with no dependencies
    heads: dict[str, str]  # story id -> branch head when it was built
    main_before: str
    two: dg.ExecuteInProcessResult  # the reviews run after approving roots[0] and roots[1]
    two_report: ReviewsReport
    two_tree: dict[str, str]
    three: dg.ExecuteInProcessResult  # after approving roots[2] too
    three_report: ReviewsReport
    rebuilt: dg.ExecuteInProcessResult  # story_builds (and review_feedback) once more afterwards
    rebuilt_value: StoryBuildsSet

    def number(self, story_id: str) -> int:
        return {b.story_id: b.pull_request or 0 for b in self.builds.stories}[story_id]


@pytest.fixture(scope="module")
def parallel(loop: Loop) -> Parallel:
    harness, forge = loop.harness, loop.forge
    harness.drop_folder(EXAMPLE_PROJECT, PARALLEL)
    harness.tick()
    stages = ("documents", "requirements", "architecture", "review_feedback", "story_builds")
    run_assets(harness, PARALLEL, *stages)
    builds = harness.value("story_builds", PARALLEL, StoryBuildsSet)
    requirements = harness.value("requirements", PARALLEL, RequirementsSet)
    # Stories with no dependencies, those whose criteria yield tests first (their tests then run on main).
    tested = {b.story_id for b in builds.stories if b.covered_criteria}
    roots = sorted((s.id for s in requirements.stories if not s.depends_on), key=lambda s: s not in tested)
    assert len(roots) >= 5 and roots[0] in tested, "the example needs five stories without dependencies"
    heads = {b.story_id: b.commit or "" for b in builds.stories}
    main_before = forge.branch_head(PARALLEL, "main") or ""
    for story_id in roots[:2]:
        number = {b.story_id: b.pull_request for b in builds.stories}[story_id]
        review("approve", PARALLEL, str(number), "--author", "ana")
    two = run_assets(harness, PARALLEL, "reviews")
    two_report = harness.value("reviews", PARALLEL, ReviewsReport)
    two_tree = main_tree(forge, PARALLEL)
    number = {b.story_id: b.pull_request for b in builds.stories}[roots[2]]
    review("approve", PARALLEL, str(number), "--author", "bea")
    three = run_assets(harness, PARALLEL, "reviews")
    three_report = harness.value("reviews", PARALLEL, ReviewsReport)
    rebuilt = run_assets(harness, PARALLEL, "review_feedback", "story_builds")
    return Parallel(
        harness=harness,
        forge=forge,
        builds=builds,
        roots=roots,
        heads=heads,
        main_before=main_before,
        two=two,
        two_report=two_report,
        two_tree=two_tree,
        three=three,
        three_report=three_report,
        rebuilt=rebuilt,
        rebuilt_value=harness.value("story_builds", PARALLEL, StoryBuildsSet),
    )


def test_approving_two_and_three_independent_stories_merges_every_one(parallel: Parallel) -> None:
    first, second, third = parallel.roots[:3]
    assert [p.story_id for p in parallel.two_report.merged_now()] == [first, second]
    assert [p.story_id for p in parallel.three_report.merged_now()] == [third]
    for report, tree, approved in (
        (parallel.two_report, parallel.two_tree, [first, second]),
        (parallel.three_report, main_tree(parallel.forge, PARALLEL), [first, second, third]),
    ):
        assert not report.conflicts()
        # main holds every approved story's own files as it built them, and a manifest listing them all.
        for story_id in approved:
            branch_tree = parallel.forge.read_tree(PARALLEL, parallel.heads[story_id])
            owned = owned_files(parallel.builds, story_id)
            assert all(tree[path] == branch_tree[path].decode() for path in owned), story_id
            [build] = [b for b in parallel.builds.stories if b.story_id == story_id]
            assert owned or not build.covered_criteria  # a story with tests owns its test module
        manifest = read_manifest(tree)
        assert manifest is not None
        assert {record.id for record in manifest.stories} == set(approved)
        for story_id in approved:
            assert f"| {story_id} |" in tree["README.md"], story_id
    # Each metadata line and table row says which files were regenerated; the conflicts check passes.
    for result, updated in ((parallel.two, [second]), (parallel.three, [third])):
        metadata = materialization_metadata(result, "reviews")
        lines = metadata["brought_up_to_date"].splitlines()
        assert [line.split(" ")[1] for line in lines] == updated
        for line in lines:
            assert "brought up to date with main: " in line and ".ai-pipeline/manifest.json" in line
        assert "brought up to date with main" in metadata["pull_requests"]
        [check] = result.get_asset_check_evaluations()
        assert check.passed


def test_the_generated_application_on_main_passes_its_own_tests(parallel: Parallel, tmp_path: Path) -> None:
    tree = main_tree(parallel.forge, PARALLEL)
    for component in ("backend", "frontend"):
        result = sandbox_tests(tree, component, tmp_path)
        assert result.ok and result.tests, (component, result.stderr_tail)
        assert {test.status for test in result.tests} <= {"passed", "skipped"}, component
    # Every approved story's tests ran there.
    names = {test.name for test in sandbox_tests(tree, "backend", tmp_path).tests}
    for story_id in parallel.roots[:3]:
        [build] = [b for b in parallel.builds.stories if b.story_id == story_id]
        assert {c.test.name for c in build.covered_criteria} <= names, story_id


def test_the_pull_request_shows_the_merge_commit_that_brought_it_up_to_date(parallel: Parallel) -> None:
    first, second, third = parallel.roots[:3]
    records = {p.story_id: p for p in parallel.two_report.pulls} | {
        p.story_id: p for p in parallel.three_report.merged_now()
    }
    assert records[first].updated_with_main is None  # the first merged cleanly: nothing to bring up
    for story_id in (second, third):
        record = records[story_id]
        pull = parallel.forge.get_pull_request(PARALLEL, parallel.number(story_id))
        assert pull.state == "merged" and pull.head_sha == record.updated_with_main
        update = parallel.forge.get_commit(PARALLEL, record.updated_with_main or "")
        # A merge commit on the branch: the head as it was built, and main before this merge.
        main_at_update = parallel.forge.get_commit(PARALLEL, record.merge_commit or "").parents[0]
        assert update.parents == [parallel.heads[story_id], main_at_update]
        assert "up to date with main" in update.message.splitlines()[0]
        assert update.trailers["Story-Id"] == story_id
        assert ".ai-pipeline/manifest.json" in record.files_regenerated
        assert all(path in update.message for path in record.files_regenerated)
        # main's merge of the pull request has that commit as its second parent.
        assert parallel.forge.get_commit(PARALLEL, record.merge_commit or "").parents[1] == update.sha
    history = parallel.forge.get_commit(PARALLEL, parallel.three_report.main_commit or "")
    assert history.sha == parallel.forge.branch_head(PARALLEL, "main") != parallel.main_before


def test_the_next_story_builds_run_keeps_the_merged_stories(parallel: Parallel) -> None:
    before = {b.story_id: b for b in parallel.builds.stories}
    updates = {
        p.story_id: p.updated_with_main
        for report in (parallel.two_report, parallel.three_report)
        for p in report.merged_now()
        if p.updated_with_main
    }
    assert len(updates) == 2
    for build in parallel.rebuilt_value.stories:
        assert build.status == "unchanged", (build.story_id, build.reason)
        assert build.build_key == before[build.story_id].build_key
        assert build.pull_request == before[build.story_id].pull_request
        head = parallel.forge.branch_head(PARALLEL, build.branch)
        assert build.commit == head  # the branch as it is, merge commit included
        assert head == updates.get(build.story_id, parallel.heads[build.story_id])
    assert parallel.rebuilt_value.integration_commit == parallel.builds.integration_commit
    metadata = materialization_metadata(parallel.rebuilt, "story_builds")
    assert metadata["stories_built"] == 0


def test_a_persons_own_conflicting_commit_is_reported_and_left_open(parallel: Parallel) -> None:
    story_id = parallel.roots[3]
    branch = f"story/{story_id.lower()}"
    head = parallel.forge.branch_head(PARALLEL, branch) or ""
    # Someone rewrites the README on the branch by hand: the lines that list the stories are theirs now.
    own = parallel.forge.commit_files(
        PARALLEL,
        branch,
        head,
        [FileChange(path="README.md", content="# Our task tracker\n\nWritten by hand.\n")],
        "Rewrite the README by hand",
        author=GitIdentity(name="Dan", email="dan@example.test"),
    )
    review("approve", PARALLEL, str(parallel.number(story_id)), "--author", "dan")
    main_before = parallel.forge.branch_head(PARALLEL, "main")
    result = run_assets(parallel.harness, PARALLEL, "reviews")
    report = parallel.harness.value("reviews", PARALLEL, ReviewsReport)
    [conflict] = report.conflicts()
    assert conflict.story_id == story_id and conflict.state == "approved" and not conflict.updated_with_main
    assert {".ai-pipeline/manifest.json", "README.md"} <= set(conflict.conflict_files)
    assert "a person's own commit" in (conflict.problem or "") and own.sha[:10] in (conflict.problem or "")
    assert all(path in (conflict.problem or "") for path in conflict.conflict_files)
    # Nothing forced, nothing written: main and the branch are where they were, the pull request open.
    assert parallel.forge.branch_head(PARALLEL, "main") == main_before == report.main_commit
    assert parallel.forge.branch_head(PARALLEL, branch) == own.sha
    assert parallel.forge.get_pull_request(PARALLEL, parallel.number(story_id)).state == "open"
    [check] = result.get_asset_check_evaluations()
    assert not check.passed and story_id in str(check.metadata["conflicts"].value)


def test_a_persons_own_commit_elsewhere_is_carried_into_main(parallel: Parallel) -> None:
    story_id = parallel.roots[4]
    branch = f"story/{story_id.lower()}"
    head = parallel.forge.branch_head(PARALLEL, branch) or ""
    notes = "# Notes\n\nWhy this story matters.\n"
    own = parallel.forge.commit_files(
        PARALLEL,
        branch,
        head,
        [FileChange(path="docs/notes.md", content=notes)],
        "Add notes",
        author=GitIdentity(name="Eve", email="eve@example.test"),
    )
    review("approve", PARALLEL, str(parallel.number(story_id)), "--author", "eve")
    run_assets(parallel.harness, PARALLEL, "reviews")
    report = parallel.harness.value("reviews", PARALLEL, ReviewsReport)
    record = {p.story_id: p for p in report.pulls}[story_id]
    assert record.state == "merged" and record.merged_in_this_run, record.problem
    update = parallel.forge.get_commit(PARALLEL, record.updated_with_main or "")
    assert update.parents[0] == own.sha and own.sha[:10] in update.message
    tree = main_tree(parallel.forge, PARALLEL)
    assert tree["docs/notes.md"] == notes
    manifest = read_manifest(tree)
    assert manifest is not None and story_id in {record.id for record in manifest.stories}


def test_approving_every_story_merges_all_and_main_becomes_the_integration_tree(tmp_path: Path) -> None:
    requirements, architecture = acme_inputs()
    forge = LocalForge(root=str(tmp_path / "forge"))
    generator = offline_generator(architecture, requirements)
    builds = build_stories("acme", requirements, architecture, forge, generator, None, feedback={})
    assert all(b.status == "built" for b in builds.stories)
    for build in builds.stories:
        forge.add_review("acme", build.pull_request or 0, "approved", "", "ana")
    regenerator = StoryRegenerator(
        generator=generator, feedback={}, build_keys={b.story_id: b.build_key for b in builds.stories}
    )
    report = review_and_merge(forge, "acme", requirements, regenerator=lambda: regenerator)
    assert not report.conflicts()
    assert {p.story_id for p in report.merged_now()} == {b.story_id for b in builds.stories}
    assert report.brought_up_to_date()  # dependents on updated stories and independent ones alike
    # main now holds exactly what validations tested: every story together.
    assert forge.read_tree("acme", "main") == forge.read_tree("acme", builds.integration_commit or "")
    again = build_stories("acme", requirements, architecture, forge, generator, builds, feedback={})
    assert {b.status for b in again.stories} == {"unchanged"}
    assert again.integration_commit == builds.integration_commit
