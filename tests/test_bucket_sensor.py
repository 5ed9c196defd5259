"""The bucket sensor on a local folder and on real S3 servers (SeaweedFS; moto for AWS's key order)."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from pipeline_core.partitions import projects_partitions
from pipeline_core.settings import Settings
from resources.object_store import LocalObjectStore, NotARegularFileError, ObjectInfo, ObjectStore
from sensors import bucket_sensor
from sensors.bucket_sensor import build_bucket_sensor
from sensors.inbox_scan import InboxCursor, ScanLimits, scan_step
from tests.support.seaweedfs import S3Bucket


@dg.asset(partitions_def=projects_partitions)
def inbox_probe() -> None:
    """A trivial asset over the projects partitions, for a job the sensor can target."""


probe_job = dg.define_asset_job("probe_job", selection=[inbox_probe])


def make_sensor(
    keys_per_tick: int = 50_000,
    interval: int = 30,
    settle: float = 0.0,
    wall_clock: Callable[[], float] = time.time,
) -> dg.SensorDefinition:
    """The sensor; without a settle window unless asked (the tests below write whole files)."""
    settings = Settings(
        pipeline_sensor_keys_per_tick=keys_per_tick,
        pipeline_sensor_interval_seconds=interval,
        pipeline_sensor_settle_seconds=settle,
    )
    return build_bucket_sensor(probe_job, settings, wall_clock=wall_clock)


@dataclass
class Inbox:
    """A watched bucket of one kind, with a way to put keys the store itself would refuse."""

    kind: str
    store: ObjectStore
    bucket: S3Bucket | None = None
    root: Path | None = None

    def put(self, key: str, data: bytes) -> None:
        self.store.put_bytes(key, data)

    def put_raw(self, key: str, data: bytes = b"raw") -> None:
        """Write a key as a user's tool would, without the store's key check."""
        if self.root is not None:
            path = self.root.joinpath(*key.split("/"))
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        else:
            assert self.bucket is not None
            prefix = getattr(self.store, "prefix", "")
            full = f"{prefix}/{key}" if prefix else key
            self.bucket.client.put_object(Bucket=self.bucket.name, Key=full, Body=data)


def make_inbox(kind: str, request: pytest.FixtureRequest, prefix: str = "") -> Inbox:
    """An inbox of `kind`: a local folder, a SeaweedFS bucket or an AWS-like (moto) bucket."""
    if kind == "local":
        root = request.getfixturevalue("tmp_path") / "inbox"
        root.mkdir()
        return Inbox("local", LocalObjectStore(root=str(root)), root=root)
    bucket: S3Bucket = request.getfixturevalue("s3_bucket" if kind == "seaweedfs" else "aws_bucket")
    return Inbox(kind, bucket.store(prefix=prefix), bucket=bucket)


@pytest.fixture(params=["local", "seaweedfs", "aws"])
def inbox(request: pytest.FixtureRequest) -> Inbox:
    return make_inbox(request.param, request, prefix="inbox" if request.param == "seaweedfs" else "")


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@dataclass
class Ticker:
    """Ticks a sensor the way the daemon does: cursor carried over, partition requests applied."""

    sensor: dg.SensorDefinition
    instance: dg.DagsterInstance
    inbox: Inbox
    cursor: str | None = None
    requested: list[dg.RunRequest] = field(default_factory=list)
    log_handler: logging.Handler | None = None

    def tick(self) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={"inbox": self.inbox.store}
        )
        if self.log_handler is not None:
            # The sensor's logger is Dagster's own, outside the logging tree that caplog watches.
            context.log.addHandler(self.log_handler)
        result = self.sensor(context)
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or []:
            assert isinstance(request, dg.AddDynamicPartitionsRequest)
            self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        self.cursor = result.cursor
        self.requested.extend(result.run_requests or [])
        return result

    def sweeps(self) -> int:
        return InboxCursor.load(self.cursor).sweep

    def tick_sweeps(self, count: int = 1) -> list[dg.RunRequest]:
        """Tick until `count` more sweeps of the bucket have finished; the run requests made meanwhile."""
        before, target = len(self.requested), self.sweeps() + count
        for _ in range(1000):
            self.tick()
            if self.sweeps() >= target:
                return self.requested[before:]
        raise AssertionError("the sweep never finished")


def skip_message(result: dg.SensorResult) -> str:
    return result.skip_reason.skip_message or "" if result.skip_reason else ""


def runs(result: dg.SensorResult) -> list[tuple[str | None, str | None]]:
    return [(request.partition_key, request.run_key) for request in result.run_requests or []]


def test_new_project_adds_its_partition_and_requests_one_run(
    inbox: Inbox, instance: dg.DagsterInstance
) -> None:
    ticker = Ticker(make_sensor(), instance, inbox)
    inbox.put("acme/docs/brief.md", b"# Brief\nUsers can add tasks.\n")

    result = ticker.tick()

    assert [(r.partitions_def_name, list(r.partition_keys)) for r in result.dynamic_partitions_requests] == [
        ("projects", ["acme"])
    ]
    [(partition, run_key)] = runs(result)
    assert partition == "acme" and run_key is not None and run_key.startswith("acme:")
    assert result.run_requests[0].tags["pipeline/inbox_files"] == "1"
    assert instance.get_dynamic_partitions("projects") == ["acme"]

    again = ticker.tick()
    assert runs(again) == [] and again.dynamic_partitions_requests == []
    assert again.skip_reason is not None


def test_files_dropped_together_start_one_run(inbox: Inbox, instance: dg.DagsterInstance) -> None:
    ticker = Ticker(make_sensor(), instance, inbox)
    inbox.put("acme/a.md", b"a")
    inbox.put("acme/notes/b.txt", b"b")
    inbox.put("zeta/c.md", b"c")
    first = ticker.tick()
    assert sorted(partition for partition, _ in runs(first)) == ["acme", "zeta"]

    inbox.put("acme/minutes/2024-01-02.vtt", b"WEBVTT")
    inbox.put("acme/mail/kickoff.eml", b"Subject: kickoff")
    second = ticker.tick()
    [(partition, run_key)] = runs(second)
    assert partition == "acme" and run_key not in {key for _, key in runs(first)}
    assert second.run_requests[0].tags["pipeline/inbox_files"] == "4"
    assert second.dynamic_partitions_requests == []


def test_same_content_again_requests_no_run(inbox: Inbox, instance: dg.DagsterInstance) -> None:
    ticker = Ticker(make_sensor(), instance, inbox)
    inbox.put("acme/a.md", b"same bytes")
    assert len(runs(ticker.tick())) == 1
    for _ in range(3):
        assert runs(ticker.tick()) == []
    # The ETag is the content's MD5 on S3 and in the local folder: an identical re-save is the same object.
    inbox.put("acme/a.md", b"same bytes")
    assert runs(ticker.tick()) == []


def test_a_retried_tick_repeats_its_run_keys(inbox: Inbox, instance: dg.DagsterInstance) -> None:
    """If a tick is evaluated again from the same cursor, Dagster drops the repeated run keys."""
    sensor = make_sensor()
    inbox.put("acme/a.md", b"a")
    inbox.put("beta/b.md", b"b")
    first = Ticker(sensor, instance, inbox).tick()
    retried = Ticker(sensor, instance, inbox).tick()
    assert runs(first) == runs(retried) and len(runs(first)) == 2


def test_changed_new_and_removed_files_each_request_a_run(inbox: Inbox, instance: dg.DagsterInstance) -> None:
    ticker = Ticker(make_sensor(), instance, inbox)
    inbox.put("acme/a.md", b"version 1")
    inbox.put("acme/b.md", b"b")
    inbox.put("beta/x.md", b"x")
    keys = [run_key for _, run_key in runs(ticker.tick())]

    inbox.put("acme/a.md", b"version 2")  # same size, new ETag
    [(partition, changed)] = runs(ticker.tick())
    assert partition == "acme"
    inbox.put("acme/c.md", b"c")
    [(partition, added)] = runs(ticker.tick())
    assert partition == "acme"
    inbox.store.delete("acme/b.md")
    [(partition, removed)] = runs(ticker.tick())
    assert partition == "acme"
    assert len({*keys, changed, added, removed}) == len(keys) + 3


@pytest.mark.parametrize("inbox", ["seaweedfs", "aws"], indirect=True)  # S3: ETags repeat
def test_returning_to_earlier_content_requests_a_run(inbox: Inbox, instance: dg.DagsterInstance) -> None:
    """A -> B -> A: the last run saw B, so A again needs a run (its ETag repeats on S3)."""
    ticker = Ticker(make_sensor(), instance, inbox)
    inbox.put("acme/a.md", b"A")
    [(_, first)] = runs(ticker.tick())
    inbox.put("acme/a.md", b"B")
    [(_, second)] = runs(ticker.tick())
    inbox.put("acme/a.md", b"A")
    [(_, third)] = runs(ticker.tick())
    assert len({first, second, third}) == 3
    assert first is not None and third is not None
    assert first.split(":")[1] == third.split(":")[1], "same content, same fingerprint"


INVALID = {
    # key -> what the warning must say
    "Bad Name/x.pdf": "invalid project name",
    "UPPER/x.md": "invalid project name",
    "-dash/x.md": "invalid project name",
    "root.pdf": "not inside a project folder",
}
INVALID_S3 = {
    ".hidden/x": "hidden segment",
    "good/.git/config": "hidden segment",
}
INVALID_AWS = {
    "../x": "'..' segment",
    "proj/../../etc": "'..' segment",
    "good//double": "empty",
    "good/\x07bell.txt": "control character",
}


def launch(instance: dg.DagsterInstance, request: dg.RunRequest) -> None:
    """What the daemon does with a run request: a run of the job carrying the request's tags."""
    job = dg.Definitions(assets=[inbox_probe], jobs=[probe_job]).resolve_job_def("probe_job")
    tags = {**request.tags, "dagster/sensor_name": "bucket_sensor", "dagster/run_key": request.run_key or ""}
    assert job.execute_in_process(partition_key=request.partition_key, instance=instance, tags=tags).success


