"""Opt-in event-loop lag probe (`LFM2_LOOP_LAG_PROBE=1`): how late a short timer fires.

Everything the gateway does for a request (parsing, SSE framing, JSON, detokenizing vLLM's outputs)
runs on one event loop, so any callback that holds the loop delays every stream. The probe sleeps
`INTERVAL` seconds in a loop and records how much later than asked it woke up in the
`lfm2_event_loop_lag_seconds` histogram (served on `/metrics`). Off by default: it wakes the loop 100
times a second, which costs little but is not nothing.

`LoopLagProbe` is an ASGI wrapper so it can start the probe on the server's own loop without the app
knowing; the benchmarks wrap vLLM's own server with it too, to compare both loops the same way.
"""

from __future__ import annotations

import asyncio
import os

from prometheus_client import Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

ENV = "LFM2_LOOP_LAG_PROBE"
INTERVAL = 0.01
LAG = Histogram(
    "lfm2_event_loop_lag_seconds",
    f"How much later than asked a {INTERVAL * 1000:.0f} ms timer on the server's event loop fired.",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
)


def enabled() -> bool:
    return os.environ.get(ENV, "0") not in ("", "0", "false", "no")


async def probe(interval: float = INTERVAL) -> None:
    loop = asyncio.get_running_loop()
    while True:
        asked = loop.time() + interval
        await asyncio.sleep(interval)
        LAG.observe(max(0.0, loop.time() - asked))


class LoopLagProbe:
    """Starts `probe()` on the loop that serves the first ASGI event (the lifespan startup)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(probe())
        await self.app(scope, receive, send)
