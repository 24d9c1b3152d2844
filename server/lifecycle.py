"""Process lifecycle: graceful drain on SIGTERM, and exit when the engine dies.

SIGTERM (or Ctrl-C) starts a drain instead of uvicorn's immediate stop: `/ready` turns 503 at once,
new generation requests get 503 while the socket stays open (so load balancers see a clean answer, not
a refused connection), in-flight requests get `shutdown_timeout` seconds to finish. Whatever still runs
then is stopped with a 503 error (an error event for a stream, `server.ops.drain_stop`), which aborts its
engine requests, and the server stops. The process then exits 0.
A second signal stops at once.

The port must stay open for the whole drain, however the signal arrives. A signal sent to the whole
process group (Ctrl-C, `kill -- -PGID`) used to reach vLLM's engine core and its worker process too: the
worker exited at once, the engine died under the running streams, and the server stopped about a second
after the signal (the engine watcher polls every `ENGINE_CHECK_INTERVAL`), so load balancers saw
connection refused. vLLM's processes now leave our process group as they start
(`server.engine.vllm_plugin`), so only this process hears the group's signals and the engine runs until
the drain ends. (systemd's default `KillMode=control-group` signals every process of the unit, whatever
its group: use `KillMode=mixed`.)

If the engine dies, the watcher marks the context failed and stops the server; `lfm2-serve` then exits
non-zero so the orchestrator restarts it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from types import FrameType

import uvicorn

from server.core.context import ServerContext
from server.ops import metrics

log = logging.getLogger(__name__)
DRAIN_SIGNALS = (signal.SIGTERM, signal.SIGINT)
ENGINE_CHECK_INTERVAL = 1.0
STOP_GRACE_S = 2.0  # for the stopped requests' error answers to be sent


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ctx: ServerContext) -> None:
        super().__init__(config)
        self.ctx = ctx
        self._drain_task: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.ctx.failed:
            self.should_exit = True  # not recorded as a signal: we exit 1 ourselves, not by SIGTERM
            return
        if sig in DRAIN_SIGNALS and self._drain_task is None and not self.should_exit:
            loop = asyncio.get_running_loop()
            self._drain_task = loop.create_task(self._drain())
            return
        super().handle_exit(sig, frame)

    async def _drain(self) -> None:
        ctx = self.ctx
        ctx.draining = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ctx.settings.shutdown_timeout
        log.info("draining: %d request(s) in flight, up to %.0fs", ctx.admission.in_flight,
                 ctx.settings.shutdown_timeout)
        while ctx.admission.in_flight > 0 and loop.time() < deadline:
            await asyncio.sleep(0.05)
        # The answers are complete, but a slow reader may not have received them yet: stopping now
        # would drop what is still buffered for it. Its data gets the rest of the window.
        while self.unsent_bytes() and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if ctx.admission.in_flight:
            # Stop what still runs and tell each client why (a 503 error event or answer), then give
            # those last bytes a moment to leave before the server closes the connections.
            log.warning("drain timeout: stopping %d request(s)", ctx.drain_stop.fire())
            grace = loop.time() + STOP_GRACE_S
            while (ctx.admission.in_flight or self.unsent_bytes()) and loop.time() < grace:
                await asyncio.sleep(0.05)
        self.should_exit = True

    def unsent_bytes(self) -> int:
        """Bytes the server's connections have buffered and not yet handed to the kernel."""
        total = 0
        for connection in self.server_state.connections:
            transport = getattr(connection, "transport", None)
            if transport is not None:
                total += transport.get_write_buffer_size()
        return total


async def watch_engine(ctx: ServerContext) -> None:
    """Poll the engine's health flag; on death, mark the context failed and stop the server."""
    while True:
        await asyncio.sleep(ENGINE_CHECK_INTERVAL)
        engine = ctx.engine
        if engine is not None and engine.dead:
            log.error("the inference engine died; stopping so the orchestrator restarts us")
            metrics.ENGINE_HEALTHY.set(0)
            ctx.failed = True
            signal.raise_signal(signal.SIGTERM)
            return