@pytest.mark.parametrize("chunk", [1, 100])
def test_a_reset_cursor_requests_runs_only_for_changed_projects(
    chunk: int,
    tmp_path: Path,
    instance: dg.DagsterInstance,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bucket_sensor, "HISTORY_CHUNK", chunk)  # projects per run-history query
    inbox = Inbox("local", LocalObjectStore(root=str(tmp_path)), root=tmp_path)
    inbox.put("acme/a.md", b"a")
    inbox.put("beta/b.md", b"b")
    inbox.put("zeta/z.md", b"z")
    sensor = make_sensor()
    for request in Ticker(sensor, instance, inbox).tick().run_requests:
        launch(instance, request)
    inbox.put("beta/b.md", b"b, edited")

    fresh = Ticker(sensor, instance, inbox, log_handler=caplog.handler)  # a lost or reset cursor
    result = fresh.tick()

    [request] = result.run_requests
    assert request.partition_key == "beta" and request.tags["pipeline/inbox_generation"] == "2"
    assert result.dynamic_partitions_requests == []
    assert any("unchanged since the run last requested" in r.getMessage() for r in caplog.records)
    assert runs(fresh.tick()) == []


@pytest.mark.parametrize("inbox", ["seaweedfs", "aws"], indirect=True)  # S3: ETags repeat
def test_a_project_restored_with_its_first_content_gets_a_run(
    inbox: Inbox, instance: dg.DagsterInstance
) -> None:
    """Removed, then restored as it was first: the last run saw other content, so it must run again."""
    ticker = Ticker(make_sensor(), instance, inbox)
    keys = []
    for content in (b"A", b"B"):
        inbox.put("acme/a.md", content)
        [run] = ticker.tick().run_requests
        launch(instance, run)
        keys.append(run.run_key)
    inbox.store.delete("acme/a.md")
    assert runs(ticker.tick()) == [] and InboxCursor.load(ticker.cursor).projects == {}
    inbox.put("acme/a.md", b"A")
    [(partition, run_key)] = runs(ticker.tick())
    assert partition == "acme" and run_key not in keys


