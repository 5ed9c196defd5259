"""The llm resource: typed tasks in, validated pydantic objects out, with caching and accounting.

`LlmResource` is the configuration; `LlmResource.session()` opens an `LlmSession` for one asset
run, which answers tasks and counts what they cost. Every answer is stored in a content-addressed
response cache (`llm-cache/<key[:2]>/<key>.json` in the `cache_url` store), so an unchanged task
never calls a model twice.

Providers:
- `offline`: runs the task's rule-based solver (`task.offline()`); no network, no credentials.
- `anthropic`: the Messages API through the anthropic SDK, structured output via `messages.parse`.
- `bedrock`: the same request through `anthropic.AnthropicBedrock` (AWS credentials from the usual
  chain), the model id mapped to its Bedrock id.

Retries with back-off on 429, 529 (and every other 5xx), 408 and time-outs are the SDK's own
(`max_retries`; it honours `retry-after` / `retry-after-ms`). An answer that is not valid for the
output model gets exactly one repair request; then the task fails with `LlmTaskError`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import dagster as dg
from pydantic import BaseModel, Field, PrivateAttr, ValidationError

from pipeline_core.settings import DEFAULT_ANTHROPIC_MODEL
from resources.llm.pricing import estimate_cost_usd
from resources.llm.prompt import (
    cache_key,
    describe_validation_error,
    first_messages,
    repair_messages,
    system_prompt,
)
from resources.llm.task import LlmTask, LlmTaskError, LlmUsage
from resources.object_store import ObjectStore, object_store_from_url

if TYPE_CHECKING:
    # The SDK takes about a second to import; every run worker and step process imports this
    # module, and only the Claude providers need the SDK, so it is imported where a client is made.
    import anthropic
    from anthropic.types import Message

OutputT = TypeVar("OutputT", bound=BaseModel)

CACHE_PREFIX = "llm-cache"

# Anthropic model id -> base Bedrock model id, where Bedrock does not simply prefix `anthropic.`
# (from the Bedrock model table in Anthropic's docs). Unlisted ids map to `anthropic.<id>`.
BEDROCK_MODEL_IDS: dict[str, str] = {
    "claude-opus-4-6": "anthropic.claude-opus-4-6-v1",
    "claude-sonnet-4-6": "anthropic.claude-sonnet-4-6",
    "claude-opus-4-5": "anthropic.claude-opus-4-5-20251101-v1:0",
    "claude-opus-4-5-20251101": "anthropic.claude-opus-4-5-20251101-v1:0",
    "claude-sonnet-4-5": "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "claude-sonnet-4-5-20250929": "anthropic.claude-sonnet-4-5-20250929-v1:0",
    "claude-haiku-4-5": "anthropic.claude-haiku-4-5-20251001-v1:0",
    "claude-haiku-4-5-20251001": "anthropic.claude-haiku-4-5-20251001-v1:0",
}


def bedrock_model_id(model: str, inference_profile: str = "us") -> str:
    """The Bedrock id for an Anthropic model id; Bedrock ids and ARNs pass through unchanged.

    `inference_profile` is the cross-region prefix (`us`, `eu`, `jp`, `apac`, `global`), or "" for
    the in-region base model id.
    """
    if model.startswith("arn:") or model.startswith("anthropic.") or ".anthropic." in model:
        return model
    base = BEDROCK_MODEL_IDS.get(model, f"anthropic.{model}")
    return f"{inference_profile}.{base}" if inference_profile else base


class LlmResource(dg.ConfigurableResource):
    """Which model answers llm tasks, how hard to retry, and where answers are cached."""

    provider: Literal["offline", "anthropic", "bedrock"] = Field(
        default="offline", description="offline (rules, no network), anthropic (Messages API) or bedrock."
    )
    model: str = Field(default=DEFAULT_ANTHROPIC_MODEL, description="Anthropic model id.")
    api_key: str | None = Field(
        default=None, repr=False, description="Anthropic API key (provider anthropic)."
    )
    base_url: str | None = Field(default=None, description="API endpoint override (a proxy or test server).")
    aws_region: str = Field(default="us-east-1", description="Bedrock region.")
    bedrock_model: str | None = Field(
        default=None, description="Bedrock model id or inference-profile ARN; default: mapped from `model`."
    )
    bedrock_inference_profile: str = Field(
        default="us", description="Cross-region inference prefix for mapped Bedrock ids; empty for in-region."
    )
    bedrock_anthropic_version: str = Field(
        default="bedrock-2023-05-31", description="`anthropic_version` sent in Bedrock InvokeModel bodies."
    )
    cache_url: str = Field(
        description="Object store for the response cache: file:///folder or s3://bucket/prefix."
    )
    max_tokens: int = Field(default=16_000, gt=0)
    max_retries: int = Field(default=4, ge=0, description="SDK retries on 429, 5xx/529 and time-outs.")
    timeout_seconds: float = Field(default=300.0, gt=0, description="Per-attempt request time-out.")

    # Shared by every session of this resource: one cache store and one SDK client (connection pool)
    # per run, not one per session (story_builds opens a session per story).
    _shared_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _cache_store: ObjectStore | None = PrivateAttr(default=None)
    _client: Any = PrivateAttr(default=None)  # anthropic.Anthropic | anthropic.AnthropicBedrock

    def cache_store(self) -> ObjectStore:
        with self._shared_lock:
            if self._cache_store is None:
                self._cache_store = object_store_from_url(self.cache_url, region_name=self.aws_region)
            return self._cache_store

    def client(self) -> anthropic.Anthropic | anthropic.AnthropicBedrock:
        with self._shared_lock:
            if self._client is None:
                self._client = self.create_client()
            return self._client

    def effective_model(self) -> str:
        """The model id the provider is called with (and that keys the cache)."""
        if self.provider == "offline":
            return "offline"
        if self.provider == "bedrock":
            return self.bedrock_model or bedrock_model_id(self.model, self.bedrock_inference_profile)
        return self.model

    def create_client(self) -> anthropic.Anthropic | anthropic.AnthropicBedrock:
        """An SDK client for the configured provider (not for `offline`)."""
        import anthropic

        if self.provider == "anthropic":
            if not self.api_key:
                raise ValueError("provider 'anthropic' needs an API key: set ANTHROPIC_API_KEY")
            return anthropic.Anthropic(
                api_key=self.api_key,
                base_url=self.base_url,
                max_retries=self.max_retries,
                timeout=self.timeout_seconds,
            )
        if self.provider == "bedrock":
            return anthropic.AnthropicBedrock(
                aws_region=self.aws_region,
                base_url=self.base_url,
                max_retries=self.max_retries,
                timeout=self.timeout_seconds,
            )
        raise ValueError("the offline provider uses no client")

    def session(self) -> LlmSession:
        return LlmSession(self)


@dataclass
class _Attempt:
    parsed: BaseModel | None
    text: str
    errors: str


class LlmSession:
    """Answers tasks for one run and accounts for them; safe to use from several threads."""

    def __init__(self, resource: LlmResource, store: ObjectStore | None = None):
        self._resource = resource
        self._provider = resource.provider
        self._model = resource.effective_model()
        self._store = store if store is not None else resource.cache_store()
        self._usage = LlmUsage()
        self._usage_lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._key_locks_lock = threading.Lock()
        self._log = dg.get_dagster_logger()

    def __repr__(self) -> str:
        return f"LlmSession(provider={self._provider!r}, model={self._model!r})"

    @property
    def provider(self) -> str:
        return self._provider

    @property
    def model(self) -> str:
        return self._model

    @property
    def usage(self) -> LlmUsage:
        """A snapshot of what this session has used so far."""
        with self._usage_lock:
            return self._usage.model_copy()

    def metadata(self) -> dict[str, dg.MetadataValue]:
        """Calls, cache hits, repairs, tokens and estimated cost, for MaterializeResult metadata."""
        usage = self.usage
        return {
            "llm_provider": dg.MetadataValue.text(self._provider),
            "llm_model": dg.MetadataValue.text(self._model),
            "llm_model_calls": dg.MetadataValue.int(usage.model_calls),
            "llm_cache_hits": dg.MetadataValue.int(usage.cache_hits),
            "llm_repairs": dg.MetadataValue.int(usage.repairs),
            "llm_input_tokens": dg.MetadataValue.int(usage.input_tokens),
            "llm_output_tokens": dg.MetadataValue.int(usage.output_tokens),
            "llm_cache_read_input_tokens": dg.MetadataValue.int(usage.cache_read_input_tokens),
            "llm_cache_creation_input_tokens": dg.MetadataValue.int(usage.cache_creation_input_tokens),
            "llm_estimated_cost_usd": dg.MetadataValue.float(round(usage.cost_usd, 6)),
        }

    # -- running tasks ---------------------------------------------------------------------------

    def run(self, task: LlmTask[OutputT]) -> OutputT:
        """The task's validated answer: from the cache, else from the provider (then cached)."""
        key = cache_key(self._provider, self._model, task)
        # One lock per key: identical tasks running at once cost one call, not several.
        with self._key_lock(key):
            cached = self._read_cache(key, task)
            if cached is not None:
                self._charge(LlmUsage(cache_hits=1))
                return cached
            if self._provider == "offline":
                result = self._run_offline(task)
            else:
                result = self._run_model(task)
            self._write_cache(key, task, result)
            return result

    def forget(self, task: LlmTask[Any]) -> None:
        """Drop the cached answer of `task`: the caller rejected it, so a re-run must ask again."""
        key = cache_key(self._provider, self._model, task)
        with self._key_lock(key):
            try:
                self._store.delete(self.cache_path(key))
            except OSError as error:
                dg.get_dagster_logger().warning(f"could not drop a rejected cached answer: {error}")

    def run_many(self, tasks: Sequence[LlmTask[OutputT]], max_workers: int = 4) -> list[OutputT]:
        """Answers in the order of `tasks`. Every task runs (and is cached) even if one fails;
        then the first failure is raised."""
        if not tasks:
            return []
        with ThreadPoolExecutor(
            max_workers=max(1, min(max_workers, len(tasks))), thread_name_prefix="llm"
        ) as pool:
            futures = [pool.submit(self.run, task) for task in tasks]
            wait(futures)
        failures = [future.exception() for future in futures if future.exception() is not None]
        if failures:
            first = failures[0]
            if len(failures) > 1:
                first.add_note(f"{len(failures)} of {len(tasks)} llm tasks failed")
            raise first
        return [future.result() for future in futures]

    def _run_offline(self, task: LlmTask[OutputT]) -> OutputT:
        if task.offline is None:
            raise LlmTaskError(
                task.name, "the offline provider needs an offline solver and this task has none"
            )
        self._charge(LlmUsage(model_calls=1))
        result = task.offline()
        if not isinstance(result, task.output_model):
            raise LlmTaskError(
                task.name,
                f"offline solver returned {type(result).__name__}, expected {task.output_model.__name__}",
            )
        return result

    def _run_model(self, task: LlmTask[OutputT]) -> OutputT:
        client = self._get_client(task)
        system = system_prompt(task)
        attempt = self._call(client, task, system, first_messages(task))
        if attempt.parsed is not None:
            return attempt.parsed  # type: ignore[return-value]
        self._charge(LlmUsage(repairs=1))
        self._log.warning(f"llm task {task.name!r}: invalid answer, asking once for a repair")
        repaired = self._call(client, task, system, repair_messages(task, attempt.text, attempt.errors))
        if repaired.parsed is not None:
            return repaired.parsed  # type: ignore[return-value]
        raise LlmTaskError(task.name, f"the answer was still invalid after one repair:\n{repaired.errors}")

    def _call(
        self,
        client: anthropic.Anthropic | anthropic.AnthropicBedrock,
        task: LlmTask[Any],
        system: str,
        messages: list[dict[str, Any]],
    ) -> _Attempt:
        extra_body = (
            {"anthropic_version": self._resource.bedrock_anthropic_version}
            if self._provider == "bedrock"
            else None
        )
        import anthropic
        from anthropic.types import Message

        try:
            raw = _raw_parse(client)(
                model=self._model,
                max_tokens=self._resource.max_tokens,
                system=system,
                messages=messages,  # type: ignore[arg-type]
                output_format=task.output_model,
                extra_body=extra_body,
            )
            message = Message.model_validate(raw.json())
        except anthropic.APIStatusError as error:
            raise LlmTaskError(task.name, self._describe_status_error(error)) from None
        except anthropic.APITimeoutError:
            raise LlmTaskError(
                task.name,
                f"the request timed out after {self._resource.timeout_seconds:g} s on each of "
                f"{self._resource.max_retries + 1} attempts",
            ) from None
        except anthropic.APIConnectionError as error:
            raise LlmTaskError(task.name, self._redact(f"could not reach the API: {error}")) from None
        except anthropic.AnthropicError as error:
            raise LlmTaskError(task.name, self._redact(f"{type(error).__name__}: {error}")) from None

        self._charge_message(message)
        if message.stop_reason == "refusal":
            raise LlmTaskError(task.name, "the model refused to answer")
        text = "".join(block.text for block in message.content if block.type == "text")
        try:
            parsed = raw.parse().parsed_output
        except ValidationError as error:
            errors = describe_validation_error(error)
            if message.stop_reason == "max_tokens":
                errors += f"\n- the answer was cut off at max_tokens={self._resource.max_tokens}"
            return _Attempt(None, text, errors)
        if parsed is None:
            return _Attempt(None, text, "- the answer contained no JSON text")
        return _Attempt(parsed, text, "")

    def _get_client(self, task: LlmTask[Any]) -> anthropic.Anthropic | anthropic.AnthropicBedrock:
        try:
            return self._resource.client()
        except ValueError as error:
            raise LlmTaskError(task.name, str(error)) from None

    # -- accounting ------------------------------------------------------------------------------

    def _charge(self, usage: LlmUsage) -> None:
        with self._usage_lock:
            self._usage.add(usage)

    def _charge_message(self, message: Message) -> None:
        usage = message.usage
        cache_write = usage.cache_creation_input_tokens or 0
        cache_read = usage.cache_read_input_tokens or 0
        self._charge(
            LlmUsage(
                model_calls=1,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_creation_input_tokens=cache_write,
                cache_read_input_tokens=cache_read,
                cost_usd=estimate_cost_usd(
                    self._model, usage.input_tokens, usage.output_tokens, cache_write, cache_read
                ),
            )
        )

    def _describe_status_error(self, error: anthropic.APIStatusError) -> str:
        error_type, text = "", error.message
        body = error.body
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error_type = str(body["error"].get("type", ""))
            text = str(body["error"].get("message", text))
        reason = f"API error {error.status_code}"
        if error_type:
            reason += f" ({error_type})"
        reason += f": {text}"
        if error.status_code in (408, 409, 429) or error.status_code >= 500:
            reason += f" (gave up after {self._resource.max_retries} retries)"
        if error.request_id:
            reason += f" [request-id {error.request_id}]"
        return self._redact(reason)

    def _redact(self, text: str) -> str:
        secret = self._resource.api_key
        if secret and secret in text:
            text = text.replace(secret, "[redacted]")
        return text

    # -- response cache --------------------------------------------------------------------------

    def _key_lock(self, key: str) -> threading.Lock:
        with self._key_locks_lock:
            return self._key_locks.setdefault(key, threading.Lock())

    @staticmethod
    def cache_path(key: str) -> str:
        return f"{CACHE_PREFIX}/{key[:2]}/{key}.json"

    def _read_cache(self, key: str, task: LlmTask[OutputT]) -> OutputT | None:
        try:
            raw = self._store.get_bytes(self.cache_path(key))
        except FileNotFoundError:
            return None
        try:
            return task.output_model.model_validate(json.loads(raw)["output"])
        except (ValueError, KeyError, TypeError) as error:
            self._log.warning(
                f"llm cache entry {key} for task {task.name!r} is unreadable, ignoring it: {error}"
            )
            return None

    def _write_cache(self, key: str, task: LlmTask[Any], result: BaseModel) -> None:
        entry = {
            "key": key,
            "task": task.name,
            "version": task.version,
            "provider": self._provider,
            "model": self._model,
            "created_at": datetime.now(UTC).isoformat(),
            "output": result.model_dump(mode="json"),
        }
        try:
            self._store.put_text(self.cache_path(key), json.dumps(entry, ensure_ascii=False, indent=1))
        except Exception as error:  # a cache failure must not lose an answer already paid for
            self._log.warning(f"could not store llm cache entry {key} for task {task.name!r}: {error}")


def _raw_parse(
    client: anthropic.Anthropic | anthropic.AnthropicBedrock,
) -> Callable[..., anthropic.APIResponse[Any]]:
    """`client.messages.parse` returning the raw response, so an answer that fails validation
    (which `parse` raises as a pydantic ValidationError) keeps its text and usage for the repair
    turn and the accounting. The SDK (2.14) has `with_raw_response` for `create` but not for
    `parse`; this is the same wrapper it applies there."""
    from anthropic._response import to_raw_response_wrapper

    return to_raw_response_wrapper(client.messages.parse)
