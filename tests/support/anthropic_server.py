"""A local HTTP server that speaks the Anthropic Messages API, scripted per test.

It answers `POST /v1/messages` (the Anthropic API) and `POST /model/<id>/invoke` (the Bedrock
InvokeModel route the SDK's `AnthropicBedrock` client uses) from a queue of scripted responses,
and records every request (path, headers, JSON body). When the queue is empty it asks an optional
`responder(request)` callable, else it answers 400 so a test that under-scripts fails loudly
instead of hanging in retries.

Answers have the shape the real API returns: a `message` whose content is one text block; for
structured outputs that text is the JSON document, which the SDK's `messages.parse` validates
against the `output_format` model.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pipeline_core.settings import Settings
    from resources.llm import LlmResource


@dataclass
class RecordedRequest:
    """One request as the server received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def user_texts(self) -> list[str]:
        """Texts of every text block of every user turn, in order."""
        return _texts(self.body, "user")

    @property
    def assistant_texts(self) -> list[str]:
        return _texts(self.body, "assistant")


def _texts(body: dict[str, Any], role: str) -> list[str]:
    out: list[str] = []
    for message in body.get("messages", []):
        if message.get("role") != role:
            continue
        content = message.get("content")
        if isinstance(content, str):
            out.append(content)
        else:
            out.extend(block["text"] for block in content if block.get("type") == "text")
    return out


@dataclass
class ScriptedResponse:
    """What the server answers to one request. `delay` makes it wait first (client time-outs)."""

    status: int = 200
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def message_body(
    text: str,
    *,
    model: str = "claude-sonnet-4-6",
    usage: dict[str, int] | None = None,
    stop_reason: str = "end_turn",
) -> dict[str, Any]:
    """A Messages API response carrying one text block."""
    full_usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "service_tier": "standard",
    }
    full_usage.update(usage or {})
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": full_usage,
    }


def error_body(error_type: str, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": f"req_{uuid.uuid4().hex[:24]}",
    }


Responder = Callable[[RecordedRequest], ScriptedResponse]


class AnthropicServer:
    """The server, its request log and its response script."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.responder: Responder | None = None
        self.max_in_flight = 0
        self._in_flight = 0
        self._queue: deque[ScriptedResponse] = deque()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="anthropic-server",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def llm(self, cache_dir: Path, max_retries: int = 0) -> LlmResource:
        """An Anthropic llm resource talking to this server with a test key, caching in `cache_dir`."""
        from resources.llm import LlmResource

        return LlmResource(
            provider="anthropic",
            api_key="sk-test",
            base_url=self.base_url,
            cache_url=cache_dir.as_uri(),
            max_retries=max_retries,
        )

    def pipeline_settings(self, data_dir: Path) -> Settings:
        """A code location's settings on `data_dir` whose model is this server (no retries) and whose
        forge is local; the key is read from ANTHROPIC_API_KEY, which the test sets."""
        from pipeline_core.settings import Settings

        return Settings(
            pipeline_data_dir=data_dir,
            pipeline_llm_provider="anthropic",
            anthropic_base_url=self.base_url,
            pipeline_llm_max_retries=0,
            pipeline_forge="local",
        )

    def start(self) -> AnthropicServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- scripting -------------------------------------------------------------------------------

    def enqueue(
        self,
        status: int = 200,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        with self._lock:
            self._queue.append(ScriptedResponse(status=status, body=body, headers=headers or {}, delay=delay))

    def enqueue_text_answer(
        self,
        text: str,
        usage: dict[str, int] | None = None,
        stop_reason: str = "end_turn",
        delay: float = 0.0,
    ) -> None:
        """An answer whose single text block is `text` (for structured outputs: the JSON)."""
        self.enqueue(200, message_body(text, usage=usage, stop_reason=stop_reason), delay=delay)

    def enqueue_json_answer(self, obj: Any, usage: dict[str, int] | None = None, delay: float = 0.0) -> None:
        """A structured-output answer: `obj` serialised as the text block's JSON."""
        if hasattr(obj, "model_dump_json"):
            text = obj.model_dump_json()
        else:
            text = json.dumps(obj)
        self.enqueue_text_answer(text, usage=usage, delay=delay)

    def enqueue_error(
        self, status: int, error_type: str, message: str = "scripted error", retry_after: str | None = "0.01"
    ) -> None:
        """An API error as the real API sends it; `retry-after` (seconds) is honoured by the SDK."""
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        self.enqueue(status, error_body(error_type, message), headers=headers)

    def enqueue_timeout(self, seconds: float) -> None:
        """Hold the answer for `seconds` (longer than the client's time-out), then send a 200 nobody reads."""
        self.enqueue(200, message_body("{}"), delay=seconds)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    # -- serving ---------------------------------------------------------------------------------

    def _next(self, request: RecordedRequest) -> ScriptedResponse:
        problem = _check(request)
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            if problem is not None:
                return ScriptedResponse(400, error_body("invalid_request_error", problem))
            scripted = self._queue.popleft() if self._queue else None
        if scripted is None and self.responder is not None:
            scripted = self.responder(request)
        if scripted is None:
            scripted = ScriptedResponse(
                400, error_body("invalid_request_error", "anthropic_server: no scripted response left")
            )
        return scripted

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1


def _check(request: RecordedRequest) -> str | None:
    """The contract checks the real endpoints make, as far as these tests depend on them."""
    body = request.body
    if request.path == "/v1/messages":
        if not request.headers.get("x-api-key") and not request.headers.get("authorization"):
            return "missing x-api-key header"
        if not request.headers.get("anthropic-version"):
            return "missing anthropic-version header"
        if not isinstance(body.get("model"), str):
            return "model: field required"
    elif request.path.startswith("/model/") and request.path.endswith("/invoke"):
        if not request.headers.get("authorization"):
            return "missing Authorization header (SigV4)"
        if "model" in body:
            return "model must be in the path, not the body"
        if not body.get("anthropic_version"):
            return "anthropic_version: field required"
    else:
        return f"unknown path {request.path}"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or messages[0].get("role") != "user":
        return "messages: a non-empty list starting with a user turn is required"
    fmt = (body.get("output_config") or {}).get("format")
    if fmt is not None and (fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict)):
        return "output_config.format: expected {type: json_schema, schema: {...}}"
    return None


def _make_handler(server: AnthropicServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                body = {"_unparseable": raw.decode("utf-8", "replace")}
            request = RecordedRequest(
                method="POST",
                path=self.path,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=body,
            )
            scripted = server._next(request)
            try:
                if scripted.status == 200 and scripted.body is not None and "model" in request.body:
                    scripted.body = {**scripted.body, "model": request.body["model"]}
                if scripted.delay:
                    time.sleep(scripted.delay)
                payload = json.dumps(scripted.body if scripted.body is not None else {}).encode("utf-8")
                self.send_response(scripted.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.send_header("request-id", f"req_{uuid.uuid4().hex[:24]}")
                for name, value in scripted.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (time-out test)
            finally:
                server._done()

    return Handler


@pytest.fixture
def anthropic_server() -> Iterator[AnthropicServer]:
    """A started server on 127.0.0.1 (free port), stopped after the test."""
    server = AnthropicServer().start()
    try:
        yield server
    finally:
        server.stop()
