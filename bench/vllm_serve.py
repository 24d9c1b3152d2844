"""`python -m vllm.entrypoints.openai.api_server ARGS`, with the gateway's event-loop lag probe added.

The benchmarks run vLLM's own server through this so both servers' loops are measured the same way
(`lfm2_event_loop_lag_seconds` on `/metrics`, when `LFM2_LOOP_LAG_PROBE=1`). Nothing else changes
(`servers.py` starts it with `LFM2_ENGINE_SPIN_S=1`, so our plugin keeps vLLM's own queue spin).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    from vllm.entrypoints.launchers.api_server import entry

    from server.ops import loop_lag

    if loop_lag.enabled():
        build_app = entry.build_app

        def build_app_with_probe(*args: Any, **kwargs: Any) -> Any:
            app = build_app(*args, **kwargs)
            lifespan = app.router.lifespan_context

            @contextlib.asynccontextmanager
            async def probed(app_: Any) -> AsyncIterator[Any]:
                task = asyncio.get_running_loop().create_task(loop_lag.probe())
                try:
                    async with lifespan(app_) as state:
                        yield state
                finally:
                    task.cancel()

            app.router.lifespan_context = probed
            return app

        entry.build_app = build_app_with_probe  # type: ignore[assignment]
    entry.main()


if __name__ == "__main__":
    main()
