"""Benchmark the bucket sensor against a real S3 server (SeaweedFS started here on 127.0.0.1).

    .venv/bin/python -m benchmarks.sensor --sizes 10000,100000

For each size the bucket is filled (concurrently) with small objects, `--files-per-project` per
project, then measured: the baseline (a bare `list_objects_v2` pagination of the whole bucket), every
tick of the first sweep of a new sensor, a sweep with nothing new, the time from dropping a file
into a new project and from changing an object until the run is requested (back-to-back ticks, and
as wall time at the sensor's interval), all with the default limits from Settings.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: put the repo root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster as dg  # noqa: E402

from pipeline_defs.jobs import project_pipeline_job  # noqa: E402
from pipeline_defs.settings import Settings  # noqa: E402
from resources.object_store import S3ObjectStore  # noqa: E402
from sensors.bucket_sensor import build_bucket_sensor  # noqa: E402
from sensors.inbox_scan import InboxCursor, ScanLimits  # noqa: E402
from tests.support.seaweedfs import SeaweedFS, start_seaweedfs  # noqa: E402

PREFIX = "inbox"


@dataclass
class Tick:
    seconds: float
    listed: int
    runs: list[str]
    partitions: int
    sweep_done: bool


@dataclass
class SensorRunner:
    """Ticks the real sensor back to back, the way the daemon would, and times each tick."""

    sensor: dg.SensorDefinition
    instance: dg.DagsterInstance
    bucket: str
    cursor: str | None = None
    history: list[Tick] = field(default_factory=list)

    def tick(self) -> Tick:
        store = S3ObjectStore(bucket=self.bucket, prefix=PREFIX)  # a fresh resource each tick, as in Dagster
        started = time.perf_counter()
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"inbox": store}
        )
        context.log.setLevel(logging.WARNING)  # the per-project lines would drown the figures
        result = self.sensor(context)
        seconds = time.perf_counter() - started
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        before = InboxCursor.load(self.cursor)
        after = InboxCursor.load(result.cursor)
        self.cursor = result.cursor
        tick = Tick(
            seconds=seconds,
            listed=_listed(before, after),
            runs=[request.partition_key or "" for request in result.run_requests or []],
            partitions=sum(len(r.partition_keys) for r in result.dynamic_partitions_requests or []),
            sweep_done=after.sweep > before.sweep,
        )
        self.history.append(tick)
        return tick

    def sweep(self) -> list[Tick]:
        """Tick until the sweep in progress (or the next one, if at the start) has finished."""
        ticks = []
        while True:
            ticks.append(self.tick())
            if ticks[-1].sweep_done:
                return ticks

    def until_run(self, project: str, max_ticks: int = 100) -> list[Tick]:
        ticks = []
        for _ in range(max_ticks):
            ticks.append(self.tick())
            if project in ticks[-1].runs:
                return ticks
        raise RuntimeError(f"no run requested for {project} after {max_ticks} ticks")


def _listed(before: InboxCursor, after: InboxCursor) -> int:
    """Keys read by a tick, from the cursor positions (pos counts keys into the current sweep)."""
    if after.sweep == before.sweep:
        return after.pos - before.pos
    return (after.last_total - before.pos) + after.pos


def key_of(project: int, index: int) -> str:
    return f"project-{project:05d}/docs/file-{index:04d}.md"


def fill(server: SeaweedFS, bucket: str, keys: list[str], workers: int) -> float:
    """Upload `keys` concurrently; return the seconds it took."""
    client = server.client(max_pool_connections=workers, retries={"max_attempts": 8, "mode": "adaptive"})
    started = time.perf_counter()

    def put(key: str) -> None:
        client.put_object(Bucket=bucket, Key=f"{PREFIX}/{key}", Body=f"requirements for {key}\n".encode())

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(put, keys, chunksize=64):
            pass
    return time.perf_counter() - started


def baseline(server: SeaweedFS, bucket: str) -> tuple[float, int]:
    """A bare list_objects_v2 pagination of the whole bucket: seconds and keys."""
    client = server.client()
    started = time.perf_counter()
    count = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{PREFIX}/"):
        count += len(page.get("Contents", []))
    return time.perf_counter() - started, count


@contextmanager
def client_env(server: SeaweedFS) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in server.client_env()}
    os.environ.update(server.client_env())
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Row:
    what: str
    ticks: int
    keys: int
    seconds: float
    note: str = ""


def measure_size(
    server: SeaweedFS,
    bucket: str,
    size: int,
    files_per_project: int,
    settings: Settings,
    repeat: int,
    log: Callable[[str], None],
) -> tuple[list[Row], float, list[str]]:
    limits = ScanLimits.from_settings(settings)
    base_runs = [baseline(server, bucket) for _ in range(repeat)]
    base = median([seconds for seconds, _ in base_runs])
    assert all(count == size for _, count in base_runs), base_runs
    log(f"  baseline list_objects_v2 of {size:,} keys: {base:.2f} s (median of {repeat})")
    rows = [Row("baseline: bare list_objects_v2, whole bucket", 1, size, base)]

    sensor = build_bucket_sensor(project_pipeline_job, settings)
    with dg.instance_for_test() as instance:
        runner = SensorRunner(sensor, instance, bucket)
        first = runner.sweep()
        projects = size // files_per_project
        requested = sum(len(tick.runs) for tick in first)
        assert requested == projects, (requested, projects)
        for index, tick in enumerate(first, 1):
            rows.append(
                Row(
                    f"new sensor, first sweep, tick {index}",
                    1,
                    tick.listed,
                    tick.seconds,
                    f"{len(tick.runs)} runs",
                )
            )
        rows.append(
            Row(
                "new sensor, whole first sweep",
                len(first),
                sum(t.listed for t in first),
                sum(t.seconds for t in first),
            )
        )

        quiet = runner.sweep()
        assert not any(tick.runs for tick in quiet)
        rows.append(
            Row(
                "nothing new: one tick (median)",
                1,
                int(median([t.listed for t in quiet])),
                median([t.seconds for t in quiet]),
            )
        )
        rows.append(
            Row(
                "nothing new: whole sweep",
                len(quiet),
                sum(t.listed for t in quiet),
                sum(t.seconds for t in quiet),
            )
        )

        client = server.client()
        added: list[str] = []
        # A new project at the start, the middle and the end of the key space, each dropped wherever the
        # sweep happens to be; the sweep never revisits a key twice per tick, so the worst case is one turn.
        interval = settings.pipeline_sensor_interval_seconds
        for label, project in [("start", "aaaa-new"), ("middle", "project-00000-new"), ("end", "zzzz-new")]:
            if label == "middle":
                project = f"project-{projects // 2:05d}-new"
            added.append(f"{PREFIX}/{project}/brief.md")
            client.put_object(Bucket=bucket, Key=added[-1], Body=b"a new brief\n")
            ticks = runner.until_run(project)
            rows.append(
                Row(
                    f"new file in a new project ({label} of keys)",
                    len(ticks),
                    sum(t.listed for t in ticks),
                    sum(t.seconds for t in ticks),
                    f"at {interval} s interval: {wall_time(ticks, interval)}",
                )
            )
        for label, project in [("start", 0), ("end", projects - 1)]:
            client.put_object(
                Bucket=bucket, Key=f"{PREFIX}/{key_of(project, 1)}", Body=f"changed {time.time()}\n".encode()
            )
            name = f"project-{project:05d}"
            ticks = runner.until_run(name)
            rows.append(
                Row(
                    f"changed object ({label} of keys)",
                    len(ticks),
                    sum(t.listed for t in ticks),
                    sum(t.seconds for t in ticks),
                    f"at {interval} s interval: {wall_time(ticks, interval)}",
                )
            )
        cursor_bytes = len(runner.cursor or "")
        log(
            f"  cursor: {cursor_bytes:,} bytes for {len(InboxCursor.load(runner.cursor).projects):,} projects"
        )
        longest = max(t.seconds for t in runner.history)
        log(f"  longest tick: {longest:.2f} s (limits: {limits.max_keys:,} keys, {limits.max_seconds:.0f} s)")
    return rows, base, added


def wall_time(ticks: list[Tick], interval: int) -> str:
    """Drop-to-request time when ticks start every `interval` s: 0..interval wait for the first tick."""
    last = ticks[-1].seconds
    low = (len(ticks) - 1) * interval + last
    return f"{low:.0f}-{low + interval:.0f} s"


def print_table(size: int, rows: list[Row], base: float) -> None:
    print(f"\n{size:,} objects")
    header = f"{'measurement':<48} {'ticks':>5} {'keys':>9} {'seconds':>8} {'x baseline':>10}  note"
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = row.seconds / base if base else float("nan")
        print(f"{row.what:<48} {row.ticks:>5} {row.keys:>9,} {row.seconds:>8.2f} {ratio:>10.2f}  {row.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated object counts")
    parser.add_argument("--files-per-project", type=int, default=100)
    parser.add_argument("--workers", type=int, default=32, help="concurrent uploads while filling")
    parser.add_argument("--repeat", type=int, default=3, help="baseline listings per size (median)")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    settings = Settings()
    limits = ScanLimits.from_settings(settings)
    print(
        f"limits: {limits.max_keys:,} keys and {limits.max_seconds:.0f} s per tick, "
        f"interval {settings.pipeline_sensor_interval_seconds} s; {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="sensor-bench-") as folder:
        started = time.perf_counter()
        server = start_seaweedfs(Path(folder))
        print(f"SeaweedFS up in {time.perf_counter() - started:.1f} s at {server.endpoint_url}")
        try:
            with client_env(server):
                bucket = server.create_bucket("sensor-bench")
                present = 0
                for size in sizes:
                    keys = [
                        key_of(index // args.files_per_project, index % args.files_per_project)
                        for index in range(present, size)
                    ]
                    seconds = fill(server, bucket, keys, args.workers)
                    print(
                        f"set-up: uploaded {len(keys):,} objects in {seconds:.1f} s "
                        f"({len(keys) / seconds:,.0f}/s, {args.workers} threads); bucket holds {size:,}"
                    )
                    present = size
                    rows, base, added = measure_size(
                        server, bucket, size, args.files_per_project, settings, args.repeat, print
                    )
                    print_table(size, rows, base)
                    server.client().delete_objects(
                        Bucket=bucket, Delete={"Objects": [{"Key": key} for key in added]}
                    )
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
