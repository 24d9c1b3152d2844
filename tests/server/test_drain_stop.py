"""The drain's stop on work that has not started streaming: a 503 with Retry-After, not a dropped connection."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from server.api.disconnect import unless_disconnected
from server.errors import Unavailable
from server.ops.drain_stop import DrainStop


def connected_request() -> Request:
    async def receive():  # a client that stays connected
        await asyncio.sleep(3600)

    return Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)


async def test_stop_turns_running_work_into_a_503_and_cancels_it():
    stop = DrainStop()
    cancelled = asyncio.Event()

    async def work():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    asyncio.get_running_loop().call_later(0.05, stop.fire)
    with pytest.raises(Unavailable) as raised:
        await unless_disconnected(connected_request(), work(), stop=stop)
    assert raised.value.status == 503 and "shutting down" in raised.value.message
    assert cancelled.is_set()
    assert stop.fire() == 0  # unregistered once it returned


async def test_work_that_ends_first_is_answered_as_usual():
    stop = DrainStop()

    async def work():
        return "answer"

    assert await unless_disconnected(connected_request(), work(), stop=stop) == "answer"
    assert stop.fire() == 0
