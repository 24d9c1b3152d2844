"""A Responses job, and a finished one as OpenAI's `response` object (the non-streaming answer).

`prepare` translates the request (`translate.py`), lets the shared chat core build its `ChatJob`
(prompt, sampling, tool-choice grammar), and keeps what the response echoes. `response_object` is the
one place the response object is shaped, for the JSON answer, every stream event that carries it, and
the store.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from server.api import intake
from server.api.responses.items import OutputBuilder
from server.api.responses.store import ResponseStore
from server.api.responses.translate import Translation, output_messages, translate
from server.core import chat
from server.core.chat import ChatJob
from server.core.context import ServerContext
from server.core.generation import Generation, collect
from server.engine.interface import Engine, GenerationParams
from server.errors import InvalidRequest
from server.wire.responses import FunctionTool, ResponsesRequest


def new_id(prefix: str) -> str:
    return f"{prefix}_{os.urandom(12).hex()}"


@dataclass
class ResponseJob:
    id: str
    chat: ChatJob
    translation: Translation
    history: list[dict[str, Any]]  # the stored conversation this one continues
    echo: dict[str, Any]  # request settings the response object repeats
    store: ResponseStore | None  # None: not stored (store false, or the store is off)
    created_at: int = field(default_factory=lambda: int(time.time()))

    # What the shared admission/generation path reads from a job.
    @property
    def prompt_ids(self) -> list[int]:
        return self.chat.prompt_ids

    @property
    def params(self) -> GenerationParams:
        return self.chat.params

    @property
    def request_id(self) -> str:
        return self.chat.request_id

    @property
    def record(self) -> dict[str, Any]:
        return self.chat.record

    @record.setter
    def record(self, value: dict[str, Any]) -> None:
        self.chat.record = value

    @property
    def arrival(self) -> float:
        return self.chat.arrival

    @arrival.setter
    def arrival(self, value: float) -> None:
        self.chat.arrival = value

    def mark(self, stage: str, at: float | None = None) -> None:
        self.chat.mark(stage, at)

    def builder(self) -> OutputBuilder:
        return OutputBuilder(new_id, self.translation.namespaces)


async def prepare(req: ResponsesRequest, ctx: ServerContext, engine: Engine, request_id: str,
                  store: ResponseStore) -> ResponseJob:
    history: list[dict[str, Any]] = []
    if req.previous_response_id is not None:
        previous = store.get(req.previous_response_id) if store.max_items else None
        if previous is None:
            raise InvalidRequest(f"Previous response with id '{req.previous_response_id}' not found.",
                                 param="previous_response_id", code="previous_response_not_found")
        history = previous.history
    translation = translate(req, history, new_id, store.output_item)
    keep = req.store and store.max_items > 0
    if keep and not store.fits(_size(history) + _size(translation.input_items)):
        raise InvalidRequest("This conversation is larger than the whole response store: send store: false "
                             "(and the history in input), or raise LFM2_RESPONSE_STORE_MIB.", param="store",
                             code="response_store_full")
    job = await chat.prepare(intake.chat_request(translation.chat), ctx, engine, request_id)
    if translation.ignored_tools:
        job.record["ignored_tools"] = sorted(set(translation.ignored_tools))
    return ResponseJob(new_id("resp"), job, translation, history, _echo(req, job), store if keep else None)


async def complete(job: ResponseJob, generation: Generation) -> dict[str, Any]:
    done = await collect(generation, 1, len(job.prompt_ids))
    (text,), (finish,) = done.texts, done.finish
    decoder, deltas = chat.decode_whole(job.chat, text)
    builder = job.builder()
    builder.feed(deltas, decoder.failed_calls)
    builder.finish(incomplete=finish == "length", failed=decoder.failed_calls)
    chat.count_tokens(job.chat, done.prompt_tokens, done.completion_tokens)
    thought = await chat.reasoning_tokens(job.chat, [decoder], done.completion_tokens)
    response = response_object(job, builder.items,
                               usage(done.prompt_tokens, done.completion_tokens, done.cached_tokens, thought), finish)
    keep(job, response)
    return response


def response_object(job: ResponseJob, output: list[dict[str, Any]], usage: dict[str, Any] | None,
                    finish: str | None = None, status: str | None = None,
                    error: dict[str, Any] | None = None) -> dict[str, Any]:
    if status is None:
        status = "incomplete" if finish == "length" else "completed"
    response = {
        "id": job.id,
        "object": "response",
        "created_at": job.created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": {"reason": "max_output_tokens"} if status == "incomplete" else None,
        **job.echo,
        "output": output,
    }
    if usage is not None:  # an object or absent in OpenAI's spec (absent while in progress)
        response["usage"] = usage
    return response


def usage(prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0,
          reasoning_tokens: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": prompt_tokens,
        "input_tokens_details": {"cached_tokens": cached_tokens, "cache_write_tokens": 0},
        "output_tokens": completion_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": prompt_tokens + completion_tokens,
    }


def keep(job: ResponseJob, response: dict[str, Any]) -> None:
    """Store a finished response, with the conversation through its output, when `store` asks."""
    if job.store is None:
        return
    history = [*job.history, *job.translation.input_messages, *output_messages(response["output"])]
    job.store.put(response, job.translation.input_items, history)


def _echo(req: ResponsesRequest, job: ChatJob) -> dict[str, Any]:
    fmt = req.text.format.model_dump(by_alias=True, exclude_none=True) if req.text and req.text.format \
        else {"type": "text"}
    return {
        "instructions": req.instructions,
        "max_output_tokens": req.max_output_tokens,
        "max_tool_calls": req.max_tool_calls,
        "model": job.model,
        "parallel_tool_calls": req.parallel_tool_calls,
        "previous_response_id": req.previous_response_id,
        "prompt_cache_key": req.prompt_cache_key,
        "reasoning": {"effort": req.reasoning.effort if req.reasoning else None,
                      "summary": req.reasoning.summary if req.reasoning else None},
        "safety_identifier": req.safety_identifier,
        "service_tier": "default",
        "store": req.store,
        "temperature": job.params.temperature,
        "text": {"format": fmt, "verbosity": (req.text.verbosity if req.text else None) or "medium"},
        "tool_choice": _tool_choice(req),
        "tools": [_tool_echo(t) for t in req.tools or ()],
        "top_logprobs": req.top_logprobs or 0,
        "top_p": job.params.top_p,
        "truncation": req.truncation or "disabled",
        **({"user": req.user} if req.user is not None else {}),  # a string or absent, in OpenAI's spec
        "metadata": req.metadata or {},
    }


def _tool_echo(tool: Any) -> dict[str, Any]:
    data: dict[str, Any] = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(tool, FunctionTool):  # as OpenAI echoes it: strict (default true) and parameters always there
        data["strict"] = tool.effective_strict
        data.setdefault("parameters", None)
        data.setdefault("description", None)
    return data


def _tool_choice(req: ResponsesRequest) -> Any:
    choice = req.tool_choice
    if choice is None:
        return "auto"
    return choice if isinstance(choice, str) else choice.model_dump()


def _size(items: list[dict[str, Any]]) -> int:
    return len(orjson.dumps(items))
