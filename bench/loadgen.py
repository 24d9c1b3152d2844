"""A closed-loop streaming load generator: `concurrency` clients, each sending its next request when its
last answer ended, until `requests` answers are in. aiohttp (lighter per chunk than httpx, which
matters when the client shares two cores with the servers); SSE lines parsed with orjson.

Per request it records the time to the first chunk that carries text or a tool-call fragment (TTFT),
the time to the first tool-call fragment (vLLM's parser often leaks a piece of the call marker as
content first, which would flatter its TTFT on a tool load),
the gaps between consecutive such chunks (inter-token latency; one chunk is one engine step for
both servers), the completion tokens from `usage`, and the tool calls it read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson


@dataclass
class Result:
    ok: bool
    index: int = -1  # which request of the run (results come back in completion order)
    ttft: float | None = None
    ttfc: float | None = None  # time to the first tool-call fragment
    gaps: list[float] = field(default_factory=list)
    completion_tokens: int = 0
    content: str = ""
    calls: dict[int, dict[str, str]] = field(default_factory=dict)  # index -> name, arguments
    error: str = ""


@dataclass
class Run:
    results: list[Result]
    wall: float

    @property
    def ok(self) -> list[Result]:
        return [r for r in self.results if r.ok]


async def _one(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Result:
    started = time.perf_counter()
    result = Result(ok=False)
    last: float | None = None
    try:
        async with session.post(url, json=body) as resp:
            if resp.status != 200:
                result.error = f"HTTP {resp.status}: {(await resp.text())[:200]}"
                return result
            async for line in resp.content:
                if not line.startswith(b"data: "):
                    continue
                data = line[6:].strip()
                if data == b"[DONE]":
                    result.ok = True
                    break
                event = orjson.loads(data)
                if "error" in event:
                    result.error = str(event["error"])[:200]
                    break
                if event.get("usage"):
                    result.completion_tokens = int(event["usage"]["completion_tokens"])
                if _read_choices(event.get("choices") or (), result):
                    now = time.perf_counter()
                    if result.ttfc is None and result.calls:
                        result.ttfc = now - started
                    if last is None:
                        result.ttft = now - started
                    else:
                        result.gaps.append(now - last)
                    last = now
    except (TimeoutError, aiohttp.ClientError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def _read_choices(choices: Any, result: Result) -> bool:
    """Fold the choices' deltas into `result`; True when any carried generated text."""
    carried = False
    for choice in choices:
        delta = choice.get("delta") or {}
        text = delta.get("content")
        if text:
            result.content += text
            carried = True
        if delta.get("reasoning_content"):
            carried = True
        for fragment in delta.get("tool_calls") or ():
            carried = True
            call = result.calls.setdefault(int(fragment.get("index", 0)), {"name": "", "arguments": ""})
            fn = fragment.get("function") or {}
            call["name"] += fn.get("name") or ""
            call["arguments"] += fn.get("arguments") or ""
    return carried


async def run(url: str, make_body: Callable[[int], dict[str, Any]], *, concurrency: int, requests: int,
              timeout: float = 1800) -> Run:
    """Send `requests` requests (body i from `make_body(i)`) with `concurrency` in flight."""
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    results: list[Result] = []
    next_index = 0

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal next_index
        while next_index < requests:
            i = next_index
            next_index += 1
            result = await _one(session, url, make_body(i))
            result.index = i
            results.append(result)

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(min(concurrency, requests))))
        wall = time.perf_counter() - started
    return Run(results, wall)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


async def health_probe(base: str, stop: asyncio.Event, seen: list[float], every: float = 0.1) -> None:
    """Ask `base/health` every `every` seconds until `stop` is set, appending each answer's time to
    `seen`: how responsive the server stays under the load running beside it."""
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            started = time.perf_counter()
            async with session.get(base + "/health") as response:
                await response.read()
            seen.append(time.perf_counter() - started)
            await asyncio.sleep(every)
