"""`/v1/chat/completions` and `/v1/completions`: validate, admit, start, then answer JSON or SSE."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from server import chat, chat_stream, completions
from server.admission import Permit
from server.disconnect import ClientDisconnected, unless_disconnected
from server.generation import Generation
from server.protocol import ChatCompletionRequest, CompletionRequest
from server.routes.deps import Ctx, RequestId
from server.sse import EventStreamResponse

router = APIRouter(prefix="/v1", tags=["generation"])
CLIENT_CLOSED = 499


@router.post("/chat/completions", summary="Create a chat completion (OpenAI-compatible)")
async def create_chat_completion(body: ChatCompletionRequest, request: Request, ctx: Ctx,
                                 request_id: RequestId) -> Response:
    ctx.check_model(body.model)
    engine = ctx.ready_engine()
    job = chat.prepare(body, ctx, engine, request_id)
    return await _answer(request, ctx.admission.admit(), engine, job, body.stream,
                         chat_stream.stream, chat.complete)


@router.post("/completions", summary="Create a text completion (OpenAI-compatible)")
async def create_completion(body: CompletionRequest, request: Request, ctx: Ctx,
                            request_id: RequestId) -> Response:
    ctx.check_model(body.model)
    engine = ctx.ready_engine()
    job = completions.prepare(body, ctx, engine, request_id)
    return await _answer(request, ctx.admission.admit(), engine, job, body.stream,
                         completions.stream, completions.complete)


async def _answer(
    request: Request,
    permit: Permit,
    engine: Any,
    job: Any,
    stream: bool,
    streamer: Callable[[Any, Generation], AsyncIterator[bytes]],
    completer: Callable[[Any, Generation], Awaitable[dict[str, Any]]],
) -> Response:
    async with permit:
        try:
            generation = await unless_disconnected(
                request, Generation.start(engine, job.prompt_ids, job.params, job.request_id))
            if not stream:
                payload = await unless_disconnected(request, completer(job, generation))
                return Response(orjson.dumps(payload), media_type="application/json")
        except ClientDisconnected:
            return Response(status_code=CLIENT_CLOSED)
        permit.keep()

        async def on_close() -> None:
            await generation.aclose()
            permit.release_kept()

        return EventStreamResponse(streamer(job, generation), on_close)
