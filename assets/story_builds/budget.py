"""Spending limits for model-written stories, in estimated USD (token counts at list prices).

A `Budget` is shared by the threads that build one project's stories: each model call first
reserves its estimated cost (refused when the reservation would pass the limit), then settles
with what the call really cost. The estimate is the request's size at about four characters a
token plus as many output tokens as the previous answer, so a call that would pass the limit is
not made; a call whose real cost passes it still stops the story before anything is applied.
"""

from __future__ import annotations

import threading

from resources.llm.pricing import price_for
from resources.llm.task import LlmTask

CHARS_PER_TOKEN = 4


def estimate_call_usd(model: str, task: LlmTask, expected_output_tokens: int) -> float:
    """What sending `task` is likely to cost: its text as input tokens, plus the expected answer."""
    chars = len(task.instructions) + len(task.request) + sum(len(doc.text) for doc in task.quoted)
    price = price_for(model)
    return (chars / CHARS_PER_TOKEN * price.input + expected_output_tokens * price.output) / 1_000_000


class OverBudget(RuntimeError):
    """A call that would pass, or a spend that passed, a budget; the message holds the figures."""


class Budget:
    """A limit in USD (None: unlimited) shared by threads, with the spend so far."""

    def __init__(self, limit_usd: float | None, what: str):
        self.limit_usd = limit_usd
        self.what = what
        self._spent = 0.0
        self._reserved = 0.0
        self._lock = threading.Lock()

    @property
    def spent_usd(self) -> float:
        with self._lock:
            return self._spent

    def reserve(self, estimate_usd: float) -> None:
        """Hold `estimate_usd` for a call about to be made; OverBudget if it would pass the limit."""
        with self._lock:
            if self.limit_usd is not None and self._spent + self._reserved + estimate_usd > self.limit_usd:
                raise OverBudget(
                    f"{self.what} budget: spent ${self._spent:.4f} of ${self.limit_usd:.4f}"
                    + (f" (${self._reserved:.4f} held by calls in flight)" if self._reserved else "")
                    + f"; the next call would cost about ${estimate_usd:.4f}"
                )
            self._reserved += estimate_usd

    def settle(self, estimate_usd: float, actual_usd: float) -> None:
        """Replace a reservation by the call's real cost; OverBudget if the spend passed the limit."""
        with self._lock:
            self._reserved = max(0.0, self._reserved - estimate_usd)
            self._spent += actual_usd
            spent = self._spent
        if self.limit_usd is not None and spent > self.limit_usd:
            raise OverBudget(f"{self.what} budget: spent ${spent:.4f} of ${self.limit_usd:.4f}")
