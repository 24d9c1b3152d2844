"""Once the engine is loaded, the start-up heap is frozen, so full collections never walk it."""

from __future__ import annotations

import gc
import time
from types import SimpleNamespace

from fastapi.testclient import TestClient

from server.app import create_app
from server.settings import Settings


def test_start_up_heap_is_frozen_once_the_engine_is_ready():
    gc.unfreeze()
    async def check_health() -> None:
        return None

    engine = SimpleNamespace(max_model_len=128, dtype="float32", check_health=check_health, shutdown=lambda: None)
    app = create_app(Settings(model="tiny"), lambda: engine)  # type: ignore[arg-type,return-value]
    try:
        with TestClient(app) as client:
            deadline = time.monotonic() + 30
            while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert client.get("/ready").status_code == 200
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
