"""Cancels work for a client that has gone away before its response started."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import Request

from server.errors import Timeout, Unavailable
from server.ops import metrics
from server.ops.drain_stop import SHUTTING_DOWN, DrainStop

T = TypeVar("T")


class ClientDisconnected(Exception):
    """The client closed the connection; nobody is left to answer."""


async def unless_disconnected(request: Request, work: Awaitable[T], deadline: float | None = None,
                              stop: DrainStop | None = None) -> T:
    """Await `work`, cancelling it (and so aborting its engine request) if the client disconnects,
    the deadline (event-loop time) passes, or the drain's deadline stops it (`stop`) first."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnect(request))
    timeout = None if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())
    stopped = False

    def stop_now() -> None:
        nonlocal stopped
        stopped = task.cancel()

    try:
        with stop.during(stop_now) if stop else contextlib.nullcontext():
            done, _ = await asyncio.wait({task, watcher}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        watcher.cancel()
    if task in done and not stopped:
        return task.result()
    task.cancel()
    with contextlib.suppress(BaseException):  # how the abandoned work ends is of no interest
        await task
    if stopped:
        raise Unavailable(SHUTTING_DOWN)
    if watcher in done:
        metrics.STREAM_DISCONNECTS.inc()
        raise ClientDisconnected
    raise Timeout("The request took longer than the server's request timeout.")


async def _disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass
