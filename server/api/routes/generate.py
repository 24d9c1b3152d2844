"""`/v1/chat/completions` and `/v1/completions`: validate, admit, start, then answer JSON or SSE."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.api import completions
from server.api.chat import render as chat_render
from server.api.chat import stream as chat_stream
from server.api.deps import Ctx, Record, RequestId
from server.api.disconnect import ClientDisconnected, unless_disconnected
from server.api.sse import EventStreamResponse
from server.core import chat
from server.core.context import ServerContext
from server.core.generation import Generation
from server.engine.interface import Engine
from server.wire.protocol import ChatCompletionRequest, CompletionRequest

router = APIRouter(prefix="/v1", tags=["generation"])
CLIENT_CLOSED = 499


@router.post("/chat/completions", summary="Create a chat completion (OpenAI-compatible)")
async def create_chat_completion(body: ChatCompletionRequest, request: Request, ctx: Ctx,
                                 request_id: RequestId, record: Record) -> Response:
    ctx.check_model(body.model)
    engine = ctx.ready_engine()
    arrival = getattr(request.state, "arrival", None)
    validated = time.perf_counter()
    job = await chat.prepare(body, ctx, engine, request_id)
    job.record = record
    if arrival is not None:
        job.arrival = arrival
    record["timeline_ms"] = {"validated": round(1000 * (validated - job.arrival), 1)}
    job.mark("rendered")
    return await _answer(request, ctx, engine, job, body.stream, chat_stream.stream, chat_render.complete)


@router.post("/completions", summary="Create a text completion (OpenAI-compatible)")
async def create_completion(body: CompletionRequest, request: Request, ctx: Ctx,
                            request_id: RequestId, record: Record) -> Response:
    ctx.check_model(body.model)
    engine = ctx.ready_engine()
    job = await completions.prepare(body, ctx, engine, request_id)
    job.record = record
    return await _answer(request, ctx, engine, job, body.stream, completions.stream, completions.complete)


async def _answer(
    request: Request,
    ctx: ServerContext,
    engine: Engine,
    job: Any,
    stream: bool,
    streamer: Callable[[Any, Generation], AsyncIterator[bytes]],
    completer: Callable[[Any, Generation], Awaitable[dict[str, Any]]],
) -> Response:
    timeout = ctx.settings.request_timeout
    deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
    async with ctx.admission.admit() as permit:
        mark = getattr(job, "mark", None)
        if mark:
            mark("admitted")
        try:
            generation = await unless_disconnected(
                request, Generation.start(engine, job.prompt_ids, job.params, job.request_id), deadline)
            if mark:
                mark("first_output")
            if not stream:
                payload = await unless_disconnected(request, completer(job, generation), deadline)
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
                                   keepalive=ctx.settings.keepalive_interval, deadline=deadline)
