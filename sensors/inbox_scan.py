"""Incremental sweep of the inbox bucket: which projects' documents changed, without Dagster.

One call to `scan_step` continues a sweep of the whole bucket from the cursor, bounded by a number
of keys and of seconds, and wraps to the start after the end (at most one full turn per call). A
listing keeps each project's keys together (`<project>/...` is one folder), so a project's
fingerprint is accumulated while its keys go by and compared with the one remembered in the cursor
as soon as the listing leaves the project. The cursor holds, per project, only a short fingerprint,
a change counter (the generation, part of the run key) and the sweep it was last seen in; a project
not seen in a whole sweep is forgotten. The listing order between projects is never assumed (AWS
sorts `a-b/` before `a/`, SeaweedFS after), only that `start_after=<listed key>` continues after it.

A project the cursor does not know may have been run before (the cursor was reset, or the project
was removed and restored); `reconcile` corrects such changes with the run history the sensor reads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel, Field, ValidationError

from pipeline_core.partitions import InvalidProjectName, check_project_name
from pipeline_core.settings import Settings
from resources.object_store import ListedKey, ObjectStore, UnsafeKeyError, check_key, safe_key

CURSOR_VERSION = 1
FINGERPRINT_CHARS = 16
MAX_REMEMBERED_REFUSALS = 1000
_MODULUS = 1 << 128


class ScanLimits(BaseModel):
    """How much one tick may do."""

    max_keys: int = Field(default=50_000, ge=1)
    max_seconds: float = Field(default=20.0, gt=0)
    page_size: int = Field(default=1000, ge=1, le=1000)
    # A changed project is requested only once its objects have not changed for this long.
    settle_seconds: float = Field(default=0.0, ge=0)

    @classmethod
    def from_settings(cls, settings: Settings) -> ScanLimits:
        return cls(
            max_keys=settings.pipeline_sensor_keys_per_tick,
            max_seconds=settings.pipeline_sensor_seconds_per_tick,
            settle_seconds=settings.pipeline_sensor_settle_seconds,
        )


class OpenProject(BaseModel):
    """The project whose keys the sweep is in the middle of."""

    name: str
    digest: str = "0"  # hex of the running sum of key hashes (mod 2**128)
    files: int = 0
    newest: float | None = None  # latest modification time of its keys so far, if the store gives them


class InboxCursor(BaseModel):
    """The sensor's cursor, stored as compact JSON.

    `projects` maps a project to [fingerprint, changes seen, sweep it was last seen in]; `pending`
    maps a project whose content changed but has not settled yet to [its new fingerprint, when that
    fingerprint was first seen (Unix seconds), sweep]. The project's run is requested once it settles.
    """

    v: int = CURSOR_VERSION
    sweep: int = 0
    after: str = ""
    pos: int = 0
    last_total: int = 0
    open: OpenProject | None = None
    projects: dict[str, tuple[str, int, int]] = Field(default_factory=dict)
    pending: dict[str, tuple[str, float, int]] = Field(default_factory=dict)
    # Refused folders and keys already reported, with the sweep they were last seen in: each is
    # reported once, when first seen, not on every tick.
    refused: dict[str, int] = Field(default_factory=dict)

    @classmethod
    def load(cls, cursor: str | None) -> InboxCursor:
        """The cursor's state; raises ValueError if it is not a cursor of this version."""
        if not cursor:
            return cls()
        try:
            state = cls.model_validate_json(cursor)
        except ValidationError as error:
            raise ValueError(f"unreadable bucket sensor cursor: {error.errors()[0]['msg']}") from None
        if state.v != CURSOR_VERSION:
            raise ValueError(f"bucket sensor cursor has version {state.v}, expected {CURSOR_VERSION}")
        return state

    def dump(self) -> str:
        return self.model_dump_json(exclude_defaults=True)


@dataclass(frozen=True)
class ProjectChange:
    """A project whose set of (key, ETag) differs from the last one seen (or is seen for the first time)."""

    project: str
    fingerprint: str
    generation: int
    files: int
    new: bool

    @property
    def run_key(self) -> str:
        # The generation makes a return to earlier content (A -> B -> A) a new run; the same state seen
        # again (a retried tick) repeats the key, which Dagster drops.
        return f"{self.project}:{self.fingerprint}:{self.generation}"


@dataclass(frozen=True)
class SkippedKey:
    key: str
    reason: str
    refusal: str = ""  # what is remembered as reported: the folder for a bad project name, else the key


@dataclass(frozen=True)
class Unsettled:
    """A changed project whose objects changed too recently: its run waits for a later tick."""

    project: str
    quiet_seconds: float  # how long its objects are known to have been unchanged
    files: int

    def describe(self) -> str:
        return f"{self.project} ({self.files} file(s), unchanged for {max(self.quiet_seconds, 0):.0f} s)"


