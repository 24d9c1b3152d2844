"""Dependencies handlers declare by type. All async: FastAPI runs a sync dependency in its thread pool,
a thread hop per request for what is an attribute read."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from server.api.responses.store import ResponseStore
from server.core.context import ServerContext


async def get_context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


async def get_request_id(request: Request) -> str:
    return str(request.state.request_id)


Ctx = Annotated[ServerContext, Depends(get_context)]
RequestId = Annotated[str, Depends(get_request_id)]


async def get_record(request: Request) -> dict[str, object]:
    record: dict[str, object] = request.state.record
    return record


Record = Annotated[dict[str, object], Depends(get_record)]


async def get_store(request: Request) -> ResponseStore:
    store: ResponseStore = request.app.state.responses
    return store


Store = Annotated[ResponseStore, Depends(get_store)]
