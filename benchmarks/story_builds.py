"""Story builds of a 30-story project: full build, no-op re-run, and re-run after one story changed.

Prints wall time, generator (model) calls and forge writes of each, and the ratios re-run / full build.

    .venv/bin/python -m benchmarks.story_builds [--stories 30]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.architecture.models import Architecture  # noqa: E402
from assets.requirements.models import RequirementsSet  # noqa: E402
from assets.story_builds.asset import offline_generator  # noqa: E402
from assets.story_builds.build import build_stories  # noqa: E402
from assets.story_builds.models import StoryBuildsSet  # noqa: E402
from pipeline_core.settings import Settings  # noqa: E402
from tests.support.pipeline import PipelineHarness  # noqa: E402
from tests.support.story_builds import CountingForge, counting_generator  # noqa: E402

PROJECT = "bench-stories"
ENTITIES = {
    "task": "a title and a due date",
    "project": "a name and a budget",
    "comment": "a body and an author",
    "label": "a colour and a caption",
    "milestone": "a deadline and a goal",
    "team": "a motto and a size",
    "invoice": "an amount and a currency",
    "customer": "an email and a phone",
    "sprint": "a start date and a length",
    "report": "a summary and a period",
}
ACTIONS = ["create a {e} with {fields}", "see the list of {e}s", "edit a {e}"]


def requirements_document(stories: int) -> str:
    lines = [
        "# Generated project",
        "",
        "We must build a web app with a Python backend and a SQLite database.",
        "",
    ]
    for index in range(stories):
        entity = list(ENTITIES)[index // len(ACTIONS) % len(ENTITIES)]
        action = ACTIONS[index % len(ACTIONS)].format(e=entity, fields=ENTITIES[entity])
        lines += [f"As a member, I want to {action}, so that our {entity} work is tracked.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, dg.instance_for_test() as instance:
        settings = Settings(pipeline_data_dir=Path(tmp) / "var", pipeline_llm_provider="offline")
        harness = PipelineHarness.create(settings, instance)
        harness.inbox.put_text(f"{PROJECT}/requirements.md", requirements_document(args.stories))
        harness.tick()
        job = harness.defs.resolve_job_def("project_pipeline")
        selection = [dg.AssetKey(name) for name in ("documents", "requirements", "architecture")]
        assert job.execute_in_process(
            partition_key=PROJECT, instance=instance, asset_selection=selection
        ).success
        requirements = harness.value("requirements", PROJECT, RequirementsSet)
        architecture = harness.value("architecture", PROJECT, Architecture)
        forge = CountingForge(root=str(Path(tmp) / "forge"))

        def timed(name: str, reqs: RequirementsSet, previous: StoryBuildsSet | None) -> tuple:
            calls: list[str] = []
            forge.writes.clear()
            generator = counting_generator(offline_generator(architecture, reqs), calls)
            started = time.perf_counter()
            value = build_stories(PROJECT, reqs, architecture, forge, generator, previous)
            return name, time.perf_counter() - started, len(calls), len(forge.writes), value

        rows = [timed("full build (baseline)", requirements, None)]
        rows.append(timed("no-op re-run", requirements, rows[0][4]))
        changed = requirements.model_copy(deep=True)
        leaf = changed.stories[-1]
        leaf.so_that += " without surprises"
        leaf.content_hash = leaf.compute_hash()
        rows.append(timed("re-run, one story changed", changed, rows[1][4]))
    full = rows[0][1]
    print(f"{len(requirements.stories)} stories, {len(rows[0][4].build_order)} dependency layers")
    print(f"{'run':<28}{'seconds':>9}{'model calls':>13}{'forge writes':>14}{'ratio to full':>15}")
    for name, seconds, model_calls, writes, _ in rows:
        print(f"{name:<28}{seconds:>9.2f}{model_calls:>13}{writes:>14}{seconds / full:>15.3f}")


if __name__ == "__main__":
    main()