@dataclass
class ScanStep:
    """What one `scan_step` did."""

    state: InboxCursor
    changed: list[ProjectChange] = field(default_factory=list)
    skipped: list[SkippedKey] = field(default_factory=list)  # refused keys not reported before
    skipped_total: int = 0  # every refused key listed, reported before or not
    removed: list[str] = field(default_factory=list)
    listed: int = 0
    sweeps_finished: int = 0
    seconds: float = 0.0
    ungrouped: list[str] = field(default_factory=list)
    already_requested: list[str] = field(default_factory=list)
    waiting: list[Unsettled] = field(default_factory=list)


def reconcile(step: ScanStep, requested: Mapping[str, tuple[str, int]]) -> None:
    """Correct a step's new projects with what was requested for them before the cursor knew them.

    `requested` maps a project to the fingerprint and generation of the last run requested for it
    (from the run history). The cursor forgets a project that disappears, and may be reset; a project
    it does not know but whose current content was already requested needs no run, and one whose
    content differs continues the old generations so its run key is new.
    """
    kept = []
    for change in step.changed:
        before = requested.get(change.project) if change.new else None
        if before is None:
            kept.append(change)
            continue
        old_fingerprint, old_generation = before
        seen = step.state.projects[change.project][2]
        if old_fingerprint == change.fingerprint:
            step.state.projects[change.project] = (change.fingerprint, old_generation, seen)
            step.already_requested.append(change.project)
            continue
        generation = old_generation + 1
        step.state.projects[change.project] = (change.fingerprint, generation, seen)
        kept.append(dataclasses.replace(change, generation=generation))
    step.changed = kept


def project_of(key: str) -> str:
    """The project a key belongs to; raises UnsafeKeyError or InvalidProjectName with the reason."""
    check_key(key)
    project, slash, _ = key.partition("/")
    if not slash:
        raise UnsafeKeyError(f"key {key!r} is not inside a project folder (<project>/<file>)")
    return check_project_name(project)


def key_hash(key: str, etag: str) -> int:
    digest = hashlib.blake2b(f"{key}\0{etag}".encode(), digest_size=16).digest()
    return int.from_bytes(digest, "big")


def fingerprint(digest: int, files: int) -> str:
    """Short fingerprint of a project's set of (key, ETag): independent of listing order and paging."""
    return hashlib.blake2b(f"{digest:x}:{files}".encode(), digest_size=8).hexdigest()[:FINGERPRINT_CHARS]


