"""Makes the random-weight tiny model write an exact text, through vLLM structured outputs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx


def force(text: str) -> dict[str, Any]:
    """`extra_body` that forces the answer to be exactly `text`."""
    return {"structured_outputs": {"regex": re.escape(text)}}


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


class ForcingTransport(httpx.AsyncBaseTransport):
    """An httpx transport that forces each request's answer, chosen from its JSON body by `choose`
    (None: leave it free), for clients that cannot pass `extra_body` per call (agent frameworks)."""

    def __init__(self, choose: Callable[[dict[str, Any]], str | None]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._choose = choose

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.content:
            body = json.loads(request.content)
            text = self._choose(body)
            if text is not None:
                headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"content-length"]
                request = httpx.Request(request.method, request.url, headers=headers, json={**body, **force(text)},
                                        extensions=request.extensions)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
