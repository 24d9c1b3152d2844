"""`/v1/responses`: create (JSON or typed events), and the stored responses: get, input items, delete."""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.api.deps import Ctx, Record, RequestId, Store
from server.api.respond import respond, start_timeline
from server.api.responses import render
from server.api.responses import stream as responses_stream
from server.api.responses.store import StoredResponse
from server.errors import InvalidRequest, NotFound
from server.wire.responses import ResponsesRequest

router = APIRouter(prefix="/v1", tags=["responses"])


@router.post("/responses", summary="Create a model response (OpenAI Responses API)")
async def create_response(body: ResponsesRequest, request: Request, ctx: Ctx, request_id: RequestId,
                          record: Record, store: Store) -> Response:
    ctx.check_model(body.model)
    engine = ctx.ready_engine()
    validated = time.perf_counter()
    job = await render.prepare(body, ctx, engine, request_id, store)
    job.record = record
    start_timeline(request, job, validated)
    writer = responses_stream.EventWriter(job)
    return await respond(request, ctx, engine, job, body.stream,
                         lambda j, g: responses_stream.stream(j, g, writer), render.complete,
                         error_frames=writer.failed)


@router.get("/responses/{response_id}", summary="Retrieve a stored response")
async def get_response(response_id: str, store: Store,
                       stream: bool = Query(False, description="Not supported: always false")) -> dict[str, Any]:
    if stream:
        raise InvalidRequest("Streaming a stored response is not supported by this server.", param="stream")
    return _stored(store, response_id).response


@router.get("/responses/{response_id}/input_items", summary="List a stored response's input items")
async def list_input_items(
    response_id: str,
    store: Store,
    limit: int = Query(20, ge=1, le=100),
    order: Literal["asc", "desc"] = Query("desc"),
    after: str | None = Query(None),
) -> dict[str, Any]:
    items = list(_stored(store, response_id).input_items)
    if order == "desc":
        items.reverse()
    if after is not None:
        ids = [item.get("id") for item in items]
        if after not in ids:
            raise InvalidRequest(f"No input item with id '{after}' in this response.", param="after")
        items = items[ids.index(after) + 1:]
    page = items[:limit]
    return {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None, "has_more": len(items) > limit}


@router.delete("/responses/{response_id}", summary="Delete a stored response")
async def delete_response(response_id: str, store: Store) -> dict[str, Any]:
    if not store.delete(response_id):
        raise _not_found(response_id)
    return {"id": response_id, "object": "response", "deleted": True}


@router.post("/responses/{response_id}/cancel", summary="Cancel a background response (none run here)")
async def cancel_response(response_id: str, store: Store) -> dict[str, Any]:
    _stored(store, response_id)
    raise InvalidRequest("Only background responses can be cancelled, and this server runs none.",
                         param="response_id")


def _stored(store: Any, response_id: str) -> StoredResponse:
    entry: StoredResponse | None = store.get(response_id)
    if entry is None:
        raise _not_found(response_id)
    return entry


def _not_found(response_id: str) -> NotFound:
    return NotFound(f"Response with id '{response_id}' not found.", param="response_id")
