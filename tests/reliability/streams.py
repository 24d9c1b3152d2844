"""A streamed chat request that tells the test when its first bytes arrived (shared by the drain tests)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


async def stream_text(client: httpx.AsyncClient, body: dict[str, Any], started: asyncio.Event,
                      path: str = "/v1/chat/completions") -> str:
    """POST a streamed request (chat unless `path` says otherwise), assert 200, set `started` at the
    first bytes, return all the text."""
    async with client.stream("POST", path, json=body) as r:
        assert r.status_code == 200
        chunks = []
        async for chunk in r.aiter_text():
            chunks.append(chunk)
            started.set()
        return "".join(chunks)
