"""On a CPU the engine must rest between requests: vLLM's queue readers would spin for a second after
every message (server/engine/vllm_plugin.py caps that at 20 ms)."""

from __future__ import annotations

import contextlib
import time

import psutil
import pytest

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
