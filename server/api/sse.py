"""Server-sent events framing, in one place: data frames, the `[DONE]` sentinel, error events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from server.errors import APIError, Timeout, Unavailable, error_event
from server.ops import metrics
from server.ops.drain_stop import SHUTTING_DOWN, DrainStop

DONE = b"data: [DONE]\n\n"
KEEPALIVE = b": keep-alive\n\n"
MEDIA_TYPE = "text/event-stream"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_DELTA_SUFFIX = b',"logprobs":null,"finish_reason":null}]'


def frame(payload: Any) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def error_frames(error: APIError) -> bytes:
    """What a stream ends with when it fails after it started: an error event, then `[DONE]`."""
    return error_event(error) + DONE


class ChunkFramer:
    """Frames `chat.completion.chunk` / `text_completion` events with a prefix built once per request.

    `delta(i, d)` gives the same bytes as `choices([{"index": i, "delta": d, "logprobs": None,
    "finish_reason": None}])` but serializes only `d`: the rest of the event is built once per choice
    index. It is the per-token path. `head` adds fields every event carries (`system_fingerprint`, ...);
    with `usage_null` every event but `usage()`'s carries `"usage": null`, as OpenAI's stream does when
    `stream_options.include_usage` is set.
    """

    __slots__ = ("_delta_prefix", "_delta_suffix", "_end", "_prefix")

    def __init__(self, id_: str, obj: str, created: int, model: str, head: dict[str, Any] | None = None,
                 *, usage_null: bool = False) -> None:
        fields = orjson.dumps({"id": id_, "object": obj, "created": created, "model": model, **(head or {})})
        self._prefix = b"data: " + fields[:-1] + b',"choices":'
        self._end = b',"usage":null}\n\n' if usage_null else b"}\n\n"
        self._delta_suffix = _DELTA_SUFFIX + self._end
        self._delta_prefix: list[bytes] = []

    def choices(self, choices: list[dict[str, Any]]) -> bytes:
        return self._prefix + orjson.dumps(choices) + self._end

    def delta(self, index: int, delta: dict[str, Any]) -> bytes:
        prefixes = self._delta_prefix
        while len(prefixes) <= index:
            prefixes.append(self._prefix + b'[{"index":' + str(len(prefixes)).encode() + b',"delta":')
        return prefixes[index] + orjson.dumps(delta) + self._delta_suffix

    def usage(self, usage: dict[str, Any]) -> bytes:
        return self._prefix + b'[],"usage":' + orjson.dumps(usage) + b"}\n\n"


class EventStreamResponse(Response):
    """An SSE response with keep-alive comments, a deadline, and a close hook that always runs.

    The body is pumped in its own task while this one watches three things: the client going away
    (the pump is cancelled, which aborts the engine request), silence longer than `keepalive` (a comment
    line keeps proxies from closing the connection), and the deadline (the pump is cancelled and the
    stream ends with a timeout error event and `[DONE]`). If the server's drain reaches its own
    deadline first (`stop`), the stream ends the same way with a 503 error event. `on_close` runs
    however the response ends, even if the body never started.
    """

    media_type = MEDIA_TYPE

    def __init__(self, body: AsyncIterator[bytes], on_close: Callable[[], Awaitable[None]], *,
                 keepalive: float = 15.0, deadline: float | None = None,
                 error_frames: Callable[[APIError], bytes] = error_frames, stop: DrainStop | None = None) -> None:
        super().__init__(headers=HEADERS, media_type=MEDIA_TYPE)
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self._body = body
        self._on_close = on_close
        self._keepalive = keepalive
        self._deadline = deadline
        self._error_frames = error_frames
        self._stop = stop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if await self._run(receive, send) == "disconnected":
                scope.get("state", {}).get("record", {})["disconnected"] = True
        except OSError:  # the connection broke under us: nobody is left to tell
            pass
        finally:
            await self._on_close()

    async def _run(self, receive: Receive, send: Send) -> str:
        loop = asyncio.get_running_loop()
        last_write = loop.time()

        # No lock between the pump and keep-alive writes: the server writes each message to the socket
        # whole before it awaits anything, so frames never interleave, and order between a keep-alive
        # comment and a data frame does not matter. One lock round trip per chunk was measurable.
        async def write(data: bytes) -> None:
            nonlocal last_write
            await send({"type": "http.response.body", "body": data, "more_body": True})
            last_write = loop.time()

        async def pump() -> None:
            async for chunk in self._body:
                await write(chunk)

        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        pumping = asyncio.ensure_future(pump())
        listening = asyncio.ensure_future(_wait_disconnect(receive))
        timed_out = stopped = False

        def stop_now() -> None:
            nonlocal stopped
            stopped = pumping.cancel()  # False if the body had already ended

        try:
            with self._stop.during(stop_now) if self._stop else contextlib.nullcontext():
                while not pumping.done():
                    wake = last_write + self._keepalive
                    if self._deadline is not None:
                        wake = min(wake, self._deadline)
                    done, _ = await asyncio.wait({pumping, listening}, timeout=max(0.0, wake - loop.time()),
                                                 return_when=asyncio.FIRST_COMPLETED)
                    if listening in done:  # client gone
                        metrics.STREAM_DISCONNECTS.inc()
                        await _cancel(pumping)
                        return "disconnected"
                    if pumping in done:
                        break
                    if self._deadline is not None and loop.time() >= self._deadline:
                        timed_out = True
                        await _cancel(pumping)
                        break
                    if loop.time() - last_write >= self._keepalive:
                        await write(KEEPALIVE)
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
        finally:
            listening.cancel()
            await _cancel(pumping)
        if timed_out:
            await write(self._error_frames(Timeout("The request took longer than the server's request timeout.")))
        elif stopped:
            await write(self._error_frames(Unavailable(SHUTTING_DOWN)))
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return "timed_out" if timed_out else "stopped" if stopped else "done"


async def _cancel(task: asyncio.Future[None]) -> None:
    """Cancel the body pump and wait until it has unwound, so its generators can be closed after."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
