"""`/v1/chat/completions` and `/v1/completions`: validate and prepare, then `respond` (admit, start, answer)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.api import completions, intake
from server.api.chat import render as chat_render
from server.api.chat import stream as chat_stream
from server.api.deps import Ctx, Record, RequestId
from server.api.respond import respond, start_timeline
from server.core import chat
from server.wire.protocol import ChatCompletionRequest, CompletionRequest

router = APIRouter(prefix="/v1", tags=["generation"])


@router.post("/chat/completions", summary="Create a chat completion (OpenAI-compatible)")
async def create_chat_completion(body: ChatCompletionRequest, request: Request, ctx: Ctx,
                                 request_id: RequestId, record: Record) -> Response:
    ctx.check_model(body.model)
    engine = ctx.ready_engine()
    validated = time.perf_counter()
    job = await chat.prepare(intake.chat_request(body), ctx, engine, request_id)
    job.record = record
    start_timeline(request, job, validated)
    return await respond(request, ctx, engine, job, body.stream, chat_stream.stream, chat_render.complete)


@router.post("/completions", summary="Create a text completion (OpenAI-compatible)")
async def create_completion(body: CompletionRequest, request: Request, ctx: Ctx,
                            request_id: RequestId, record: Record) -> Response:
    ctx.check_model(body.model)
    engine = ctx.ready_engine()
    job = await completions.prepare(body, ctx, engine, request_id)
    job.record = record
    return await respond(request, ctx, engine, job, body.stream, completions.stream, completions.complete)
