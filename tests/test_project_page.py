"""The project page: its content from the stages' values, the asset in the pipeline, the links in the
stages' metadata, and the page as headless Chromium renders it over http."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pymupdf
import pytest

from assets.documents.models import (
    DocumentRecord,
    DocumentsSnapshot,
    DocumentVersion,
    Location,
    RejectedFile,
)
from assets.project_page.models import ProjectPage, UsageView
from assets.project_page.render import render_page
from assets.project_page.view import build_page_view
from assets.requirements.models import AcceptanceCriterion, RequirementsSet, Trace, UserStory
from assets.story_builds.models import StoryBuildsSet, TestRef
from assets.validations.models import CoveringTest, CriterionCoverage, ValidationReport
from pipeline_core.progress import Progress
from pipeline_core.settings import Settings
from pipeline_defs.cli.page import make_server
from resources.forge.base import PullRequest, Review
from tests.support.pipeline import EXAMPLE_PROJECT, PipelineHarness, materialization_metadata

PROJECT = "acme-tasks"


def _inputs() -> tuple[DocumentsSnapshot, RequirementsSet, StoryBuildsSet, ValidationReport]:
    documents = DocumentsSnapshot(
        project="shop",
        documents=[
            DocumentRecord(
                path="kickoff.vtt",
                kind="vtt",
                source_key="shop/kickoff.vtt",
                versions=[
                    DocumentVersion(number=1, status="active", content_hash="a" * 64, recorded_at="t1"),
                    DocumentVersion(number=2, status="active", content_hash="b" * 64, recorded_at="t2"),
                ],
            )
        ],
        rejected=[RejectedFile(path="scan.pdf", reason="the PDF has no text layer")],
    )
    story = UserStory(
        id="US-1a2b3c",
        title="Pay <script>alert(1)</script> by card",
        as_a="shopper",
        i_want="to pay by card",
        so_that="I can check out",
        priority="Must",
        acceptance_criteria=[
            AcceptanceCriterion(id="AC1", given="a cart", when="I pay", then="the order is placed"),
            AcceptanceCriterion(id="AC2", given="a declined card", when="I pay", then="I see why"),
        ],
        traces=[
            Trace(
                document="kickoff.vtt",
                version="b" * 64,
                location=Location(start="00:01:02.000", end="00:01:09.000", speaker="Dana"),
                quote="Shoppers must be able to pay by card.",
            )
        ],
    )
    requirements = RequirementsSet(project="shop", stories=[story])
    builds = StoryBuildsSet.model_validate(
        {
            "project": "shop",
            "repository": "shop",
            "repository_url": "file:///forge/shop.git",
            "build_order": [["US-1a2b3c"]],
            "integration_branch": "integration",
            "stories": [
                {
                    "story_id": "US-1a2b3c",
                    "title": story.title,
                    "status": "built",
                    "build_key": "k",
                    "spec_hash": "s",
                    "branch": "story/us-1a2b3c",
                    "base_branch": "main",
                    "commit": "c" * 40,
                    "pull_request": 3,
                    "pull_request_url": "file:///forge/shop/pulls/3.json",
                }
            ],
        }
    )
    test = TestRef(component="backend", file="backend/tests/test_pay.py", name="test_us_1a2b3c_ac1")
    report = ValidationReport(
        project="shop",
        repository="shop",
        integration_branch="integration",
        commit="c" * 40,
        coverage=[
            CriterionCoverage(
                story_id="US-1a2b3c",
                criterion_id="AC1",
                status="passed",
                tests=[CoveringTest(test=test, outcome="passed")],
            ),
            CriterionCoverage(
                story_id="US-1a2b3c",
                criterion_id="AC2",
                status="uncovered",
                reason="no generated test covers it",
            ),
        ],
    )
    return documents, requirements, builds, report


def test_the_page_shows_each_story_with_its_quotes_pull_request_review_and_tests() -> None:
    documents, requirements, builds, report = _inputs()
    pull = PullRequest(
        number=3, url="file:///x", branch="story/us-1a2b3c", base="main", title="t", state="open"
    )
    reviews = [
        Review(state="approved", author="bob"),
        Review(state="changes_requested", author="alice", body="Show the card brand"),
        Review(state="commented", author="alice", body="nit"),
    ]
    usage = [
        UsageView(stage="requirements", model_calls=2, input_tokens=1000, output_tokens=200, cost_usd=0.01),
        UsageView(stage="story_builds", model_calls=1, input_tokens=500, output_tokens=800, cost_usd=0.02),
    ]
    view = build_page_view(
        documents,
        requirements,
        builds,
        report,
        {3: (pull, reviews)},
        usage,
        now=datetime(2026, 3, 1, tzinfo=UTC),
    )
    [story] = view.stories
    assert [(q.document, q.version, q.location, q.speaker) for q in story.quotes] == [
        ("kickoff.vtt", f"v2 ({'b' * 8})", "00:01:02.000–00:01:09.000 (Dana)", "Dana")
    ]
    assert story.pull_request is not None
    assert story.pull_request.review_state == "approved by bob; changes requested by alice"
    # The local forge's records are files: no file:// link, the command that shows it instead.
    assert story.pull_request.url == "" and story.pull_request.command == "ai-pipeline review show shop 3"
    assert [(c.id, c.coverage, [t.name for t in c.tests]) for c in story.criteria] == [
        ("AC1", "passed", ["test_us_1a2b3c_ac1"]),
        ("AC2", "uncovered", []),
    ]
    assert (view.usage_total.input_tokens, view.usage_total.output_tokens) == (1500, 1000)
    assert view.usage_total.cost_usd == pytest.approx(0.03)

    page = render_page(view)
    assert "<script>" not in page and "&lt;script&gt;" in page  # every value is escaped
    assert 'id="US-1a2b3c"' in page
    for text in (
        "Shoppers must be able to pay by card.",
        "kickoff.vtt · v2 (bbbbbbbb) · 00:01:02.000–00:01:09.000 (Dana)",
        "approved by bob; changes requested by alice",
        "backend/tests/test_pay.py::test_us_1a2b3c_ac1",
        "no generated test covers it",
        "the PDF has no text layer",
        "Must",
        "0.0300",
    ):
        assert html.escape(text, quote=False) in page, text
    assert "file://" not in page


@pytest.fixture(scope="module")
def pipeline_run() -> Iterator[tuple[PipelineHarness, dg.ExecuteInProcessResult]]:
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test() as instance:
        settings = Settings(
            pipeline_data_dir=Path(tmp) / "var",
            pipeline_llm_provider="offline",
            pipeline_ui_url="http://ui.test:3000",
            pipeline_page_url="http://127.0.0.1:3999",
        )
        harness = PipelineHarness.create(settings, instance)
        harness.drop_folder(EXAMPLE_PROJECT, PROJECT)
        harness.tick()
        run = harness.run(PROJECT)
        assert run.success
        yield harness, run


def test_every_stage_links_to_the_next_stage_of_the_same_project_and_to_the_page(
    pipeline_run: tuple[PipelineHarness, dg.ExecuteInProcessResult],
) -> None:
    harness, run = pipeline_run
    stages = [
        "documents",
        "requirements",
        "architecture",
        "story_builds",
        "validations",
        "deployments",
        "project_page",
        "reviews",
    ]
    for stage, following in zip(stages, stages[1:], strict=False):
        metadata = materialization_metadata(run, stage)
        assert metadata["next_stage"] == (
            f"http://ui.test:3000/assets/{following}?view=partitions&partition={PROJECT}"
        ), stage
        assert metadata["project_page"] == f"http://127.0.0.1:3999/{PROJECT}/", stage
    assert "next_stage" not in materialization_metadata(run, "reviews")
    last = materialization_metadata(run, "project_page")
    assert last["page"] == f"http://127.0.0.1:3999/{PROJECT}/"
    [check] = [c for c in run.get_asset_check_evaluations() if c.asset_key == dg.AssetKey("project_page")]
    assert check.passed


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install -y chromium)")
    return found


def _chromium_run(url: str, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    profile = tempfile.mkdtemp(dir=tmp_path)
    argv = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--window-size=1400,2400",
        *flags,
        url,
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_chromium_renders_the_served_page_with_every_story(
    pipeline_run: tuple[PipelineHarness, dg.ExecuteInProcessResult], tmp_path: Path
) -> None:
    harness, _ = pipeline_run
    value = harness.value("project_page", PROJECT, ProjectPage)
    story_ids = [story.id for story in harness.value("requirements", PROJECT, RequirementsSet).stories]
    assert value.stories == story_ids and len(story_ids) >= 8

    server = make_server(harness.artifacts, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{PROJECT}/"
        dom = _chromium_run(url, tmp_path, "--dump-dom")
        screenshot = tmp_path / "page.png"
        shot = _chromium_run(url, tmp_path, f"--screenshot={screenshot}")
    finally:
        server.shutdown()
        server.server_close()
    assert dom.returncode == 0, dom.stderr[-2000:]
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"(?s)<(style|head)\b.*?</\1>", " ", dom.stdout)))
    missing = [story_id for story_id in story_ids if story_id not in text]
    assert not missing, f"not shown: {missing}"
    assert PROJECT in text and "Where it comes from" in text

    assert shot.returncode == 0 and screenshot.exists(), shot.stderr[-2000:]
    pixmap = pymupdf.Pixmap(str(screenshot))
    samples, step = pixmap.samples, pixmap.n
    # Not blank: a good share of the pixels are not the white background (text, borders, badges).
    inked = sum(1 for index in range(0, len(samples), step * 7) if samples[index] < 200)
    assert inked / (len(samples) / (step * 7)) > 0.01


def test_documents_and_story_builds_report_progress_in_the_log_and_the_metadata(
    pipeline_run: tuple[PipelineHarness, dg.ExecuteInProcessResult],
) -> None:
    harness, run = pipeline_run
    files = len([path for path in EXAMPLE_PROJECT.iterdir() if path.is_file()])
    stories = len(harness.value("requirements", PROJECT, RequirementsSet).stories)
    assert materialization_metadata(run, "documents")["files_done"] == f"{files} of {files}"
    assert materialization_metadata(run, "story_builds")["stories_done"] == f"{stories} of {stories}"
    messages = [entry.user_message for entry in harness.instance.all_logs(run.run_id)]
    assert f"{PROJECT}: files done: {files} of {files}" in messages
    assert f"{PROJECT}: stories built: {stories} of {stories}" in messages


def test_progress_logs_every_few_items_or_seconds_and_the_end_once() -> None:
    lines: list[str] = []
    now = [0.0]
    progress = Progress(lines.append, "files done", every_s=5, every_n=3, clock=lambda: now[0])
    for done in range(1, 8):
        progress(done, 8)
    now[0] = 6.0
    progress(8, 8)
    progress(8, 8)
    assert lines == ["files done: 3 of 8", "files done: 6 of 8", "files done: 8 of 8"]
    slow: list[str] = []
    timed = Progress(slow.append, "stories built", every_s=5, every_n=100, clock=lambda: now[0])
    timed(1, 9)
    now[0] = 12.0
    timed(2, 9)
    assert slow == ["stories built: 2 of 9"]