def test_invalid_keys_are_skipped_with_a_warning_and_the_rest_processed(
    inbox: Inbox, instance: dg.DagsterInstance, caplog: pytest.LogCaptureFixture
) -> None:
    invalid = dict(INVALID)
    if inbox.kind != "local":  # the local folder does not list hidden files at all
        invalid |= INVALID_S3
    if inbox.kind == "aws":  # keys SeaweedFS refuses or rewrites, AWS S3 stores as they are
        invalid |= INVALID_AWS
    for key in invalid:
        inbox.put_raw(key)
    inbox.put("good/brief.md", b"brief")
    inbox.put("zeta/brief.md", b"brief")
    ticker = Ticker(make_sensor(), instance, inbox, log_handler=caplog.handler)

    result = ticker.tick()

    assert sorted(partition for partition, _ in runs(result)) == ["good", "zeta"]
    assert result.run_requests[0].tags["pipeline/inbox_files"] == "1"  # good's skipped keys do not count
    warnings = [record.getMessage() for record in caplog.records if record.levelno == logging.WARNING]
    for key, reason in invalid.items():
        [line] = [line for line in warnings if line.startswith(f"skipped inbox object {key!r}:")]
        assert reason in line, line
    infos = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert any(f"{len(invalid)} key(s) skipped" in line for line in infos), infos


