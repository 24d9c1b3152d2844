"""The one admission, deadline and disconnect path every generation route answers through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from server.api import sse
from server.api.disconnect import ClientDisconnected, unless_disconnected
from server.api.sse import EventStreamResponse
from server.core.context import ServerContext
from server.core.generation import Generation
from server.engine.interface import Engine
from server.errors import APIError

CLIENT_CLOSED = 499


async def respond(
    request: Request,
    ctx: ServerContext,
    engine: Engine,
    job: Any,
    stream: bool,
    streamer: Callable[[Any, Generation], AsyncIterator[bytes]],
    completer: Callable[[Any, Generation], Awaitable[dict[str, Any]]],
    error_frames: Callable[[APIError], bytes] = sse.error_frames,
) -> Response:
    """Admit the job (429 at once when full), start it (engine errors become HTTP errors before any
    byte), then answer JSON or an event stream under the deadline; `error_frames` renders a failure
    after the stream started in the API's own event format."""
    timeout = ctx.settings.request_timeout
    deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
    mark = getattr(job, "mark", None)  # jobs with a timeline (chat, responses)
    async with ctx.admission.admit() as permit:
        if mark:
            mark("admitted")
        try:
            generation = await unless_disconnected(
                request, Generation.start(engine, job.prompt_ids, job.params, job.request_id), deadline,
                ctx.drain_stop)
            if mark:
                mark("first_output")
            if not stream:
                payload = await unless_disconnected(request, completer(job, generation), deadline, ctx.drain_stop)
                return Response(orjson.dumps(payload), media_type="application/json")
        except ClientDisconnected:
            job.record["disconnected"] = True
            return Response(status_code=CLIENT_CLOSED)
        permit.keep()

        async def on_close() -> None:
            try:
                await generation.aclose()
            finally:
                permit.release_kept()

        return EventStreamResponse(streamer(job, generation), on_close,
                                   keepalive=ctx.settings.keepalive_interval, deadline=deadline,
                                   error_frames=error_frames, stop=ctx.drain_stop)


def start_timeline(request: Request, job: Any, validated: float) -> None:
    """Count the job's timeline (and its time to first token) from the request's arrival over HTTP,
    and note when it was validated and when its prompt was rendered (the request's log line)."""
    arrival = getattr(request.state, "arrival", None)
    if arrival is not None:
        job.arrival = arrival
    job.record["timeline_ms"] = {"validated": round(1000 * (validated - job.arrival), 1)}
    job.mark("rendered")
