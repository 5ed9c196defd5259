"""The llm resource: typed tasks in, validated pydantic objects out, from Claude or offline rules."""

from resources.llm.resource import LlmResource, LlmSession, bedrock_model_id
from resources.llm.task import LlmTask, LlmTaskError, LlmUsage, QuotedDocument

__all__ = [
    "LlmResource",
    "LlmSession",
    "LlmTask",
    "LlmTaskError",
    "LlmUsage",
    "QuotedDocument",
    "bedrock_model_id",
]
