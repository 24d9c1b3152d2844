"""The app factory: `create_app(settings, engine_factory)` builds the FastAPI app and its lifespan.

The engine loads in the background after the server starts listening, so `/health` answers at once
and `/ready` says 503 until the model is loaded. Tests pass a factory that returns a fake engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.api.auth import APIKeyMiddleware
from server.api.body_limit import BodyLimitMiddleware
from server.api.middleware import RequestContextMiddleware
from server.api.responses.store import ResponseStore
from server.api.routes import generate, models, ops, responses, tokenize
from server.api.validation import validation_error
from server.core.context import ServerContext, fingerprint
from server.core.sampling import SamplingDefaults
from server.engine.interface import Engine
from server.errors import APIError, InternalError, error_body
from server.lifecycle import watch_engine
from server.ops import metrics
from server.ops.admission import Admission
from server.settings import Settings
from server.wire.protocol import ErrorResponse

log = logging.getLogger(__name__)
EngineFactory = Callable[[], Engine]


def create_app(settings: Settings, engine_factory: EngineFactory, model_path: str | None = None) -> FastAPI:
    ctx = ServerContext(
        settings=settings,
        model_path=model_path,
        defaults=SamplingDefaults(settings.default_temperature, settings.default_min_p,
                                  settings.default_repetition_penalty, settings.default_max_tokens),
        admission=Admission(settings.max_concurrent_requests),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loader = asyncio.create_task(_load(ctx, engine_factory))
        watcher = asyncio.create_task(watch_engine(ctx))
        try:
            yield
        finally:
            loader.cancel()
            watcher.cancel()
            if ctx.engine is not None:
                ctx.engine.shutdown()

    app = FastAPI(
        title="LFM2 gateway",
        summary="OpenAI-compatible API for Liquid AI's LFM2 models on vLLM",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.state.responses = ResponseStore(settings.response_store_items, int(settings.response_store_mib * 2**20),
                                        settings.response_store_ttl)
    app.include_router(generate.router, responses={**_STREAMED, **_errors(400, 401, 404, 413, 429, 503, 504)})
    app.include_router(responses.router, responses={**_STREAMED, **_errors(400, 401, 404, 413, 429, 503, 504)})
    app.include_router(models.router, responses=_errors(401, 404))
    app.include_router(tokenize.router, responses=_errors(400, 401, 404, 413, 503))
    app.include_router(ops.router)
    _document_400_not_422(app)
    _install_error_handlers(app)
    # Outermost last: request id and access log see everything, auth runs before any handler.
    public = ["/metrics"] if settings.metrics_public else []
    app.add_middleware(APIKeyMiddleware, keys=settings.api_keys(), public=public)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
                           allow_headers=["*"], expose_headers=["X-Request-Id"])
    app.add_middleware(RequestContextMiddleware, model=settings.model_name)
    return app


_ERROR_DESCRIPTIONS = {
    400: "Invalid request (names the field in `param`)",
    401: "Missing or wrong API key",
    404: "Unknown model, or an unknown or expired stored response",
    413: "Request body over the size limit",
    429: "Too many requests in flight (see Retry-After)",
    503: "The engine is loading, draining or has stopped",
    504: "The request ran past its deadline",
}


_STREAMED: dict[int | str, dict[str, Any]] = {
    200: {"description": "JSON, or with `stream: true` server-sent events ending in `data: [DONE]`",
          "content": {"text/event-stream": {}}},
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorResponse, "description": _ERROR_DESCRIPTIONS[s]} for s in statuses}


def _document_400_not_422(app: FastAPI) -> None:
    """FastAPI documents a 422 on every route with a body; this app answers invalid requests with OpenAI's 400."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _load(ctx: ServerContext, factory: EngineFactory) -> None:
    try:
        engine = await asyncio.to_thread(factory)
    except Exception:
        log.exception("the engine failed to load; shutting down")
        metrics.ENGINE_HEALTHY.set(0)
        ctx.failed = True
        signal.raise_signal(signal.SIGTERM)
        return
    freeze_startup_heap()
    ctx.system_fingerprint = fingerprint(ctx.settings.model, engine.dtype)
    ctx.engine = engine
    metrics.ENGINE_HEALTHY.set(1)
    metrics.MODEL_INFO.info({
        "model": ctx.model_name,
        "source": ctx.settings.model,
        "max_model_len": str(engine.max_model_len),
        "dtype": engine.dtype,
    })
    log.info("engine ready: %s (max_model_len %d)", ctx.model_name, engine.max_model_len)


def freeze_startup_heap() -> None:
    """Move what start-up allocated (torch, vLLM, the tokenizer: millions of objects) out of the garbage
    collector's reach, as vLLM's own server does. Otherwise every full collection walks all of it and
    holds the event loop, and so every stream, for up to a second under load."""
    gc.collect()
    gc.freeze()


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def api_error(_: Request, exc: APIError) -> Response:
        if exc.status >= 500:
            log.warning("%s: %s", type(exc).__name__, exc.message)
        return JSONResponse(error_body(exc), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> Response:
        return JSONResponse(error_body(validation_error(exc.errors())), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        error = APIError(str(exc.detail))
        error.status = exc.status_code
        error.type = "invalid_request_error" if exc.status_code < 500 else "internal_error"
        error.code = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}.get(exc.status_code)
        return JSONResponse(error_body(error), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> Response:
        log.exception("unhandled error")
        return JSONResponse(error_body(InternalError("The server failed on this request.")), status_code=500)