class _Sweep:
    """Applies a listing, key by key, to a cursor state."""

    def __init__(self, state: InboxCursor, step: ScanStep, settle_seconds: float, now: float) -> None:
        self.state = state
        self.step = step
        self.settle_seconds = settle_seconds
        self.now = now
        self.changes: dict[str, ProjectChange] = {}
        open_project = state.open
        self.open_name = open_project.name if open_project else None
        self.open_prefix = self.open_name + "/" if self.open_name else None
        self.digest = int(open_project.digest, 16) if open_project else 0
        self.files = open_project.files if open_project else 0
        self.newest = open_project.newest if open_project else None
        self.reported_now: set[str] = set()

    def consume(self, page: list[ListedKey]) -> None:
        # The hot path (tens of thousands of keys a tick): a key of the open project is checked with
        # one match (its project name was checked with its first key), and the digest is summed here
        # and reduced once when the project closes.
        prefix = self.open_prefix
        digest, files, newest = self.digest, self.files, self.newest
        for key, etag, modified in page:
            if prefix is None or not key.startswith(prefix) or not safe_key(key):
                if prefix is not None and not key.startswith(prefix):
                    self.digest, self.files, self.newest = digest, files, newest
                    self.close()
                    prefix, digest, files, newest = None, 0, 0, None
                try:
                    project = project_of(key)
                except (UnsafeKeyError, InvalidProjectName) as error:
                    self.refuse(key, error)
                    continue
                if prefix is None:
                    self.open_name, self.open_prefix = project, project + "/"
                    prefix = self.open_prefix
                    digest, files, newest = 0, 0, None
            digest += key_hash(key, etag)
            files += 1
            if modified is not None and (newest is None or modified > newest):
                newest = modified
        self.digest, self.files, self.newest = digest % _MODULUS, files, newest
        if page:
            self.state.after = page[-1][0]
            self.state.pos += len(page)

    def refuse(self, key: str, error: Exception) -> None:
        self.step.skipped_total += 1
        refusal = key.partition("/")[0] if isinstance(error, InvalidProjectName) else key
        refused = self.state.refused
        new = refusal not in refused or refusal in self.reported_now  # (all keys of a new folder)
        if refusal not in refused and len(refused) >= MAX_REMEMBERED_REFUSALS:
            # Too many to remember: reported every time rather than growing the cursor without bound.
            self.step.skipped.append(SkippedKey(key=key, reason=str(error), refusal=refusal))
            return
        refused[refusal] = self.state.sweep
        if new:
            self.reported_now.add(refusal)
            self.step.skipped.append(SkippedKey(key=key, reason=str(error), refusal=refusal))

    def close(self) -> None:
        name = self.open_name
        if name is None:
            return
        state = self.state
        fp = fingerprint(self.digest % _MODULUS, self.files)
        previous = state.projects.get(name)
        if previous is not None and previous[2] == state.sweep:
            self.step.ungrouped.append(name)  # seen twice in one sweep: the listing did not keep it together
        if previous is not None and previous[0] == fp:
            state.projects[name] = (previous[0], previous[1], state.sweep)
            state.pending.pop(name, None)  # changed and changed back before it settled: nothing to do
        elif not self.settled(name, fp):
            if previous is not None:
                state.projects[name] = (previous[0], previous[1], state.sweep)
        else:
            state.pending.pop(name, None)
            generation = previous[1] + 1 if previous else 1
            self.changes[name] = ProjectChange(
                project=name, fingerprint=fp, generation=generation, files=self.files, new=previous is None
            )
            state.projects[name] = (fp, generation, state.sweep)
        self.open_name = self.open_prefix = None
        self.digest = self.files = 0
        self.newest = None

    def settled(self, name: str, fp: str) -> bool:
        """Whether the project's changed content has stayed as it is for the settle window.

        Quiet for at least the window by either clock: the store's (the newest object's modification
        time) or this sensor's (the same fingerprint seen on an earlier tick that long ago). The
        second covers stores without modification times and a store whose clock runs ahead.
        """
        if self.settle_seconds <= 0:
            return True
        state = self.state
        pending = state.pending.get(name)
        first_seen = pending[1] if pending is not None and pending[0] == fp else round(self.now, 1)
        quiet = self.now - first_seen
        if self.newest is not None and self.newest <= self.now + 1:
            quiet = max(quiet, self.now - self.newest)
        if quiet >= self.settle_seconds:
            return True
        state.pending[name] = (fp, first_seen, state.sweep)
        self.step.waiting.append(Unsettled(project=name, quiet_seconds=quiet, files=self.files))
        return False

    def finish_sweep(self) -> None:
        """The listing reached the end: projects not seen in this sweep are gone."""
        self.close()
        state = self.state
        gone = [name for name, (_, _, seen) in state.projects.items() if seen != state.sweep]
        for name in gone:
            del state.projects[name]
            self.changes.pop(name, None)
        self.step.removed.extend(gone)
        for name in [name for name, (_, _, seen) in state.pending.items() if seen != state.sweep]:
            del state.pending[name]  # it went away before it settled
        for refusal in [refusal for refusal, seen in state.refused.items() if seen != state.sweep]:
            del state.refused[refusal]  # gone: reported again if it comes back
        self.step.sweeps_finished += 1
        state.sweep += 1
        state.last_total = state.pos
        state.after, state.pos = "", 0

    def save_open(self) -> None:
        if self.open_name is None:
            self.state.open = None
        else:
            self.state.open = OpenProject(
                name=self.open_name, digest=f"{self.digest:x}", files=self.files, newest=self.newest
            )


def scan_step(
    store: ObjectStore,
    state: InboxCursor,
    limits: ScanLimits,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
) -> ScanStep:
    """Continue the sweep from `state`; return the new state and the projects that changed.

    A project whose objects changed less than `limits.settle_seconds` ago is not reported as
    changed yet but listed in `waiting`; a later sweep reports it once it has settled.
    """
    started = clock()
    state = state.model_copy(deep=True)
    step = ScanStep(state=state)
    sweep = _Sweep(state, step, limits.settle_seconds, wall_clock())
    # After wrapping to the start, read at most as many keys as preceded this tick's starting point,
    # so one tick never reads a key twice (and a tick that starts a sweep stops at its end).
    start_pos = state.pos
    wrapped = False
    budget = limits.max_keys
    while budget > 0:
        want = min(limits.page_size, budget)
        if wrapped:
            want = min(want, start_pos - state.pos)
            if want <= 0:
                break
        # On the page that uses up the budget, ask for one key more: if it is not there, the sweep
        # ends in this tick (otherwise a bucket of exactly N budgets would need one more tick to know).
        ask = want + 1 if want == budget else want
        page = store.scan_page(start_after=state.after, max_keys=ask)
        sweep.consume(page[:want])
        step.listed += min(len(page), want)
        budget -= min(len(page), want)
        if len(page) < ask:
            sweep.finish_sweep()
            if wrapped or start_pos == 0:
                break
            wrapped = True
        if clock() - started >= limits.max_seconds:
            break
    sweep.save_open()
    step.changed = sorted(sweep.changes.values(), key=lambda change: change.project)
    step.seconds = clock() - started
    return step
