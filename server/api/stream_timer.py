"""Per stream: time to first token and the gaps between chunks for a route's metrics, and the
request's timeline marks (first byte, first token, first call). Chat and Responses streams share it."""

from __future__ import annotations

from typing import Any

from server.ops import metrics


class StreamTimer:
    __slots__ = ("_itl", "_job", "_last", "_ttft")

    def __init__(self, job: Any, route: str) -> None:
        self._job = job
        self._ttft = metrics.TIME_TO_FIRST_TOKEN.labels(route)
        self._itl = metrics.INTER_TOKEN_LATENCY.labels(route)
        self._last: float | None = None

    def wrote(self, now: float) -> None:
        """Bytes are about to go out."""
        if self._last is None:
            self._job.mark("first_byte", now)

    def decoded(self, now: float, deltas: list[dict[str, Any]], calls: bool) -> None:
        """The decoder gave `deltas` (not empty) at `now`; `calls`: tool calls are parsed."""
        job = self._job
        if self._last is None:
            self._ttft.observe(now - job.arrival)
            job.record["ttft_s"] = round(now - job.arrival, 4)
            job.mark("first_token", now)
        else:
            self._itl.observe(now - self._last)
        self._last = now
        if calls and any("tool_calls" in d for d in deltas):
            job.mark("first_call", now)
