"""Faults on the real engine: a storm of disconnects, and an engine that dies."""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import psutil
import pytest

from tests.conftest import start_gateway, stop_gateway

pytestmark = pytest.mark.engine

MESSAGES = [{"role": "user", "content": "hi"}]


def test_disconnect_storm_leaves_nothing_running(gateway):
    body = {"messages": MESSAGES, "max_tokens": 2000, "min_tokens": 2000, "ignore_eos": True, "stream": True}

    async def hang_up(client: httpx.AsyncClient, wait_for_chunk: bool) -> None:
        async with client.stream("POST", "/v1/chat/completions", json=body) as r:
            if wait_for_chunk:
                async for _ in r.aiter_lines():
                    break

    async def storm() -> None:
        async with httpx.AsyncClient(base_url=gateway.base_url, timeout=60) as client:
            for _ in range(10):  # 100 disconnects, ten at a time, half of them before the first token
                tasks = [hang_up(client, i % 2 == 0) for i in range(10)]
                await asyncio.gather(*tasks)
            # clients that give up while their request is still queued
            for _ in range(5):
                task = asyncio.create_task(client.post("/v1/chat/completions", json={**body, "stream": False}))
                await asyncio.sleep(0.05)
                task.cancel()

    disconnects = gateway.metric("lfm2_stream_disconnects_total")
    asyncio.run(storm())
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (gateway.metric("vllm:num_requests_running")
                                           + gateway.metric("vllm:num_requests_waiting")) > 0:
        time.sleep(0.5)
    assert gateway.metric("vllm:num_requests_running") == 0
    assert gateway.metric("vllm:num_requests_waiting") == 0
    assert gateway.metric("lfm2_requests_in_flight") == 0
    assert gateway.metric("lfm2_stream_disconnects_total") > disconnects
    r = httpx.post(gateway.api + "/chat/completions", json={"messages": MESSAGES, "max_tokens": 3}, timeout=60)
    assert r.status_code == 200


def test_engine_death_fails_health_and_exits_non_zero():
    gw = start_gateway([], name="doomed")
    try:
        engine_core = [p for p in psutil.Process(gw.process.pid).children(recursive=True)
                       if "EngineCore" in " ".join(p.cmdline()) or "EngineCore" in p.name()]
        if not engine_core:  # the engine core's process title is set by vLLM; fall back to any child
            engine_core = psutil.Process(gw.process.pid).children(recursive=True)
        for p in engine_core:
            p.send_signal(signal.SIGKILL)
        seen = []
        deadline = time.monotonic() + 60
        while gw.process.poll() is None and time.monotonic() < deadline:
            try:
                seen.append(httpx.get(gw.base_url + "/health", timeout=2).status_code)
            except httpx.HTTPError:
                seen.append(None)
            time.sleep(0.1)
        assert gw.process.poll() is not None, "the gateway kept running with a dead engine"
        assert gw.process.returncode != 0
        assert 200 not in seen[3:], f"/health said ok after the engine died: {seen}"
    finally:
        stop_gateway(gw)
