"""`GET /v1/models` and `GET /v1/models/{id}`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.api.deps import Ctx
from server.core.context import model_card

router = APIRouter(prefix="/v1", tags=["models"])


@router.get("/models", summary="List the served model")
async def list_models(ctx: Ctx) -> dict[str, Any]:
    return {"object": "list", "data": [model_card(ctx)]}


@router.get("/models/{model_id:path}", summary="Describe the served model")
async def get_model(model_id: str, ctx: Ctx) -> dict[str, Any]:
    ctx.check_model(model_id)
    return model_card(ctx)
