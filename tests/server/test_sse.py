"""EventStreamResponse: keep-alive comments, deadline, the drain's stop, and the close hook."""

from __future__ import annotations

import asyncio

import httpx
from starlette.applications import Starlette
from starlette.routing import Route

from server.api.sse import KEEPALIVE, EventStreamResponse
from server.ops.drain_stop import DrainStop


def make_app(body_factory, closed: list[str], keepalive: float = 10.0, timeout: float | None = None,
             stop: DrainStop | None = None):
    async def endpoint(request):
        async def on_close():
            closed.append("closed")

        deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
        return EventStreamResponse(body_factory(), on_close, keepalive=keepalive, deadline=deadline, stop=stop)

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


async def test_drain_stop_ends_a_running_stream_with_a_503_error_event_and_done():
    stop = DrainStop()

    async def body():
        yield b"data: 1\n\n"
        asyncio.get_running_loop().call_later(0.1, stop.fire)  # the drain's deadline, mid-stream
        await asyncio.sleep(10)
        yield b"data: never\n\n"

    closed: list[str] = []
    r = await fetch(make_app(body, closed, stop=stop))
    assert r.content.startswith(b"data: 1\n\n")
    assert b"never" not in r.content
    assert b'"type":"service_unavailable"' in r.content and b"shutting down" in r.content
    assert r.content.endswith(b"data: [DONE]\n\n")
    assert closed == ["closed"]


async def test_drain_stop_after_a_stream_ended_adds_nothing():
    stop = DrainStop()

    async def body():
        yield b"data: 1\n\n"

    closed: list[str] = []
    r = await fetch(make_app(body, closed, stop=stop))
    assert stop.fire() == 0  # nothing left registered
    assert r.content == b"data: 1\n\n"
    assert closed == ["closed"]
