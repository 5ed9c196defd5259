"""Story builds of a 30-story project: full build, no-op re-run, and re-run after one story changed;
then the closed loop of Claude-written stories against the scripted Messages API server.

Part 1 (offline templates) prints wall time, generator (model) calls and forge writes of each run,
and the ratios re-run / full build. Part 2 builds `--loop-stories` stories through the real
anthropic SDK and the sandbox: a fixed share of first answers fails its test (`--fail-first`), and of
those a fixed share keeps failing in the fix round too (`--never-pass`); it prints per story the
model calls, fix rounds and wall time, and the share of stories that end with passing tests.

    .venv/bin/python -m benchmarks.story_builds [--stories 30] [--loop-stories 12]

`--stories N` past 30 numbers the offices stories are for, so every story stays distinct (3,000 is
the scale goal: ≤ 5 min); `--loop-stories 0` skips part 2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assets.architecture.models import Architecture  # noqa: E402
from assets.requirements.models import RequirementsSet  # noqa: E402
from assets.story_builds.asset import model_generator, offline_generator  # noqa: E402
from assets.story_builds.build import StoryGenerator, build_stories  # noqa: E402
from assets.story_builds.models import StoryBuildsSet  # noqa: E402
from assets.story_builds.story_tests import sandbox_tester  # noqa: E402
from pipeline_core.settings import Settings  # noqa: E402
from resources.llm import LlmResource  # noqa: E402
from tests.support.anthropic_server import AnthropicServer  # noqa: E402
from tests.support.pipeline import PipelineHarness  # noqa: E402
from tests.support.story_builds import (  # noqa: E402
    CountingForge,
    ScriptedStoryModel,
    counting_generator,
    loop_project,
)

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
    base = len(ACTIONS) * len(ENTITIES)
    for index in range(stories):
        entity = list(ENTITIES)[index // len(ACTIONS) % len(ENTITIES)]
        action = ACTIONS[index % len(ACTIONS)].format(e=entity, fields=ENTITIES[entity])
        # Past the 30 distinct sentences, three numbers of its own keep each want-clause distinct (fewer
        # would leave two of them similar enough for the requirements stage to merge them).
        where = f" for office {index} desk {index + 5000} seat {index + 9000}" if index >= base else ""
        lines += [f"As a member, I want to {action}{where}, so that our {entity} work is tracked.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=30)
    parser.add_argument("--loop-stories", type=int, default=12)
    parser.add_argument("--fail-first", type=float, default=0.5, help="share of first answers that fail")
    parser.add_argument("--never-pass", type=float, default=0.34, help="share of those whose fix fails too")
    parser.add_argument("--rounds", type=int, default=2, help="most change sets tested per story")
    parser.add_argument("--skip-offline", action="store_true")
    args = parser.parse_args()
    if not args.skip_offline:
        offline_builds(args)
    if args.loop_stories > 0:
        closed_loop(args.loop_stories, args.fail_first, args.never_pass, args.rounds)


def offline_builds(args: argparse.Namespace) -> None:
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
            with counting_processes() as processes:
                started, before = time.perf_counter(), os.times()
                value = build_stories(PROJECT, reqs, architecture, forge, generator, previous)
                seconds, after = time.perf_counter() - started, os.times()
            cpu = sum(after[:4]) - sum(before[:4])  # this process and its git children, user + system
            return name, seconds, len(calls), len(forge.writes), processes[0], value, cpu

        load_before = os.getloadavg()[0]
        rows = [timed("full build (baseline)", requirements, None)]
        rows.append(timed("no-op re-run", requirements, rows[0][5]))
        changed = requirements.model_copy(deep=True)
        leaf = changed.stories[-1]
        leaf.so_that += " without surprises"
        leaf.content_hash = leaf.compute_hash()
        rows.append(timed("re-run, one story changed", changed, rows[1][5]))
    full = rows[0][1]
    total = len(requirements.stories)
    built = sum(build.status == "built" for build in rows[0][5].stories)
    print(f"{total} stories, {len(rows[0][5].build_order)} dependency layers, {built} built")
    print(f"load average (1 min): {load_before:.2f} before the full build, {os.getloadavg()[0]:.2f} after")
    print(
        f"{'run':<28}{'seconds':>9}{'stories/s':>11}{'model calls':>13}{'forge writes':>14}"
        f"{'processes':>11}{'ratio to full':>15}{'CPU s':>9}{'CPU ms/story':>14}"
    )
    for name, seconds, model_calls, writes, processes, _, cpu in rows:
        print(
            f"{name:<28}{seconds:>9.2f}{total / seconds:>11.1f}{model_calls:>13}{writes:>14}"
            f"{processes:>11}{seconds / full:>15.3f}{cpu:>9.1f}{1000 * cpu / total:>14.1f}"
        )


@contextmanager
def counting_processes() -> Iterator[list[int]]:
    """Counts the processes spawned (git, for the offline generator) while the block runs."""
    counter = [0]
    original = subprocess.Popen.__init__

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counter[0] += 1
        original(self, *args, **kwargs)

    subprocess.Popen.__init__ = counted  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        subprocess.Popen.__init__ = original  # type: ignore[method-assign]


def closed_loop(stories: int, fail_first: float, never_pass: float, rounds: int) -> None:
    """Claude-written stories through the scripted server: calls, fix rounds and time per story."""
    failing = set(range(0, stories, max(1, round(1 / fail_first)))) if fail_first > 0 else set()
    stubborn = {
        index for n, index in enumerate(sorted(failing)) if never_pass and n % round(1 / never_pass) == 0
    }
    requirements, architecture = loop_project(stories)
    model = ScriptedStoryModel(
        requirements, failing={f"S-{i}" for i in failing}, stubborn={f"S-{i}" for i in stubborn}
    )
    server = AnthropicServer().start()
    server.responder = model.respond
    try:
        with tempfile.TemporaryDirectory() as tmp:
            llm = LlmResource(
                provider="anthropic",
                api_key="sk-bench",
                base_url=server.base_url,
                cache_url=(Path(tmp) / "cache").as_uri(),
                max_retries=0,
            )
            generator = model_generator(
                llm,
                architecture,
                requirements,
                tester=sandbox_tester(workdir_parent=Path(tmp)),
                max_rounds=rounds,
            )
            seconds: dict[str, float] = {}

            def timed(story_id: str, tree, feedback):  # type: ignore[no-untyped-def]
                started = time.perf_counter()
                try:
                    return generator.generate(story_id, tree, feedback)
                finally:
                    seconds[story_id] = time.perf_counter() - started

            forge = CountingForge(root=str(Path(tmp) / "forge"))
            started = time.perf_counter()
            value = build_stories(
                "bench-loop",
                requirements,
                architecture,
                forge,
                StoryGenerator(id=generator.id, generate=timed),
                None,
            )
            total = time.perf_counter() - started
    finally:
        server.stop()
    print()
    print(
        f"closed loop: {stories} stories, first answers failing: {len(failing)}, "
        f"of which the fix fails too: {len(stubborn)}, at most {rounds} rounds"
    )
    print(f"{'story':<8}{'status':<10}{'model calls':>12}{'fix rounds':>12}{'seconds':>9}")
    for build in value.stories:
        print(
            f"{build.story_id:<8}{build.status:<10}{build.model_calls:>12}{max(build.rounds - 1, 0):>12}"
            f"{seconds.get(build.story_id, 0.0):>9.2f}"
        )
    passing = sum(build.status == "built" for build in value.stories)
    calls = sum(build.model_calls for build in value.stories)
    fixes = sum(max(build.rounds - 1, 0) for build in value.stories)
    print(
        f"total: {calls} model calls ({len(server.requests)} requests served), {fixes} fix rounds, "
        f"{total:.2f} s; stories ending with passing tests: {passing}/{stories} ({passing / stories:.0%})"
    )


if __name__ == "__main__":
    main()
