"""The fault catalogue: each fault injected for real, one row per fault.

    .venv/bin/python -m benchmarks.faults [--only NAME,...]

Per fault it prints what was injected, the outcome, the time to recovery (until the stage finished
with the fault handled, or the dead run was marked failed / its retry succeeded), the peak RSS of
the worker processes involved (parser processes: the largest child's peak; a run worker: its VmHWM
just before the kill), and what was lost or redone. The parser time limit is lowered to 2 s here
(60 s by default) so the catalogue stays short; every other limit is the default.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import resource
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster as dg  # noqa: E402

from assets.documents.intake import ingest_project  # noqa: E402
from assets.documents.limits import ParseLimits  # noqa: E402
from assets.documents.parsing import ParseOutcome, parse_source  # noqa: E402
from assets.story_builds.asset import offline_generator  # noqa: E402
from assets.story_builds.build import StoryGenerator, build_stories  # noqa: E402
from resources.forge import LocalForge  # noqa: E402
from resources.object_store import LocalObjectStore  # noqa: E402
from tests.support.bombs import docx_bomb  # noqa: E402
from tests.support.corpus import docx_bytes, eml_bytes  # noqa: E402
from tests.support.story_builds import CountingForge, counting_generator, loop_project  # noqa: E402

MIB = 1024 * 1024
PROJECT = "acme"


@dataclass
class Row:
    fault: str
    injected: str
    outcome: str
    recovery: str
    peak_rss: str
    lost_or_redone: str


def mb(value: float) -> str:
    return f"{value / MIB:,.0f} MB"


def in_fresh_process(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `work` in a forked process, so the peak RSS of its children is its own to measure."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)

    def main() -> None:
        result = work()
        result["children_rss"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        writer.send(result)

    process = context.Process(target=main)
    process.start()
    result = reader.recv()
    process.join()
    return result


# --- documents: hostile files and parsers -----------------------------------------------------------


def _hog(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    hoard = bytearray(8 * 1024 * MIB)
    return ParseOutcome(documents=[], skipped=[(path, str(len(hoard)))])


def _native_spin(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    import hashlib

    hashlib.pbkdf2_hmac("sha256", data, b"salt", 10**9)
    return parse_source(path, data, max_bytes)


def _oom_killed(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def intake_fault(
    name: str,
    injected: str,
    bad_file: tuple[str, bytes],
    parser: Callable[[str, bytes, int], ParseOutcome] = parse_source,
    limits: ParseLimits | None = None,
    rejected: str | None = None,  # the path rejected, if not the file's own (an attachment of it)
) -> Row:
    def work() -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="faults-") as folder:
            root = Path(folder)
            inbox_root = root / "inbox" / PROJECT
            inbox_root.mkdir(parents=True)
            good = {
                f"notes/good-{i}.docx": docx_bytes([("paragraph", f"Users must do thing {i}.")])
                for i in range(3)
            }
            for path, data in {**good, bad_file[0]: bad_file[1]}.items():
                (inbox_root / path).parent.mkdir(parents=True, exist_ok=True)
                (inbox_root / path).write_bytes(data)
            inbox = LocalObjectStore(root=str(root / "inbox"))
            artifacts = LocalObjectStore(root=str(root / "artifacts"))

            def guarded(path: str, data: bytes, max_bytes: int) -> ParseOutcome:
                return (parser if path == bad_file[0] else parse_source)(path, data, max_bytes)

            started = time.monotonic()
            first = ingest_project(PROJECT, inbox, artifacts, None, 50 * MIB, 2, "now", guarded, limits)
            seconds = time.monotonic() - started
            second = ingest_project(
                PROJECT, inbox, artifacts, first.snapshot, 50 * MIB, 2, "later", guarded, limits
            )
            reasons = {entry.path: entry.reason for entry in first.snapshot.rejected}
            return {
                "reason": reasons.get(rejected or bad_file[0], "not rejected"),
                "seconds": seconds,
                "good": len(first.snapshot.active()),
                "second_parsed": second.parsed,
                "second_remembered": second.remembered,
            }

    result = in_fresh_process(work)
    return Row(
        fault=name,
        injected=injected,
        outcome=f"rejected: {result['reason']}",
        recovery=f"{result['seconds']:.1f} s (stage finished)",
        peak_rss=f"{mb(result['children_rss'])} (largest parser process)",
        lost_or_redone=(
            f"lost 0 ({result['good']}/{3 + bool(rejected)} good documents parsed); re-run: parsed "
            f"{result['second_parsed']}, "
            f"reason recalled {result['second_remembered']}"
        ),
    )


def document_faults() -> list[Row]:
    fast = ParseLimits(timeout_seconds=2, hard_stop_grace_seconds=1)
    bomb = docx_bomb(2150)
    liar = docx_bomb(2150, declared_bytes=1000)
    return [
        intake_fault(
            "zip bomb",
            f".docx of {mb(len(bomb))} whose document.xml inflates to 2.1 GB",
            ("spec/bomb.docx", bomb),
        ),
        intake_fault(
            "lying zip bomb",
            f".docx of {mb(len(liar))} declaring 1 KB, inflating to 2.1 GB",
            ("spec/liar.docx", liar),
        ),
        intake_fault(
            "zip bomb attached to an e-mail",
            f".eml with the {mb(len(bomb))} .docx bomb attached (memory limit 2 GB)",
            (
                "mail/bomb.eml",
                eml_bytes(
                    body="Spec attached. Users must log in.",
                    attachments=[
                        (
                            "spec.docx",
                            bomb,
                            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        )
                    ],
                ),
            ),
            rejected="mail/bomb.eml#spec.docx",
        ),
        intake_fault(
            "parser memory hog",
            "a parser allocating 8 GB for one file (2 GB limit)",
            ("notes/hog.txt", b"Users must log in.\n"),
            parser=_hog,
        ),
        intake_fault(
            "parser stuck in C",
            "a parser spinning in native code (time limit lowered to 2 s)",
            ("notes/spin.txt", b"Users must log in.\n"),
            parser=_native_spin,
            limits=fast,
        ),
        intake_fault(
            "parser OOM-killed",
            "SIGKILL of the parser process mid-file",
            ("notes/killed.txt", b"Users must log in.\n"),
            parser=_oom_killed,
        ),
    ]


def symlink_fault() -> Row:
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        root = Path(folder)
        (root / "inbox" / PROJECT).mkdir(parents=True)
        secret = root / "secret.txt"
        secret.write_text("password hunter2")
        (root / "inbox" / PROJECT / "brief.md").write_text("# Brief\n\nUsers must log in.\n")
        (root / "inbox" / PROJECT / "notes.md").symlink_to(secret)
        os.mkfifo(root / "inbox" / PROJECT / "pipe.txt")
        artifacts = LocalObjectStore(root=str(root / "artifacts"))
        started = time.monotonic()
        result = ingest_project(
            PROJECT, LocalObjectStore(root=str(root / "inbox")), artifacts, None, 50 * MIB, 1, "now"
        )
        seconds = time.monotonic() - started
        leaked = sum(p.read_bytes().count(b"hunter2") for p in (root / "artifacts").rglob("*") if p.is_file())
        reasons = "; ".join(f"{e.path}: {e.reason.split(':')[0]}" for e in result.snapshot.rejected)
    return Row(
        "symlink and FIFO in the inbox",
        "a link to a secret outside the inbox, a FIFO",
        f"rejected ({reasons})",
        f"{seconds:.1f} s",
        "-",
        f"lost 0; secret bytes stored: {leaked}",
    )


# --- the sensor ------------------------------------------------------------------------------------


def settle_faults() -> list[Row]:
    from pipeline_core.settings import Settings
    from sensors.bucket_sensor import build_bucket_sensor
    from tests.test_bucket_sensor import probe_job

    rows = []
    settle = 2.0
    sensor = build_bucket_sensor(probe_job, Settings(pipeline_sensor_settle_seconds=settle))
    for name, injected, writer in (
        ("files arriving one by one", "5 files copied 0.7 s apart (ticks every 0.5 s, settle 2 s)", "files"),
        ("file still being written", "one file appended to for 3 s (ticks every 0.5 s, settle 2 s)", "grow"),
    ):
        with tempfile.TemporaryDirectory(prefix="faults-") as folder, dg.instance_for_test() as instance:
            root = Path(folder)
            store = LocalObjectStore(root=folder)
            cursor: str | None = None
            requests: list[dg.RunRequest] = []
            started = time.monotonic()
            handle = None
            if writer == "grow":
                (root / PROJECT).mkdir()
                handle = (root / PROJECT / "minutes.txt").open("ab")
            step = 0
            last_write = started
            while time.monotonic() - started < 15 and not requests:
                if writer == "files" and step < 10 and step % 2 == 0:
                    store.put_bytes(f"{PROJECT}/doc-{step}.md", b"# Doc\n")
                    last_write = time.monotonic()
                if handle is not None and time.monotonic() - started < 3:
                    handle.write(b"a line of the transcript\n" * 2000)
                    handle.flush()
                    last_write = time.monotonic()
                context = dg.build_sensor_context(
                    instance=instance, cursor=cursor, resources={"inbox": store}
                )
                result = sensor(context)
                for request in result.dynamic_partitions_requests or []:
                    instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
                cursor = result.cursor
                requests.extend(result.run_requests or [])
                step += 1
                time.sleep(0.35)
            if handle is not None:
                handle.close()
            for _ in range(3):  # later ticks request nothing more
                result = sensor(
                    dg.build_sensor_context(instance=instance, cursor=cursor, resources={"inbox": store})
                )
                cursor = result.cursor
                requests.extend(result.run_requests or [])
            files = requests[0].tags.get("pipeline/inbox_files") if requests else "-"
        rows.append(
            Row(
                name,
                injected,
                f"{len(requests)} run(s) requested, for {files} file(s)",
                f"run requested {time.monotonic() - last_write:.1f} s after the last write"
                if requests
                else "-",
                "-",
                "no half-written version" if len(requests) == 1 else "EXTRA RUNS",
            )
        )
    return rows


# --- runs and story builds ---------------------------------------------------------------------------


def dead_run_fault() -> Row:
    import shutil

    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.workspace.load_target import PythonFileTarget
    from dagster._daemon.auto_run_reexecution.auto_run_reexecution import (
        consume_new_runs_for_automatic_reexecution,
    )

    from sensors import run_monitor
    from tests.test_faults_runs import LOCATION, PROFILES, ROOT, launch, wait

    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        home = Path(folder) / "home"
        home.mkdir()
        shutil.copy(PROFILES / "embedded.yaml", home / "dagster.yaml")
        markers = Path(folder) / "markers.txt"
        markers.touch()
        os.environ["FAULTS_MARKER_FILE"] = str(markers)
        target = PythonFileTarget(str(LOCATION), None, str(ROOT), "dead_runs")
        with (
            dg.DagsterInstance.from_config(str(home)) as instance,
            create_test_daemon_workspace_context(target, instance) as context,
        ):
            run = launch(context, instance)
            wait(lambda: f"second {run.run_id}" in markers.read_text(), "the second step")
            pid, _ = wait(lambda: run_monitor.run_worker(instance, run.run_id), "the worker pid")
            status = Path(f"/proc/{pid}/status").read_text()
            hwm = next(
                int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM")
            )
            os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            wait(
                lambda: run_monitor.process_facts(pid).zombie or not run_monitor.process_facts(pid).exists,
                "death",
            )
            run_monitor.evaluate(dg.build_sensor_context(instance=instance))
            failed_after = time.monotonic() - killed
            steps = {stats.step_key: stats.status for stats in instance.get_run_step_stats(run.run_id)}
            [record] = instance.get_run_records(dg.RunsFilter(run_ids=[run.run_id]))
            list(consume_new_runs_for_automatic_reexecution(context, [record], logging.getLogger("faults")))
            [retry] = [r for r in instance.get_runs() if r.parent_run_id == run.run_id]
            instance.launch_run(retry.run_id, context.create_request_context())
            wait(lambda: instance.get_run_by_id(retry.run_id).is_finished, "the retry", timeout=120)  # type: ignore[union-attr]
            retried_after = time.monotonic() - killed
            final = instance.get_run_by_id(retry.run_id)
        lines = markers.read_text().splitlines()
    redone = sum(1 for line in lines if line.startswith("first"))
    step_status = steps["second"].value if steps.get("second") else "?"
    return Row(
        "run worker killed",
        "kill -9 of the run worker in its second step (default run launcher)",
        f"marked FAILURE (RUN_WORKER_RESTART), step 'second' {step_status} (not in progress); "
        f"retry {final.status.value if final else '?'}",
        f"failed {failed_after:.1f} s after the kill (+ up to the 30 s sensor interval); "
        f"retry done {retried_after:.1f} s after",
        f"{mb(hwm)} (run worker VmHWM)",
        f"finished steps redone: {redone - 1}; steps re-executed: {retry.step_keys_to_execute}",
    )


class _Killed(BaseException):
    pass


def story_builds_kill_fault(stories: int = 20) -> Row:
    requirements, architecture = loop_project(stories=stories)
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        forge = CountingForge(root=str(Path(folder) / "forge"))
        offline = offline_generator(architecture, requirements)
        done: list[str] = []

        def dies(story_id: str, tree, feedback):  # type: ignore[no-untyped-def]
            if len(done) >= stories // 2:
                raise _Killed()
            done.append(story_id)
            return offline.generate(story_id, tree, feedback)

        dying = StoryGenerator(
            id=offline.id, generate=dies, finalize=offline.finalize, story_key=offline.story_key
        )
        try:
            build_stories("bench-loop", requirements, architecture, forge, dying, None, max_workers=1)
        except _Killed:
            pass
        calls: list[str] = []
        started = time.monotonic()
        retried = build_stories(
            "bench-loop", requirements, architecture, forge, counting_generator(offline, calls), None
        )
        seconds = time.monotonic() - started
        pulls = len(forge.list_pull_requests("bench-loop"))
    kept = sum(1 for b in retried.stories if "cut off" in (b.reason or ""))
    return Row(
        "kill during story_builds",
        f"run cut off after {len(done)} of {stories} stories (no value stored)",
        f"retry: {kept} kept, {len(calls)} built, {pulls} pull requests",
        f"retry {seconds:.1f} s",
        "-",
        f"redone: {len(set(calls) & set(done))} stories; duplicate pull requests: {pulls - stories}",
    )


def stale_pull_request_fault() -> Row:
    requirements, architecture = loop_project(stories=3)
    with tempfile.TemporaryDirectory(prefix="faults-") as folder:
        forge = LocalForge(root=str(Path(folder) / "forge"))
        first = build_stories(
            "bench-loop",
            requirements,
            architecture,
            forge,
            offline_generator(architecture, requirements),
            None,
        )
        stories = [
            s.model_copy(update={"depends_on": ["S-0"], "title": "Value 1, after value 0"})
            if s.id == "S-1"
            else s
            for s in requirements.stories
        ]
        changed = requirements.model_copy(update={"stories": stories})
        for story in changed.stories:
            story.content_hash = story.compute_hash()
        started = time.monotonic()
        second = build_stories(
            "bench-loop", changed, architecture, forge, offline_generator(architecture, changed), first
        )
        seconds = time.monotonic() - started
        build = {b.story_id: b for b in second.stories}["S-1"]
        pull = forge.get_pull_request("bench-loop", build.pull_request or 0)
        pulls = len(forge.list_pull_requests("bench-loop"))
    return Row(
        "stale pull request",
        "a story rebuilt on its new dependency's branch with a new title",
        f"PR #{pull.number}: base {pull.base}, title {pull.title!r}",
        f"{seconds:.1f} s (the rebuild)",
        "-",
        f"duplicate pull requests: {pulls - 3}",
    )


# --- the model -------------------------------------------------------------------------------------


def model_faults() -> list[Row]:
    from tests.support.anthropic_server import AnthropicServer
    from tests.test_llm import make_resource, make_task

    rows = []
    server = AnthropicServer().start()
    try:
        for name, inject in (
            ("model 429", lambda: server.enqueue_error(429, "rate_limit_error", retry_after="0.5")),
            ("model 529", lambda: server.enqueue_error(529, "overloaded_error", retry_after="0.5")),
            ("model time-out", lambda: server.enqueue_timeout(3.0)),
        ):
            with tempfile.TemporaryDirectory(prefix="faults-") as folder:
                before = len(server.requests)
                inject()
                server.enqueue_json_answer({"title": "after the fault", "count": 1})
                session = make_resource(server, Path(folder), timeout_seconds=1.0).session()
                started = time.monotonic()
                answer = session.run(make_task())
                seconds = time.monotonic() - started
                rows.append(
                    Row(
                        name,
                        f"one {name.split()[1]} answer from the Messages API server, then a good one",
                        f"answered ({answer.title!r}) after {len(server.requests) - before} requests",
                        f"{seconds:.1f} s",
                        "-",
                        f"lost 0; model calls counted: {session.usage.model_calls}",
                    )
                )
    finally:
        server.stop()
    return rows


def forge_fault() -> Row:
    """GitHub answering 502 then 503 to a ref read: the GitHub forge retries with back-off."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.test_forge_github import REF_OK, make_forge

    answers = [
        (502, {}, {"message": "Bad gateway"}),
        (503, {"Retry-After": "0"}, {"message": "unavailable"}),
        REF_OK,
    ]
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            seen.append(self.path)
            status, headers, body = answers[min(len(seen), len(answers)) - 1]
            payload = json.dumps(body).encode()
            self.send_response(status)
            for key, value in (headers | {"Content-Type": "application/json"}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        forge = make_forge(f"http://127.0.0.1:{server.server_address[1]}", max_retries=3)
        started = time.monotonic()
        head = forge.branch_head("shop", "main")
        seconds = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()
    return Row(
        "forge 5xx",
        "GitHub answers 502, then 503, then the ref",
        f"branch head read ({(head or '')[:7]}) after {len(seen)} requests",
        f"{seconds:.1f} s",
        "-",
        "lost 0",
    )


CATALOGUE: dict[str, Callable[[], list[Row]]] = {
    "documents": document_faults,
    "symlinks": lambda: [symlink_fault()],
    "sensor": settle_faults,
    "dead_run": lambda: [dead_run_fault()],
    "story_builds": lambda: [story_builds_kill_fault()],
    "pull_requests": lambda: [stale_pull_request_fault()],
    "model": model_faults,
    "forge": lambda: [forge_fault()],
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(CATALOGUE)}")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args()
    chosen = [name for name in args.only.split(",") if name] or list(CATALOGUE)
    rows: list[Row] = []
    for name in chosen:
        rows.extend(CATALOGUE[name]())
    header = ["fault", "injected", "outcome", "time to recovery", "peak RSS per worker", "lost or redone"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [row.fault, row.injected, row.outcome, row.recovery, row.peak_rss, row.lost_or_redone]
        print("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    if args.json:
        print(json.dumps([row.__dict__ for row in rows], indent=2))


if __name__ == "__main__":
    main()
