"""The gateway's errors, each knowing its HTTP status and OpenAI error type.

    APIError
    ├── InvalidRequest      400 invalid_request_error
    ├── Unauthorized        401 authentication_error
    ├── ModelNotFound       404 invalid_request_error (code model_not_found)
    ├── NotFound            404 invalid_request_error (an unknown or expired stored object)
    ├── PayloadTooLarge     413 invalid_request_error
    ├── Overloaded          429 rate_limit_exceeded (Retry-After)
    ├── Unavailable         503 service_unavailable (engine not ready, draining, dead; Retry-After)
    ├── Timeout             504 timeout
    └── InternalError       500 internal_error

Services raise these; `error_body` renders one as OpenAI's JSON body and `error_event` as the SSE event
sent when a stream has already started. Nothing else builds error JSON.
"""

from __future__ import annotations

from typing import Any

import orjson


class APIError(Exception):
    status = 500
    type = "internal_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code

    @property
    def headers(self) -> dict[str, str]:
        return {}


class InvalidRequest(APIError):
    status = 400
    type = "invalid_request_error"


class Unauthorized(APIError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class ModelNotFound(APIError):
    status = 404
    type = "invalid_request_error"
    code = "model_not_found"


class NotFound(APIError):
    status = 404
    type = "invalid_request_error"


class PayloadTooLarge(APIError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class _RetryAfter(APIError):
    """An error the client should retry after `retry_after` seconds (sent as `Retry-After`)."""

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Overloaded(_RetryAfter):
    status = 429
    type = "rate_limit_exceeded"
    code = "too_many_requests"


class Unavailable(_RetryAfter):
    """Loading, draining or a dead engine: answered with `Retry-After`, so clients and load balancers
    retry (here once loaded, or on another replica) instead of counting a failure."""

    status = 503
    type = "service_unavailable"


class Timeout(APIError):
    status = 504
    type = "timeout"
    code = "request_timeout"


class InternalError(APIError):
    status = 500
    type = "internal_error"


def error_body(error: APIError) -> dict[str, Any]:
    return {"error": {"message": error.message, "type": error.type, "param": error.param, "code": error.code}}


def error_event(error: APIError) -> bytes:
    """The SSE event for an error after the stream has started (clients see it before `[DONE]`)."""
    return b"event: error\ndata: " + orjson.dumps(error_body(error)) + b"\n\n"
