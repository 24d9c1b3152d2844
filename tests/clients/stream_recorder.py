"""A pytest plugin: every chat completion and Responses stream the suite reads is checked against `contract.py`.

It wraps the HTTP transports of httpx and httpx2 (what openai-python and LangChain use), so every
test that streams from `/chat/completions` or `/responses` with tools on, through any of those clients, is checked
without doing anything. A test whose streams break the contract fails at teardown with the reason;
streams read only in part (a client that hung up) are not judged. Streams from other processes (the
Node.js clients) are fed to `record()` by their test.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.clients.contract import TERMINAL, is_responses_stream, responses_events, sse_chunks, tools_on, violation


@dataclass
class Log:
    checked: int = 0
    with_calls: int = 0
    violations: list[str] = field(default_factory=list)


LOG = Log()


def record(request: dict[str, Any], body: str) -> None:
    """Check one finished stream (request JSON and SSE body) and log the result."""
    problem = violation(request, body)
    if problem is not None:
        LOG.violations.append(problem)
    if is_responses_stream(body):
        events = responses_events(body)
        if events and events[-1]["type"] in TERMINAL and request.get("tools"):
            LOG.checked += 1
            LOG.with_calls += any(e["type"] == "response.function_call_arguments.delta" for e in events)
        return
    chunks, done = sse_chunks(body)
    if done and tools_on(request):
        LOG.checked += 1
        if any((c.get("delta") or {}).get("tool_calls") for chunk in chunks for c in chunk.get("choices") or ()):
            LOG.with_calls += 1


def _request_json(request: Any) -> dict[str, Any] | None:
    path = str(request.url.path)
    if request.method != "POST" or not path.endswith(("/chat/completions", "/responses")):
        return None
    try:
        body = json.loads(request.content or b"{}")
    except (ValueError, RuntimeError):  # RuntimeError: a streaming request body
        return None
    return body if isinstance(body, dict) and body.get("stream") else None


class _Tee:
    """Passes a response body through, keeping a copy; records it when the body is closed."""

    def __init__(self, stream: Any, request: dict[str, Any]) -> None:
        self._stream = stream
        self._request = request
        self._parts: list[bytes] = []
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        for part in self._stream:
            self._parts.append(part)
            yield part

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            self._parts.append(part)
            yield part

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            record(self._request, b"".join(self._parts).decode("utf-8", "replace"))

    def close(self) -> None:
        self._finish()
        self._stream.close()

    async def aclose(self) -> None:
        self._finish()
        await self._stream.aclose()


def _wrap(module: Any) -> list[tuple[Any, str, Any]]:
    # The clients check the stream's type, so the tee is a byte stream of the module it wraps.
    tee = type("Tee", (_Tee, module.SyncByteStream, module.AsyncByteStream), {})
    patched = []
    for cls_name, method in (("HTTPTransport", "handle_request"), ("AsyncHTTPTransport", "handle_async_request")):
        cls = getattr(module, cls_name)
        original = getattr(cls, method)
        if method == "handle_request":
            def handle(self: Any, request: Any, _original: Any = original) -> Any:
                return _tee(tee, request, _original(self, request))
        else:
            async def handle(self: Any, request: Any, _original: Any = original) -> Any:
                return _tee(tee, request, await _original(self, request))
        setattr(cls, method, handle)
        patched.append((cls, method, original))
    return patched


def _tee(tee: type[_Tee], request: Any, response: Any) -> Any:
    body = _request_json(request)
    if body is not None and "text/event-stream" in response.headers.get("content-type", ""):
        response.stream = tee(response.stream, body)
    return response


@pytest.fixture(scope="session", autouse=True)
def _record_streams() -> Iterator[None]:
    patched = []
    for name in ("httpx", "httpx2"):
        try:
            patched += _wrap(importlib.import_module(name))
        except ImportError:
            continue
    yield
    for cls, method, original in patched:
        setattr(cls, method, original)


@pytest.fixture(autouse=True)
def _streams_keep_the_contract() -> Iterator[None]:
    before = len(LOG.violations)
    yield
    new = LOG.violations[before:]
    assert not new, "tool-call stream contract broken:\n" + "\n".join(new)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if LOG.checked:
        terminalreporter.write_line(
            f"tool-call stream contract: {LOG.checked} streams with tools checked, {LOG.with_calls} with calls, "
            f"{len(LOG.violations)} violations")
