"""Dependencies handlers declare by type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from server.api.responses.store import ResponseStore
from server.core.context import ServerContext


def get_context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def get_request_id(request: Request) -> str:
    return str(request.state.request_id)


Ctx = Annotated[ServerContext, Depends(get_context)]
RequestId = Annotated[str, Depends(get_request_id)]


def get_record(request: Request) -> dict[str, object]:
    record: dict[str, object] = request.state.record
    return record


Record = Annotated[dict[str, object], Depends(get_record)]


def get_store(request: Request) -> ResponseStore:
    store: ResponseStore = request.app.state.responses
    return store


Store = Annotated[ResponseStore, Depends(get_store)]
