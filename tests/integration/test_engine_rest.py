"""On a CPU the engine must rest when it waits: vLLM's queue readers would spin for a second after every
message, so the engine core would spin through every decode step and for a second after each request
(server/engine/vllm_plugin.py makes them nap)."""

from __future__ import annotations

import contextlib
import threading
import time

import httpx
import psutil
import pytest

from server.ops import cpu_tuning
from tests.conftest import engine_core_processes, start_gateway, stop_gateway

pytestmark = pytest.mark.engine


def _engine_cpu_seconds(pid: int) -> float:
    total = 0.0
    for child in psutil.Process(pid).children(recursive=True):  # the engine core and its worker
        with contextlib.suppress(psutil.Error):
            total += sum(child.cpu_times()[:2])
    return total


def test_idle_engine_uses_no_cpu_right_after_a_request(gateway, client):
    from vllm.platforms import current_platform

    if gateway.process is None or not current_platform.is_cpu():
        pytest.skip("needs the gateway's own process on a CPU build")
    client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "Hi."}], max_tokens=4)
    time.sleep(0.3)  # OpenMP's own spin-wait after the last step (KMP_BLOCKTIME, 200 ms) ends
    before = _engine_cpu_seconds(gateway.process.pid)
    time.sleep(1.0)  # with vLLM's 1 s spin, the worker would burn most of this second
    used = _engine_cpu_seconds(gateway.process.pid) - before
    assert used < 0.3, f"the idle engine used {used:.2f} s of CPU in 1 s"


def test_engine_core_rests_while_its_worker_decodes():
    """The worker bound to core 0, the engine core has core 1 to itself: spinning, it would use all of it
    through a long decode (0.96 of a core measured), napping about a fifth, and the core stays free for
    the HTTP side and the clients."""
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        pytest.skip("the readers nap on CPU builds only")
    gw = start_gateway([], name="rest", env={cpu_tuning.BIND: "0"})
    try:
        engine_core = engine_core_processes(gw)
        assert len(engine_core) == 1, engine_core
        first_bytes = threading.Event()
        body = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3000, "min_tokens": 3000,
                "ignore_eos": True, "stream": True}

        def stream() -> None:
            with httpx.stream("POST", gw.api + "/chat/completions", json=body, timeout=300) as r:
                for _ in r.iter_bytes():
                    first_bytes.set()

        reader = threading.Thread(target=stream, daemon=True)
        reader.start()
        assert first_bytes.wait(120)
        time.sleep(0.5)
        before, started = sum(engine_core[0].cpu_times()[:2]), time.monotonic()
        time.sleep(2.0)
        used, wall = sum(engine_core[0].cpu_times()[:2]) - before, time.monotonic() - started
        assert reader.is_alive(), "the stream ended before the measurement did: make it longer"
        assert used < 0.5 * wall, f"the engine core used {used:.2f} s of CPU in {wall:.2f} s of decoding"
    finally:
        stop_gateway(gw)
