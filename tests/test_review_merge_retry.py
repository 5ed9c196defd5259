"""The merge `reviews` retries after bringing a branch up to date: refusals as a conflict are retried
after each configured wait, any other forge error is not, and the last refusal is what is reported."""

from __future__ import annotations

import time

import pytest

from assets.reviews.merge import merge_retrying
from resources.forge.base import ForgeError, MergeConflictError


class Refusing:
    """merge() refuses `refusals` times (a conflict, naming the attempt), then merges."""

    def __init__(self, refusals: int, error: Exception | None = None) -> None:
        self.refusals, self.error = refusals, error
        self.calls: list[float] = []

    def merge(self, repo: str, number: int) -> str:
        self.calls.append(time.monotonic())
        if self.error is not None:
            raise self.error
        if len(self.calls) <= self.refusals:
            raise MergeConflictError("not mergeable yet", [f"attempt-{len(self.calls)}"])
        return f"{repo}#{number} merged"


def test_a_refused_merge_is_retried_after_each_wait_until_it_merges() -> None:
    forge = Refusing(refusals=2)
    assert merge_retrying((0.05, 0.2, 5.0))(forge.merge, "shop", 7) == "shop#7 merged"
    assert len(forge.calls) == 3  # the third wait is never slept
    gaps = [later - earlier for earlier, later in zip(forge.calls, forge.calls[1:], strict=False)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.2 and gaps[1] < 2.0


def test_the_last_refusal_is_raised_once_the_waits_are_spent() -> None:
    forge = Refusing(refusals=10)
    with pytest.raises(MergeConflictError) as refused:
        merge_retrying((0.0, 0.0))(forge.merge, "shop", 7)
    assert len(forge.calls) == 3 and refused.value.files == ["attempt-3"]


def test_without_waits_the_merge_is_tried_once() -> None:
    forge = Refusing(refusals=1)
    with pytest.raises(MergeConflictError):
        merge_retrying(())(forge.merge, "shop", 7)
    assert len(forge.calls) == 1


def test_another_forge_error_is_not_retried() -> None:
    forge = Refusing(refusals=0, error=ForgeError("pull request is closed"))
    with pytest.raises(ForgeError, match="closed"):
        merge_retrying((0.0, 0.0))(forge.merge, "shop", 7)
    assert len(forge.calls) == 1
