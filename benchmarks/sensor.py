"""Benchmark the bucket sensor against a real S3 server (SeaweedFS started here on 127.0.0.1).

    .venv/bin/python -m benchmarks.sensor --sizes 10000,100000

For each size the bucket is filled (concurrently) with small objects, `--files-per-project` per
project, then measured: the baseline (a bare `list_objects_v2` pagination of the whole bucket), every
tick of a new sensor until each project has its run, a sweep with nothing new, a sweep after the
cursor is lost (with the run history present), and the time from dropping a file into a new project
and from changing an object until the run is requested (back-to-back ticks, and as wall time at the
sensor's interval), all with the default limits from Settings (PIPELINE_SENSOR_* variables).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: put the repo root on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster as dg  # noqa: E402

from pipeline_core.settings import Settings  # noqa: E402
from pipeline_defs.jobs import project_pipeline_job  # noqa: E402
from resources.object_store import S3ObjectStore  # noqa: E402
from sensors.bucket_sensor import build_bucket_sensor  # noqa: E402
from sensors.inbox_scan import InboxCursor, ScanLimits  # noqa: E402
from tests.support.seaweedfs import SeaweedFS, start_seaweedfs  # noqa: E402

PREFIX = "inbox"


@dataclass
class Tick:
    seconds: float
    cpu: float  # CPU seconds of this process (the sensor and its read-ahead thread): not the server's
    listed: int
    requests: list[dg.RunRequest]
    partitions: int

    @property
    def runs(self) -> list[str]:
        return [request.partition_key or "" for request in self.requests]


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
        started, cpu = time.perf_counter(), time.process_time()
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"inbox": store}
        )
        context.log.setLevel(logging.WARNING)  # the per-project lines would drown the figures
        result = self.sensor(context)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or []:
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        before = InboxCursor.load(self.cursor)
        after = InboxCursor.load(result.cursor)
        self.cursor = result.cursor
        tick = Tick(
            seconds=seconds,
            cpu=cpu,
            listed=_listed(before, after),
            requests=list(result.run_requests or []),
            partitions=sum(len(r.partition_keys) for r in result.dynamic_partitions_requests or []),
        )
        self.history.append(tick)
        return tick

    def cover(self, keys: int) -> list[Tick]:
        """Tick until the ticks have read `keys` keys (a whole sweep when `keys` is the bucket's size)."""
        ticks = [self.tick()]
        while sum(tick.listed for tick in ticks) < keys:
            ticks.append(self.tick())
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


def baseline(server: SeaweedFS, bucket: str, parse_timestamps: bool = True) -> tuple[float, int]:
    """A bare list_objects_v2 pagination of the whole bucket: seconds and keys.

    With `parse_timestamps=False` the client leaves LastModified unparsed, as S3ObjectStore does.
    """
    import boto3
    import botocore.session

    session = botocore.session.get_session()
    if not parse_timestamps:
        session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=str)
    client = boto3.session.Session(botocore_session=session).client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region_name="us-east-1",
    )
    started = time.perf_counter()
    count = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{PREFIX}/"):
        count += len(page.get("Contents", []))
    return time.perf_counter() - started, count


