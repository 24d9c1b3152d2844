"""The app factory: `create_app(settings, engine_factory)` builds the FastAPI app and its lifespan.

The engine loads in the background after the server starts listening, so `/health` answers at once
and `/ready` says 503 until the model is loaded. Tests pass a factory that returns a fake engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from server import metrics
from server.admission import Admission
from server.auth import APIKeyMiddleware
from server.body_limit import BodyLimitMiddleware
from server.context import ServerContext
from server.engine import Engine
from server.errors import APIError, InternalError, InvalidRequest, error_body
from server.lifecycle import watch_engine
from server.middleware import RequestContextMiddleware
from server.routes import generate, models, ops, tokenize
from server.sampling import SamplingDefaults
from server.settings import Settings

log = logging.getLogger(__name__)
EngineFactory = Callable[[], Engine]


def create_app(settings: Settings, engine_factory: EngineFactory) -> FastAPI:
    ctx = ServerContext(
        settings=settings,
        defaults=SamplingDefaults(settings.default_temperature, settings.default_min_p,
                                  settings.default_repetition_penalty),
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
    for router in (generate.router, models.router, tokenize.router, ops.router):
        app.include_router(router)
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


async def _load(ctx: ServerContext, factory: EngineFactory) -> None:
    try:
        engine = await asyncio.to_thread(factory)
    except Exception:
        log.exception("the engine failed to load; shutting down")
        metrics.ENGINE_HEALTHY.set(0)
        ctx.failed = True
        signal.raise_signal(signal.SIGTERM)
        return
    ctx.engine = engine
    metrics.ENGINE_HEALTHY.set(1)
    metrics.MODEL_INFO.info({
        "model": ctx.model_name,
        "source": ctx.settings.model,
        "max_model_len": str(engine.max_model_len),
        "dtype": engine.dtype,
    })
    log.info("engine ready: %s (max_model_len %d)", ctx.model_name, engine.max_model_len)


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


def validation_error(errors: Any) -> InvalidRequest:
    """pydantic's first complaint as one OpenAI error, naming the field."""
    first = next(iter(errors), None) or {}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    if first.get("type") == "json_invalid":
        return InvalidRequest("The request body is not valid JSON.", code="invalid_json")
    where = ".".join(loc)
    message = str(first.get("msg", "invalid request"))
    if first.get("type") == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {loc[-1] if loc else where}"
    elif where:
        message = f"{where}: {message}"
    return InvalidRequest(message, param=where or None)
