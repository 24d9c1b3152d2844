"""One ASGI middleware around every request: request id, access metrics, one JSON log line.

The log line carries the request id, route, status, model, duration, and what the services recorded in
`request.state.record` (prompt and completion tokens, time to first token, tool-call outcomes, whether
the client disconnected). It never carries prompts, answers or keys.

`X-Request-Id` is taken from the request (or generated), exposed to handlers as
`request.state.request_id`, used as the engine's request id, and returned on the response.
Pure ASGI rather than `BaseHTTPMiddleware`, so streaming responses pass through untouched.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.ops import metrics

log = logging.getLogger("lfm2.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, model: str) -> None:
        self.app = app
        self.model = model

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        record: dict[str, object] = {}  # services add tokens, TTFT, tool outcomes; logged at the end
        state = scope.setdefault("state", {})
        started = time.perf_counter()
        state["request_id"] = request_id
        state["record"] = record
        state["arrival"] = started  # the request's timeline counts from here
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            metrics.REQUESTS.labels(route, self.model, str(status)).inc()
            metrics.REQUEST_LATENCY.labels(route).observe(elapsed)
            log.info("request", extra={"request_id": request_id, "route": route, "method": scope["method"],
                                       "status": status, "model": self.model,
                                       "duration_s": round(elapsed, 4), **record})


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = str(value.decode("latin-1"))
            if _VALID_ID.match(text):
                return text
    return uuid.uuid4().hex
