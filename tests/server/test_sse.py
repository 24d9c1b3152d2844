"""EventStreamResponse: keep-alive comments, deadline, and the close hook."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from server.api.sse import KEEPALIVE, EventStreamResponse


def make_app(body_factory, closed: list[str], keepalive: float = 10.0, timeout: float | None = None):
    async def endpoint(request):
        async def on_close():
            closed.append("closed")

        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        return EventStreamResponse(body_factory(), on_close, keepalive=keepalive, deadline=deadline)

    return Starlette(routes=[Route("/", endpoint)])


async def fetch(app) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/")


async def test_keepalive_comment_during_silence():
    async def body():
        yield b"data: 1\n\n"
        await asyncio.sleep(0.35)
        yield b"data: 2\n\n"

    closed: list[str] = []
    r = await fetch(make_app(body, closed, keepalive=0.1))
    assert r.headers["content-type"].startswith("text/event-stream")
    assert "content-length" not in r.headers
    assert r.content.startswith(b"data: 1\n\n")
    assert KEEPALIVE in r.content
    assert r.content.endswith(b"data: 2\n\n")
    assert closed == ["closed"]


async def test_deadline_ends_with_error_event_and_done():
    async def body():
        yield b"data: 1\n\n"
        await asyncio.sleep(10)
        yield b"data: never\n\n"

    closed: list[str] = []
    r = await fetch(make_app(body, closed, timeout=0.2))
    assert b"never" not in r.content
    assert b"event: error\ndata: {\"error\"" in r.content
    assert b'"type":"timeout"' in r.content
    assert r.content.endswith(b"data: [DONE]\n\n")
    assert closed == ["closed"]
