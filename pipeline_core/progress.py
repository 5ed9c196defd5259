"""Progress of long work in a run's log: "what: done of total", every few seconds or items, and at the end."""

from __future__ import annotations

import time
from collections.abc import Callable


class Progress:
    """A callback `progress(done, total)` that logs at most every `every_s` seconds or `every_n` items
    (whichever comes first), and always when `done == total`."""

    def __init__(
        self,
        log: Callable[[str], None],
        what: str,
        *,
        every_s: float = 5.0,
        every_n: int = 200,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log, self.what, self.every_s, self.every_n, self.clock = log, what, every_s, every_n, clock
        self._last_time = clock()
        self._last_done = 0
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        now = self.clock()
        finished = done >= total
        if finished and self._last_done >= total:
            return  # the end was logged already
        if finished or done - self._last_done >= self.every_n or now - self._last_time >= self.every_s:
            self.log(f"{self.what}: {done} of {total}")
            self._last_time, self._last_done = now, done