def record_launches(instance: dg.DagsterInstance, requests: list[dg.RunRequest]) -> None:
    """Store a run per request, tagged as the daemon tags a sensor's runs (no job is executed)."""
    for request in requests:
        tags = {
            **request.tags,
            "dagster/sensor_name": "bucket_sensor",
            "dagster/partition": request.partition_key or "",
            "dagster/run_key": request.run_key or "",
        }
        instance.add_run(
            dg.DagsterRun(job_name=project_pipeline_job.name, run_id=str(uuid.uuid4()), tags=tags)
        )


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
    cpu: float | None = None


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
    interval = settings.pipeline_sensor_interval_seconds
    projects = size // files_per_project
    parsed = [baseline(server, bucket) for _ in range(repeat)]
    unparsed = [baseline(server, bucket, parse_timestamps=False) for _ in range(repeat)]
    assert all(count == size for _, count in parsed + unparsed)
    base = median([seconds for seconds, _ in parsed])
    base_unparsed = median([seconds for seconds, _ in unparsed])
    log(f"  baseline list_objects_v2 of {size:,} keys: {base:.2f} s (median of {repeat})")
    rows = [
        Row("baseline: bare list_objects_v2, whole bucket", 1, size, base),
        Row("  same, LastModified left unparsed", 1, size, base_unparsed, "as S3ObjectStore lists"),
    ]

    def add(what: str, ticks: list[Tick], note: str = "") -> None:
        keys, seconds = sum(t.listed for t in ticks), sum(t.seconds for t in ticks)
        rows.append(Row(what, len(ticks), keys, seconds, note, cpu=sum(t.cpu for t in ticks)))

    sensor = build_bucket_sensor(project_pipeline_job, settings)
    with dg.instance_for_test() as instance:
        runner = SensorRunner(sensor, instance, bucket)
        # A new sensor on a new deployment: every project is new; ticks until each has its run.
        first: list[Tick] = []
        while sum(len(tick.runs) for tick in first) < projects:
            first.append(runner.tick())
        assert sum(len(tick.runs) for tick in first) == projects
        for index, tick in enumerate(first, 1):
            add(f"new sensor: tick {index}", [tick], f"{len(tick.runs)} runs, {tick.partitions} partitions")
        add("new sensor: until every project has its run", first)
        record_launches(instance, [request for tick in first for request in tick.requests])

        quiet = runner.cover(size)
        assert not any(tick.runs for tick in quiet)
        add("nothing new: one tick (median)", [sorted(quiet, key=lambda tick: tick.seconds)[len(quiet) // 2]])
        add("nothing new: a whole sweep", quiet)

        # The cursor is lost (reset, or a renamed sensor) in an instance that ran every project.
        reset = SensorRunner(sensor, instance, bucket)
        again = reset.cover(size)
        assert not any(tick.runs for tick in again), "unchanged projects must not run again"
        add("cursor reset, run history present: first tick", again[:1], "no runs requested")
        add("cursor reset: a whole sweep", again)

        client = server.client()
        added: list[str] = []
        # A new project at the start, the middle and the end of the key space, dropped wherever the
        # sweep happens to be (a tick never reads a key twice, so the worst case is one turn).
        for label, project in [
            ("start", "aaaa-new"),
            ("middle", f"project-{projects // 2:05d}-new"),
            ("end", "zzzz-new"),
        ]:
            added.append(f"{PREFIX}/{project}/brief.md")
            client.put_object(Bucket=bucket, Key=added[-1], Body=b"a new brief\n")
            ticks = runner.until_run(project)
            add(
                f"new file in a new project ({label} of keys)",
                ticks,
                f"at {interval} s: {wall_time(ticks, interval)}",
            )
        for label, project in [("start", 0), ("end", projects - 1)]:
            body = f"changed {time.time()}\n".encode()
            client.put_object(Bucket=bucket, Key=f"{PREFIX}/{key_of(project, 1)}", Body=body)
            ticks = runner.until_run(f"project-{project:05d}")
            add(f"changed object ({label} of keys)", ticks, f"at {interval} s: {wall_time(ticks, interval)}")
        cursor_bytes = len(runner.cursor or "")
        log(
            f"  cursor: {cursor_bytes:,} bytes for {len(InboxCursor.load(runner.cursor).projects):,} projects"
        )
        longest = max(t.seconds for t in runner.history + reset.history)
        log(f"  longest tick: {longest:.2f} s (limits: {limits.max_keys:,} keys, {limits.max_seconds:.0f} s)")
        full = [t.cpu for t in runner.history + reset.history if t.listed >= limits.max_keys]
        if full:
            log(f"  CPU of a full tick ({limits.max_keys:,} keys), this process: median {median(full):.2f} s")
    return rows, base, added


def wall_time(ticks: list[Tick], interval: int) -> str:
    """Drop-to-request time when ticks start every `interval` s: 0..interval wait for the first tick."""
    last = ticks[-1].seconds
    low = (len(ticks) - 1) * interval + last
    return f"{low:.0f}-{low + interval:.0f} s"


def print_table(size: int, rows: list[Row], base: float) -> None:
    print(f"\n{size:,} objects")
    columns = f"{'ticks':>5} {'keys':>9} {'seconds':>8} {'x baseline':>10} {'cpu s':>6}"
    header = f"{'measurement':<48} {columns}  note"
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = row.seconds / base if base else float("nan")
        cpu = "" if row.cpu is None else f"{row.cpu:.2f}"
        columns = f"{row.ticks:>5} {row.keys:>9,} {row.seconds:>8.2f} {ratio:>10.2f} {cpu:>6}"
        print(f"{row.what:<48} {columns}  {row.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated object counts")
    parser.add_argument("--files-per-project", type=int, default=100)
    parser.add_argument("--workers", type=int, default=32, help="concurrent uploads while filling")
    parser.add_argument("--repeat", type=int, default=3, help="baseline listings per size (median)")
    parser.add_argument(
        "--keep",
        type=Path,
        help="SeaweedFS folder kept between runs: a size it already holds is not uploaded again",
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    settings = Settings()
    limits = ScanLimits.from_settings(settings)
    print(
        f"limits: {limits.max_keys:,} keys and {limits.max_seconds:.0f} s per tick, "
        f"interval {settings.pipeline_sensor_interval_seconds} s; {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="sensor-bench-") as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        filled = folder / "filled.txt"  # how many objects (of --files-per-project) the kept bucket holds
        started = time.perf_counter()
        server = start_seaweedfs(folder)
        print(f"SeaweedFS up in {time.perf_counter() - started:.1f} s at {server.endpoint_url}")
        try:
            with client_env(server):
                bucket = "sensor-bench"
                held = filled.read_text().split() if filled.exists() else []
                present = int(held[0]) if held and int(held[1]) == args.files_per_project else 0
                if not filled.exists():
                    server.create_bucket(bucket)
                for size in sizes:
                    if size < present:
                        print(f"skipped {size:,}: the kept bucket holds {present:,} objects")
                        continue
                    keys = [
                        key_of(index // args.files_per_project, index % args.files_per_project)
                        for index in range(present, size)
                    ]
                    if keys:
                        seconds = fill(server, bucket, keys, args.workers)
                        print(
                            f"set-up: uploaded {len(keys):,} objects in {seconds:.1f} s "
                            f"({len(keys) / seconds:,.0f}/s, {args.workers} threads); bucket holds {size:,}"
                        )
                        filled.write_text(f"{size} {args.files_per_project}\n")
                    else:
                        print(f"set-up: the kept bucket already holds {present:,} objects")
                    present = max(present, size)
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
