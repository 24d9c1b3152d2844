"""Real gateway answers (chat, completions, models, errors, Responses) against the official OpenAI
OpenAPI schemas (tests/spec/openai_schemas.json).

The schemas are extracted from a pinned commit of openai/openai-openapi by
scripts/extract_openai_schemas.py (the file says which). Every chat chunk of every stream is checked,
not only the first. Beyond the schemas: the fields OpenAI sends that the spec leaves optional
(`system_fingerprint`, `service_tier`, `usage: null` before the usage chunk, the usage details).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests.integration.forcing import TIME_TOOL, WEATHER_TOOL, force

pytestmark = pytest.mark.engine

SPEC = Path(__file__).resolve().parents[1] / "spec" / "openai_schemas.json"
MESSAGES = [{"role": "user", "content": "Say something."}]
CALL = '<|tool_call_start|>[get_weather(city="Paris", days=3), get_time()]<|tool_call_end|>'


@cache
def validator(root: str, patch: str | None = None) -> jsonschema.Draft202012Validator:
    defs = copy.deepcopy(json.loads(SPEC.read_text())["$defs"])
    if patch == "stream":  # the spec reuses CreateCompletionResponse for stream events, whose
        # finish_reason is null until the last one and usage null until the usage chunk (as OpenAI
        # sends them, and its stream_options documents); allow those, nothing else
        props = defs[root]["properties"]
        choice = props["choices"]["items"]["properties"]
        choice["finish_reason"] = {"anyOf": [choice["finish_reason"], {"type": "null"}]}
        props["usage"] = {"anyOf": [props["usage"], {"type": "null"}]}
    schema = {"$defs": defs, "$ref": f"#/$defs/{root}"}
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def valid(root: str, body: Any, patch: str | None = None) -> Any:
    errors = sorted(validator(root, patch).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{root}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return body


def post(gateway, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(gateway.base_url + path, json=body, timeout=120)


def events(gateway, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream("POST", gateway.base_url + path, json={**body, "stream": True}, timeout=120) as r:
        assert r.status_code == 200, r.read()
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    assert not any(line.startswith("event:") for line in lines), lines
    return [json.loads(line.removeprefix("data: ")) for line in lines[:-1] if not line.startswith(":")]


def chat(gateway, **fields: Any) -> dict[str, Any]:
    r = post(gateway, "/v1/chat/completions", {"messages": MESSAGES, "max_tokens": 8, **fields})
    assert r.status_code == 200, r.text
    return valid("CreateChatCompletionResponse", r.json())


def chat_chunks(gateway, **fields: Any) -> list[dict[str, Any]]:
    chunks = events(gateway, "/v1/chat/completions", {"messages": MESSAGES, "max_tokens": 8, **fields})
    for chunk in chunks:
        valid("CreateChatCompletionStreamResponse", chunk)
    return chunks


def assert_openai_extras(body: dict[str, Any]) -> None:
    assert body["system_fingerprint"].startswith("fp_") and len(body["system_fingerprint"]) > 3
    assert body["service_tier"] == "default"


def assert_usage(usage: dict[str, Any]) -> None:
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert 0 <= usage["prompt_tokens_details"]["cached_tokens"] <= usage["prompt_tokens"]
    assert 0 <= usage["completion_tokens_details"]["reasoning_tokens"] <= usage["completion_tokens"]


def test_chat_completion(gateway):
    body = chat(gateway)
    assert_openai_extras(body)
    message = body["choices"][0]["message"]
    assert "refusal" in message and message["refusal"] is None
    assert_usage(body["usage"])


def test_chat_completion_n_and_logprobs(gateway):
    body = chat(gateway, n=2, logprobs=True, top_logprobs=2, seed=1)
    assert [c["index"] for c in body["choices"]] == [0, 1]
    for choice in body["choices"]:
        assert choice["logprobs"]["refusal"] is None and choice["logprobs"]["content"]


def test_chat_completion_tool_calls(gateway):
    body = chat(gateway, tools=[WEATHER_TOOL, TIME_TOOL], max_tokens=80, **force(CALL))
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and len(choice["message"]["tool_calls"]) == 2


def test_chat_stream_every_chunk(gateway):
    chunks = chat_chunks(gateway)
    assert all("usage" not in c for c in chunks)  # not asked for: no key at all
    fingerprints = {c["system_fingerprint"] for c in chunks}
    assert len(fingerprints) == 1
    for chunk in chunks:
        assert_openai_extras(chunk)


def test_chat_stream_usage_is_null_until_the_last_chunk(gateway):
    chunks = chat_chunks(gateway, n=2, stream_options={"include_usage": True})
    *before, last = chunks
    assert before and all("usage" in c and c["usage"] is None for c in before)
    assert last["choices"] == [] and last["usage"]["completion_tokens"] > 0
    assert_usage(last["usage"])
    assert {c["choices"][0]["index"] for c in before if c["choices"]} == {0, 1}


def test_chat_stream_logprobs_and_tools(gateway):
    chunks = chat_chunks(gateway, logprobs=True, top_logprobs=1)
    with_logprobs = [c["choices"][0]["logprobs"] for c in chunks if c["choices"] and c["choices"][0].get("logprobs")]
    assert with_logprobs and all(lp["refusal"] is None for lp in with_logprobs)
    chunks = chat_chunks(gateway, tools=[WEATHER_TOOL, TIME_TOOL], max_tokens=80, **force("Checking." + CALL))
    fragments = [f for c in chunks if c["choices"] for f in c["choices"][0]["delta"].get("tool_calls", ())]
    assert {f["index"] for f in fragments} == {0, 1}


def test_reasoning_tokens_are_counted(gateway):
    body = chat(gateway, max_tokens=60, **force("<think>Two words, then a third.</think>Done."))
    usage = body["usage"]
    assert body["choices"][0]["message"]["reasoning_content"] == "Two words, then a third."
    assert 0 < usage["completion_tokens_details"]["reasoning_tokens"] < usage["completion_tokens"]
    chunks = chat_chunks(gateway, max_tokens=60, stream_options={"include_usage": True},
                         **force("<think>Two words, then a third.</think>Done."))
    assert chunks[-1]["usage"]["completion_tokens_details"] == usage["completion_tokens_details"]


def test_cached_tokens_are_reported(gateway):
    # the same long prompt twice: the second may be served from the prefix cache, where the engine has one
    messages = [{"role": "user", "content": "cache me " * 300}]
    first = chat(gateway, messages=messages, max_tokens=2)["usage"]
    second = chat(gateway, messages=messages, max_tokens=2)["usage"]
    assert_usage(first)
    assert_usage(second)
    assert second["prompt_tokens_details"]["cached_tokens"] >= first["prompt_tokens_details"]["cached_tokens"]


def test_completion(gateway):
    r = post(gateway, "/v1/completions", {"prompt": "Once upon", "max_tokens": 4, "logprobs": 2, "n": 2})
    assert r.status_code == 200, r.text
    body = valid("CreateCompletionResponse", r.json())
    assert body["system_fingerprint"].startswith("fp_")
    assert_usage(body["usage"])


def test_completion_stream(gateway):
    chunks = events(gateway, "/v1/completions", {"prompt": "Once upon", "max_tokens": 4,
                                                 "stream_options": {"include_usage": True}})
    *before, last = chunks
    for chunk in before:
        valid("CreateCompletionResponse", chunk, patch="stream")
        assert chunk["usage"] is None
    assert last["choices"] == [] and last["usage"]["completion_tokens"] > 0


def test_models(gateway):
    models = httpx.get(gateway.api + "/models", timeout=30).json()
    valid("ListModelsResponse", models)
    model = httpx.get(gateway.api + "/models/" + models["data"][0]["id"], timeout=30).json()
    valid("Model", model)


@pytest.mark.parametrize("method,path,body,status", [
    ("POST", "/v1/chat/completions", {"messages": MESSAGES, "stream": "yes"}, 400),
    ("POST", "/v1/chat/completions", {"messages": MESSAGES, "model": "gpt-9"}, 404),
    ("POST", "/v1/completions", {"prompt": 5}, 400),
    ("GET", "/v1/nope", None, 404),
    ("GET", "/v1/chat/completions", None, 405),
])
def test_errors(gateway, method, path, body, status):
    r = httpx.request(method, gateway.base_url + path, json=body, timeout=30)
    assert r.status_code == status
    valid("ErrorResponse", r.json())


# The Responses API: the response object and every stream event against the spec's `Response` and
# `ResponseStreamEvent` (the latter a union of every event type, so each event must match its own).
FUNCTION = {"type": "function", "name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
RESPONSES_CALL = 'Checking. <|tool_call_start|>[get_weather(city="Paris")]<|tool_call_end|>'


def responses_events(gateway, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.stream("POST", gateway.api + "/responses", json={**body, "stream": True}, timeout=120) as r:
        assert r.status_code == 200, r.read()
        lines = [line for line in r.iter_lines() if line.startswith("data: ")]
    return [json.loads(line[6:]) for line in lines]


@pytest.mark.parametrize("fields", [
    {"max_output_tokens": 4},
    {"tools": [FUNCTION, {"type": "web_search"}], **force(RESPONSES_CALL)},
    {"text": {"format": {"type": "json_object"}}, "max_output_tokens": 6, "instructions": "JSON only."},
], ids=["text cut", "call", "json"])
def test_response_object(gateway, fields):
    r = post(gateway, "/v1/responses", {"input": "Weather in Paris?", **fields})
    assert r.status_code == 200, r.text
    body = valid("Response", r.json())
    assert body["error"] is None and body["object"] == "response"


@pytest.mark.parametrize("fields", [
    {"max_output_tokens": 4},
    {"tools": [FUNCTION], **force(RESPONSES_CALL)},
], ids=["text cut", "call"])
def test_response_stream_every_event(gateway, fields):
    events = responses_events(gateway, {"input": "Weather in Paris?", **fields})
    for event in events:
        valid("ResponseStreamEvent", event)
    assert events[-1]["type"] in ("response.completed", "response.incomplete")
    valid("Response", events[-1]["response"])


def test_responses_errors(gateway):
    r = post(gateway, "/v1/responses", {"input": "x", "previous_response_id": "resp_nope"})
    assert r.status_code == 400
    valid("ErrorResponse", r.json())
    r = httpx.get(gateway.api + "/responses/resp_nope", timeout=30)
    assert r.status_code == 404
    valid("ErrorResponse", r.json())
