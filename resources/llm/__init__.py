"""The llm resource: typed tasks in, validated pydantic objects out, from Claude or offline rules."""

from resources.llm.task import LlmTask, LlmTaskError, LlmUsage, QuotedDocument

__all__ = ["LlmTask", "LlmTaskError", "LlmUsage", "QuotedDocument"]
