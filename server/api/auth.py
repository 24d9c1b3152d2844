"""API-key authentication for every route except an explicit public list.

It is ASGI middleware rather than a per-route dependency so that a route added later is protected
without anyone remembering to: the default is closed. Keys are compared in constant time, against all
configured keys every time. CORS preflights (`OPTIONS` with an Origin) pass, since browsers never send
credentials on them; the CORS middleware outside this one answers them.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from server.errors import Unauthorized, error_body
from server.ops import metrics

ALWAYS_PUBLIC = frozenset({"/health", "/ready"})


class APIKeyMiddleware:
    def __init__(self, app: ASGIApp, keys: Iterable[str], public: Iterable[str]) -> None:
        self.app = app
        self.keys = [k.encode() for k in keys]
        self.public = frozenset(public) | ALWAYS_PUBLIC

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or scope["path"] in self.public or _preflight(scope):
            await self.app(scope, receive, send)
            return
        if self._authorized(scope):
            await self.app(scope, receive, send)
            return
        metrics.REJECTED.labels("unauthorized").inc()
        body = orjson.dumps(error_body(Unauthorized(
            "Missing or invalid API key: send it as 'Authorization: Bearer <key>'.")))
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b"Bearer")]})
        await send({"type": "http.response.body", "body": body})

    def _authorized(self, scope: Scope) -> bool:
        token = b""
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() != b"bearer":
                    token = b""
                token = token.strip()
        ok = False
        for key in self.keys:  # no early exit: the time taken does not depend on which key matched
            ok |= hmac.compare_digest(token, key)
        return ok and bool(token)


def _preflight(scope: Scope) -> bool:
    if scope["method"] != "OPTIONS":
        return False
    names = {name for name, _ in scope.get("headers", ())}
    return b"origin" in names and b"access-control-request-method" in names
