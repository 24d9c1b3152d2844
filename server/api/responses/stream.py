"""Streams a Responses job as OpenAI's typed events (`event: <type>` + `data: {...}`), numbered.

`response.created` and `response.in_progress` first; then, per engine step, the output builder's
events (item added, content part added, text / reasoning / call-argument deltas, done events); then
`response.completed` (or `response.incomplete` when cut by `max_output_tokens`) with the whole
response, which is stored first when `store` asks. A failure after the stream started, a deadline
included, ends it with `response.failed` carrying the error. No `[DONE]`: OpenAI sends none here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from server.api.responses.render import ResponseJob, keep, response_object, usage
from server.api.stream_timer import StreamTimer
from server.core import chat
from server.core.generation import Generation
from server.errors import APIError, InternalError

log = logging.getLogger(__name__)
ROUTE = "/v1/responses"


class EventWriter:
    """Frames events with increasing sequence numbers; also frames the failure event for a deadline."""

    __slots__ = ("_job", "_output", "_seq")

    def __init__(self, job: ResponseJob) -> None:
        self._job = job
        self._seq = 0
        self._output: list[dict[str, Any]] = []

    def frame(self, event: dict[str, Any]) -> bytes:
        event["sequence_number"] = self._seq
        self._seq += 1
        kind: str = event["type"]
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"

    def frames(self, events: list[dict[str, Any]]) -> bytes:
        return b"".join(self.frame(e) for e in events)

    def failed(self, error: APIError, output: list[dict[str, Any]] | None = None) -> bytes:
        body = {"code": error.code or error.type, "message": error.message}
        response = response_object(self._job, output if output is not None else self._output, None,
                                   status="failed", error=body)
        return self.frame({"type": "response.failed", "response": response})

    def track(self, output: list[dict[str, Any]]) -> None:
        self._output = output


async def stream(job: ResponseJob, generation: Generation, writer: EventWriter) -> AsyncIterator[bytes]:
    builder = job.builder()
    writer.track(builder.items)
    decoder = job.chat.decoder()
    skeleton = response_object(job, [], None, status="in_progress")
    prompt_tokens, completion_tokens, cached = len(job.prompt_ids), 0, 0
    parse_seconds = 0.0
    finish: str | None = None
    timer = StreamTimer(job, ROUTE)
    try:
        timer.wrote(time.perf_counter())
        yield writer.frames([{"type": "response.created", "response": skeleton},
                             {"type": "response.in_progress", "response": skeleton}])
        async for step in generation:
            prompt_tokens = step.num_prompt_tokens
            cached = max(cached, step.num_cached_tokens)
            for c in step.choices:
                completion_tokens += c.num_tokens
                t0 = time.perf_counter()
                deltas = decoder.feed(c.text)
                if c.finish_reason is not None:
                    deltas += decoder.close()
                    finish = c.finish_reason
                events = builder.feed(deltas, decoder.failed_calls)
                if c.finish_reason is not None:
                    events += builder.finish(incomplete=finish == "length", failed=decoder.failed_calls)
                now = time.perf_counter()
                parse_seconds += now - t0
                if events:
                    yield writer.frames(events)
                if deltas:
                    timer.decoded(now, deltas, job.chat.parse_tools)
        chat.observe_tool_parse(job.chat, decoder, parse_seconds)
        chat.count_tokens(job.chat, prompt_tokens, completion_tokens)
        thought = await chat.reasoning_tokens(job.chat, [decoder], completion_tokens)
        response = response_object(job, builder.items, usage(prompt_tokens, completion_tokens, cached, thought),
                                   finish)
        keep(job, response)
        kind = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
        yield writer.frame({"type": kind, "response": response})
    except APIError as exc:
        yield writer.failed(exc, builder.items)
    except Exception:
        log.exception("responses stream %s failed", job.request_id)
        yield writer.failed(InternalError("The server failed while streaming this response."), builder.items)
    finally:
        await generation.aclose()
