"""What a stage asks of the llm resource: a typed task, and the usage it is charged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel

OutputT = TypeVar("OutputT", bound=BaseModel)


class QuotedDocument(BaseModel):
    """Material the model reads as data, never as instructions (sent delimited and prompt-cached)."""

    name: str
    text: str


@dataclass(frozen=True)
class LlmTask(Generic[OutputT]):
    """One structured request.

    `instructions` is the system prompt and never contains document text; `quoted` carries the
    documents; `request` says what to produce from them. `offline` is the rule-based solver the
    offline provider runs instead of a model. `version` is part of the cache key: bump it with the
    prompt or the rules.
    """

    name: str
    instructions: str
    request: str
    output_model: type[OutputT]
    version: str
    quoted: tuple[QuotedDocument, ...] = ()
    offline: Callable[[], OutputT] | None = field(default=None, compare=False)


class LlmTaskError(RuntimeError):
    """A task that failed for good (invalid answer after one repair, or a non-retryable API error)."""

    def __init__(self, task_name: str, reason: str):
        super().__init__(f"llm task {task_name!r} failed: {reason}")
        self.task_name = task_name
        self.reason = reason


class LlmUsage(BaseModel):
    """Calls, cache hits, tokens and estimated cost, reported by each asset as metadata."""

    model_calls: int = 0
    cache_hits: int = 0
    repairs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0

    def add(self, other: LlmUsage) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))
