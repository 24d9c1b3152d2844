"""loop_lag: the opt-in probe records how late the loop runs a timer."""

from __future__ import annotations

import asyncio
import time

import pytest
from prometheus_client import REGISTRY

from server.ops import loop_lag


def lag_count() -> float:
    return REGISTRY.get_sample_value("lfm2_event_loop_lag_seconds_count") or 0.0


def lag_bucket(le: str) -> float:
    return REGISTRY.get_sample_value("lfm2_event_loop_lag_seconds_bucket", {"le": le}) or 0.0


async def test_a_blocked_loop_shows_as_lag():
    slow_before = lag_count() - lag_bucket("0.02")
    task = asyncio.get_running_loop().create_task(loop_lag.probe(0.005))
    await asyncio.sleep(0.02)
    time.sleep(0.06)  # hold the loop, as a slow callback would
    await asyncio.sleep(0.02)
    task.cancel()
    assert lag_count() - lag_bucket("0.02") > slow_before


async def test_wrapper_starts_one_probe_and_passes_everything_through():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope["type"])

    wrapped = loop_lag.LoopLagProbe(app)
    await wrapped({"type": "lifespan"}, None, None)
    task = wrapped._task
    await wrapped({"type": "http"}, None, None)
    assert seen == ["lifespan", "http"]
    assert wrapped._task is task and task is not None and not task.done()
    task.cancel()


@pytest.mark.parametrize(("value", "on"), [("1", True), ("yes", True), ("0", False), ("", False)])
def test_enabled_by_env(monkeypatch, value, on):
    monkeypatch.setenv(loop_lag.ENV, value)
    assert loop_lag.enabled() is on