def test_a_sweep_over_several_ticks_requests_once_per_changed_project(
    inbox: Inbox, instance: dg.DagsterInstance
) -> None:
    projects = ["a", "a-b", "a0", "b", "c"]  # a-b sorts before a on AWS and after it on SeaweedFS
    for project in projects:
        for index in range(4):
            inbox.put(f"{project}/doc-{index}.md", f"{project} {index}".encode())
    ticker = Ticker(make_sensor(keys_per_tick=3), instance, inbox)

    first = ticker.tick_sweeps(1)
    assert sorted(request.partition_key for request in first) == projects
    assert sorted(instance.get_dynamic_partitions("projects")) == projects
    assert ticker.tick_sweeps(2) == []

    inbox.put("a/doc-1.md", b"changed")
    inbox.put("a-b/new.md", b"new")
    for index in range(4):
        inbox.store.delete(f"a0/doc-{index}.md")
    changed = ticker.tick_sweeps(2)
    assert sorted(request.partition_key for request in changed) == ["a", "a-b"]
    assert sorted(InboxCursor.load(ticker.cursor).projects) == ["a", "a-b", "b", "c"]
    assert ticker.tick_sweeps(1) == []


def test_a_project_that_disappears_is_dropped_from_the_cursor(
    inbox: Inbox, instance: dg.DagsterInstance
) -> None:
    ticker = Ticker(make_sensor(), instance, inbox)
    inbox.put("acme/a.md", b"a")
    inbox.put("beta/b.md", b"b")
    ticker.tick()
    inbox.store.delete("beta/b.md")
    result = ticker.tick()
    assert runs(result) == []
    assert list(InboxCursor.load(ticker.cursor).projects) == ["acme"]
    inbox.put("beta/b.md", b"b")  # back again: a new project to the sensor
    [(partition, _)] = runs(ticker.tick())
    assert partition == "beta"


