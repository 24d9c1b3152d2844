"""Dependencies handlers declare by type."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from server.context import ServerContext


def get_context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def get_request_id(request: Request) -> str:
    return str(request.state.request_id)


Ctx = Annotated[ServerContext, Depends(get_context)]
RequestId = Annotated[str, Depends(get_request_id)]
