"""The chat renderers against the OpenAI spec's schemas without an engine (steps from a fake generation).

The engine-backed twin is tests/integration/test_openai_spec.py; this one runs in `make unit` and pins
the usage details: cached tokens from the engine's steps, reasoning tokens from the `<think>` text.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from server.api.chat import render, stream
from server.core.chat import ChatJob
from server.core.generation import Generation
from server.engine.interface import ChoiceDelta, GenerationParams, StepOutput, TokenLogprob
from tests.integration.forcing import WEATHER_TOOL

DEFS = json.loads((Path(__file__).resolve().parents[1] / "spec" / "openai_schemas.json").read_text())["$defs"]
THINKING = ["<think>a b", " c</think>", "Hello", " world"]
CALL = ["Sure.", '<|tool_call_start|>[get_weather(city="Paris")]', "<|tool_call_end|>"]


def valid(root: str, body: Any) -> None:
    errors = list(jsonschema.Draft202012Validator({"$defs": DEFS, "$ref": f"#/$defs/{root}"}).iter_errors(body))
    assert not errors, [(list(e.absolute_path), e.message) for e in errors[:3]]


class WordTokenizer:
    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return list(range(len(text.split())))


def job(n: int = 1, tools: list[dict[str, Any]] | None = None, logprobs: bool = False,
        include_usage: bool = True) -> ChatJob:
    return ChatJob(id="chatcmpl-x", request_id="r", created=1, model="tiny", prompt_ids=[1] * 7,
                   params=GenerationParams(n=n), tools=tools, parse_tools=bool(tools), parallel_tool_calls=True,
                   logprobs=logprobs, include_usage=include_usage, system_fingerprint="fp_0123456789",
                   tokenizer=WordTokenizer())


async def generation(j: ChatJob, texts: list[str]) -> Generation:
    async def steps() -> AsyncIterator[StepOutput]:
        for k, text in enumerate(texts):
            last = k == len(texts) - 1
            lp = [TokenLogprob(text, -0.5, ((text, -0.5),))] if j.logprobs else None
            yield StepOutput([ChoiceDelta(i, text, 1, "stop" if last else None, None, lp) for i in range(j.params.n)],
                             7, last, num_cached_tokens=3)

    it = steps()
    return Generation("r", it, await it.__anext__())


def chunks(j: ChatJob, texts: list[str]) -> list[dict[str, Any]]:
    async def read() -> bytes:
        gen = await generation(j, texts)
        return b"".join([frame async for frame in stream.stream(j, gen)])

    data = asyncio.run(read()).split(b"\n\n")
    assert data[-2] == b"data: [DONE]"
    return [orjson.loads(d.removeprefix(b"data: ")) for d in data if d.startswith(b"data: {")]


@pytest.mark.parametrize("j,texts", [(job(n=2, logprobs=True), THINKING), (job(tools=[WEATHER_TOOL]), CALL)],
                         ids=["n=2 logprobs thinking", "tools"])
def test_complete_matches_the_spec(j, texts):
    async def complete() -> dict[str, Any]:
        return await render.complete(j, await generation(j, texts))

    body = asyncio.run(complete())
    valid("CreateChatCompletionResponse", body)
    assert body["system_fingerprint"] == "fp_0123456789" and body["service_tier"] == "default"
    for choice in body["choices"]:
        assert choice["message"]["refusal"] is None
        assert choice["logprobs"] is None or choice["logprobs"]["refusal"] is None
    details = body["usage"]["prompt_tokens_details"], body["usage"]["completion_tokens_details"]
    assert details[0]["cached_tokens"] == 3
    assert details[1]["reasoning_tokens"] == (6 if texts is THINKING else 0)  # "a b c" per choice


@pytest.mark.parametrize("j,texts", [(job(n=2, logprobs=True), THINKING), (job(tools=[WEATHER_TOOL]), CALL),
                                     (job(include_usage=False), THINKING)], ids=["n=2 logprobs", "tools", "no usage"])
def test_every_chunk_matches_the_spec(j, texts):
    events = chunks(j, texts)
    for event in events:
        valid("CreateChatCompletionStreamResponse", event)
        assert event["system_fingerprint"] == "fp_0123456789" and event["service_tier"] == "default"
    if not j.include_usage:
        assert all("usage" not in e for e in events)
        return
    *before, last = events
    assert all(e["usage"] is None for e in before)
    assert last["choices"] == [] and last["usage"]["prompt_tokens_details"]["cached_tokens"] == 3
    reasoning = last["usage"]["completion_tokens_details"]["reasoning_tokens"]
    assert reasoning == (3 * j.params.n if texts is THINKING else 0)
