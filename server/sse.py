"""Server-sent events framing, in one place: data frames, the `[DONE]` sentinel, error events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from server.errors import APIError, error_event

DONE = b"data: [DONE]\n\n"
KEEPALIVE = b": keep-alive\n\n"
MEDIA_TYPE = "text/event-stream"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def frame(payload: Any) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def error_frames(error: APIError) -> bytes:
    """What a stream ends with when it fails after it started: an error event, then `[DONE]`."""
    return error_event(error) + DONE


class ChunkFramer:
    """Frames `chat.completion.chunk` / `text_completion` events with a prefix built once per request."""

    __slots__ = ("_prefix",)

    def __init__(self, id_: str, obj: str, created: int, model: str) -> None:
        head = orjson.dumps({"id": id_, "object": obj, "created": created, "model": model})
        self._prefix = b"data: " + head[:-1] + b',"choices":'

    def choices(self, choices: list[dict[str, Any]]) -> bytes:
        return self._prefix + orjson.dumps(choices) + b"}\n\n"

    def usage(self, usage: dict[str, int]) -> bytes:
        return self._prefix + b'[],"usage":' + orjson.dumps(usage) + b"}\n\n"


class EventStreamResponse(StreamingResponse):
    """An SSE response that runs `on_close` however it ends, even if the body never started."""

    def __init__(self, body: AsyncIterator[bytes], on_close: Callable[[], Awaitable[None]]) -> None:
        super().__init__(body, media_type=MEDIA_TYPE, headers=HEADERS)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._on_close()