def test_the_cursor_stays_compact(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    inbox = Inbox("local", store, root=tmp_path)
    for index in range(200):
        inbox.put(f"project-{index:03d}/brief.md", b"brief")
    few = Ticker(make_sensor(), instance, inbox)
    few.tick()
    assert few.cursor is not None
    for index in range(200):
        for page in range(20):
            inbox.put(f"project-{index:03d}/pages/{page:02d}.md", b"page")
    many = Ticker(make_sensor(), instance, inbox)
    many.tick()
    assert many.cursor is not None
    # Per project, a name, a short fingerprint and two small numbers; nothing per file.
    assert len(few.cursor) < 200 * (len("project-000") + 40) + 200
    assert abs(len(many.cursor) - len(few.cursor)) < 100
    assert (
        json.loads(many.cursor)["projects"]["project-000"][0]
        != json.loads(few.cursor)["projects"]["project-000"][0]
    )


def test_an_unreadable_cursor_restarts_the_sweep_with_a_warning(
    tmp_path: Path, instance: dg.DagsterInstance, caplog: pytest.LogCaptureFixture
) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    store.put_bytes("acme/a.md", b"a")
    inbox = Inbox("local", store, root=tmp_path)
    ticker = Ticker(make_sensor(), instance, inbox, cursor="not json", log_handler=caplog.handler)
    result = ticker.tick()
    assert [partition for partition, _ in runs(result)] == ["acme"]
    assert any("unreadable bucket sensor cursor" in record.getMessage() for record in caplog.records)


def test_the_sensor_is_on_by_default_with_the_interval_from_settings() -> None:
    sensor = make_sensor(interval=45)
    assert sensor.name == "bucket_sensor"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 45
    assert sensor.job_name == "probe_job"
    assert sensor.required_resource_keys == {"inbox"}


def test_the_sensor_runs_inside_definitions(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    store.put_bytes("acme/a.md", b"a")
    defs = dg.Definitions(
        assets=[inbox_probe], jobs=[probe_job], sensors=[make_sensor()], resources={"inbox": store}
    )
    dg.Definitions.validate_loadable(defs)
    sensor = defs.resolve_sensor_def("bucket_sensor")
    # build_sensor_context(definitions=...) does not hand the definitions' resources to a sensor
    # called directly; they must be passed too.
    result = sensor(dg.build_sensor_context(instance=instance, definitions=defs, resources=defs.resources))
    assert isinstance(result, dg.SensorResult)
    instance.add_dynamic_partitions("projects", ["acme"])
    [request] = result.run_requests
    job_result = defs.resolve_job_def("probe_job").execute_in_process(
        partition_key=request.partition_key, instance=instance
    )
    assert job_result.success


# scan_step on its own: the budget of one tick.


def test_a_tick_stops_at_its_key_budget_and_the_next_continues(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    for index in range(10):
        store.put_bytes(f"p{index}/f.md", b"x")
    limits = ScanLimits(max_keys=4, page_size=3)
    step = scan_step(store, InboxCursor(), limits)
    assert step.listed == 4 and step.state.after == "p3/f.md"
    assert [change.project for change in step.changed] == ["p0", "p1", "p2"]  # p3 may have more keys
    step = scan_step(store, step.state, limits)
    assert [change.project for change in step.changed] == ["p3", "p4", "p5", "p6"]


def test_a_tick_reads_each_key_at_most_once_when_it_wraps(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    for index in range(10):
        store.put_bytes(f"p{index}/f.md", b"x")
    limits = ScanLimits(max_keys=100)
    first = scan_step(store, InboxCursor(), ScanLimits(max_keys=4))
    wrapped = scan_step(store, first.state, limits)
    # From key 4 to the end, then from the start up to where this tick began: one full turn.
    assert wrapped.listed == 10 and wrapped.sweeps_finished == 1
    assert wrapped.state.pos == 4 and wrapped.state.after == "p3/f.md"
    fresh = scan_step(store, InboxCursor(), limits)
    assert fresh.listed == 10 and fresh.sweeps_finished == 1 and fresh.state.pos == 0


def test_a_tick_stops_at_its_time_budget(tmp_path: Path) -> None:
    store = LocalObjectStore(root=str(tmp_path))
    for index in range(10):
        store.put_bytes(f"p{index}/f.md", b"x")
    ticks = iter(range(1000))
    step = scan_step(
        store,
        InboxCursor(),
        ScanLimits(max_keys=100, max_seconds=1.5, page_size=2),
        clock=lambda: next(ticks),
    )
    # The clock advances one second per reading: started at 0, after page 1 at 1, after page 2 at 2.
    assert step.listed == 4


def test_a_tick_that_reads_the_last_key_finishes_the_sweep(tmp_path: Path) -> None:
    """A bucket of exactly two budgets needs two ticks, not a third to find that nothing follows."""
    store = LocalObjectStore(root=str(tmp_path))
    for index in range(6):
        store.put_bytes(f"p{index}/f.md", b"x")
    limits = ScanLimits(max_keys=3, page_size=3)
    first = scan_step(store, InboxCursor(), limits)
    second = scan_step(store, first.state, limits)
    assert (first.listed, second.listed) == (3, 3)
    assert second.sweeps_finished == 1
    assert [change.project for change in first.changed + second.changed] == [f"p{i}" for i in range(6)]


# The settle window: a project is requested only once its objects stopped changing.

SETTLE = 2.0


@pytest.fixture(params=["local", "aws"])
def timed_inbox(request: pytest.FixtureRequest) -> Inbox:
    """An inbox whose listing carries modification times: the local folder and AWS-like S3."""
    return make_inbox(request.param, request)


def test_the_default_settle_window_is_ten_seconds() -> None:
    assert Settings().pipeline_sensor_settle_seconds == 10
    assert ScanLimits.from_settings(Settings()).settle_seconds == 10


def test_files_arriving_over_several_ticks_start_one_run(
    timed_inbox: Inbox, instance: dg.DagsterInstance
) -> None:
    ticker = Ticker(make_sensor(settle=SETTLE), instance, timed_inbox)
    for name in ("a.md", "b.md", "c.md"):
        timed_inbox.put(f"acme/{name}", name.encode())
        result = ticker.tick()
        assert runs(result) == [] and result.dynamic_partitions_requests == []
        note = skip_message(result)
        assert "waiting for 1 changed project(s) to settle" in note and "acme (" in note, note
        time.sleep(SETTLE / 4)
    assert instance.get_dynamic_partitions("projects") == []

    time.sleep(SETTLE + 0.2)
    settled = ticker.tick()
    [(partition, _)] = runs(settled)
    assert partition == "acme" and settled.run_requests[0].tags["pipeline/inbox_files"] == "3"
    assert instance.get_dynamic_partitions("projects") == ["acme"]
    again = ticker.tick()
    assert runs(again) == [] and "waiting" not in skip_message(again)
    assert ticker.requested == settled.run_requests


def test_a_file_still_growing_starts_no_run_until_it_settles(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    inbox = Inbox("local", LocalObjectStore(root=str(tmp_path)), root=tmp_path)
    inbox.put("acme/brief.md", b"# Brief\n")
    (tmp_path / "acme" / "brief.md").touch()
    ticker = Ticker(make_sensor(settle=SETTLE), instance, inbox)
    growing = tmp_path / "acme" / "minutes.txt"
    with growing.open("wb") as handle:
        for chunk in range(6):  # written over 1.5 s, longer than a tick apart, less than the window
            handle.write(b"line %d of a long transcript\n" % chunk * 1000)
            handle.flush()
            assert runs(ticker.tick()) == []
            time.sleep(SETTLE / 8)
    final_size = growing.stat().st_size
    time.sleep(SETTLE + 0.2)
    [request] = ticker.tick().run_requests
    assert request.tags["pipeline/inbox_files"] == "2"
    # The run is for the whole file: its fingerprint is the one of the finished content.
    fresh = scan_step(inbox.store, InboxCursor(), ScanLimits())
    [change] = fresh.changed
    assert request.run_key == change.run_key and growing.stat().st_size == final_size
    assert ticker.requested == [request]


class TimelessStore(LocalObjectStore):
    """A store whose listing has no modification times (as some S3 servers' could be)."""

    def list_page(self, prefix: str = "", start_after: str = "", max_keys: int = 1000) -> list[ObjectInfo]:
        page = super().list_page(prefix, start_after, max_keys)
        return [info.model_copy(update={"modified": None}) for info in page]


def test_without_modification_times_the_sensor_waits_for_the_same_content_twice(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    now = [1_000_000.0]
    inbox = Inbox("local", TimelessStore(root=str(tmp_path)), root=tmp_path)
    ticker = Ticker(make_sensor(settle=10, wall_clock=lambda: now[0]), instance, inbox)
    inbox.put("acme/a.md", b"a")
    assert runs(ticker.tick()) == []
    now[0] += 6
    inbox.put("acme/b.md", b"b")  # a new fingerprint: its quiet time starts again
    assert runs(ticker.tick()) == []
    now[0] += 6
    assert runs(ticker.tick()) == []  # b's fingerprint seen 6 s ago only
    now[0] += 5
    [(partition, _)] = runs(ticker.tick())
    assert partition == "acme"
    assert InboxCursor.load(ticker.cursor).pending == {}


def test_a_project_removed_before_it_settled_is_forgotten(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    now = [1_000_000.0]
    inbox = Inbox("local", TimelessStore(root=str(tmp_path)), root=tmp_path)
    ticker = Ticker(make_sensor(settle=10, wall_clock=lambda: now[0]), instance, inbox)
    inbox.put("acme/a.md", b"a")
    ticker.tick()
    assert list(InboxCursor.load(ticker.cursor).pending) == ["acme"]
    inbox.store.delete("acme/a.md")
    now[0] += 20
    assert runs(ticker.tick()) == []
    assert InboxCursor.load(ticker.cursor).pending == {}


# Refusals are reported once, with the rule, in the tick (its skip message and log), not every tick.


def test_an_invalid_project_folder_is_reported_once_with_the_rule(
    tmp_path: Path, instance: dg.DagsterInstance, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = Inbox("local", LocalObjectStore(root=str(tmp_path)), root=tmp_path)
    inbox.put_raw("My Project/brief.md")
    inbox.put_raw("My Project/notes.md")
    inbox.put("acme/a.md", b"a")
    ticker = Ticker(make_sensor(), instance, inbox, log_handler=caplog.handler)
    ticker.tick()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([line for line in warnings if "'My Project/" in line]) == 2
    assert all("use a lowercase slug (a-z, 0-9, inner '-'" in line for line in warnings)

    caplog.clear()
    quiet = ticker.tick()
    assert [r for r in caplog.records if r.levelno == logging.WARNING] == []
    assert "refused" not in skip_message(quiet) and "2 key(s) skipped" in skip_message(quiet)

    inbox.put_raw("Other Folder/x.md")  # a new refusal is reported in the tick's skip message
    noted = skip_message(ticker.tick())
    assert "refused (reported once): invalid project name 'Other Folder'" in noted, noted
    assert "lowercase slug" in noted and "My Project" not in noted
    assert "Other Folder" not in skip_message(ticker.tick())

    for name in ("brief.md", "notes.md"):  # gone, then back: reported again
        (tmp_path / "My Project" / name).unlink()
    ticker.tick()
    inbox.put_raw("My Project/brief.md")
    assert "'My Project'" in skip_message(ticker.tick())


def test_links_and_special_files_are_listed_for_refusal_never_followed(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    (root / "acme").mkdir(parents=True)
    secret = tmp_path / "secret.txt"
    secret.write_text("the database password")
    (root / "acme" / "brief.md").write_text("# Brief")
    (root / "acme" / "link.md").symlink_to(secret)
    (root / "acme" / "linked-folder").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(root / "acme" / "pipe.txt")
    store = LocalObjectStore(root=str(root))
    listing = {info.key: info for info in store.list_page()}
    assert {key: info.kind for key, info in listing.items()} == {
        "acme/brief.md": "file",
        "acme/link.md": "symlink",
        "acme/linked-folder": "symlink",
        "acme/pipe.txt": "special",
    }
    assert "secret" not in json.dumps([info.model_dump() for info in listing.values()])
    for key in ("acme/link.md", "acme/pipe.txt", "acme/linked-folder/secret.txt"):
        with pytest.raises(NotARegularFileError):
            store.get_bytes(key)
    assert store.get_bytes("acme/brief.md") == b"# Brief"
