"""A bad-input matrix: each request is answered 4xx in OpenAI's error shape, and the server stays healthy.

Malformed JSON, wrong types (strict: no coercion), huge values, empty or oversized messages, bad tools,
tool messages that answer no call, bad tool_choice, stream_options without stream and unknown fields,
on chat completions, text completions and /tokenize. After every request `/health` and `/ready` (which
asks the engine) must still answer 200.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

pytestmark = pytest.mark.engine

CHAT = "/v1/chat/completions"
COMPLETIONS = "/v1/completions"
TOKENIZE = "/tokenize"
MESSAGES = [{"role": "user", "content": "hi"}]
FUNCTION = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}
TOOLS = [{"type": "function", "function": FUNCTION}]
JSON = {"content-type": "application/json"}
CALLED = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}]}
MAX_BODY = 8 * 2**20  # the default --max-body-bytes


def chat(**fields):
    return {"messages": MESSAGES, "max_tokens": 2, **fields}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def assert_openai_error(response: httpx.Response, status: int, param: str | None = None,
                        code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["type"], str) and error["type"], error
    assert error["param"] is None or isinstance(error["param"], str), error
    assert error["code"] is None or isinstance(error["code"], str), error
    if param is not None:
        assert param in (error["param"] or "") or param in error["message"], error
    if code is not None:
        assert error["code"] == code, error
    return error


def assert_healthy(gateway) -> None:
    for path in ("/health", "/ready"):
        assert httpx.get(gateway.base_url + path, timeout=30).status_code == 200, path


# (path, raw body, content type)
MALFORMED = {
    "truncated": (CHAT, b'{"messages": [', JSON),
    "trailing garbage": (CHAT, b'{"messages": [{"role": "user", "content": "hi"}]} x', JSON),
    "not json": (CHAT, b"hello", JSON),
    "empty body": (CHAT, b"", JSON),
    "null": (CHAT, b"null", JSON),
    "array": (CHAT, b"[]", JSON),
    "string": (CHAT, b'"hi"', JSON),
    "invalid utf-8": (CHAT, b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}', JSON),
    "lone surrogate": (CHAT, b'{"messages": [{"role": "user", "content": "\\ud800x"}], "max_tokens": 2}', JSON),
    "lone surrogate in stop": (CHAT, b'{"messages": [{"role": "user", "content": "hi"}], "stop": ["\\udfff"]}', JSON),
    "lone surrogate prompt": (COMPLETIONS, b'{"prompt": "\\ud800x", "max_tokens": 2}', JSON),
    "lone surrogate tokenize": (TOKENIZE, b'{"prompt": "\\ud800x"}', JSON),
    "NaN": (CHAT, b'{"messages": [{"role": "user", "content": "hi"}], "temperature": NaN}', JSON),
    "NaN logit bias": (CHAT, b'{"messages": [{"role": "user", "content": "hi"}], "logit_bias": {"1": NaN}}', JSON),
    "Infinity": (CHAT, b'{"messages": [{"role": "user", "content": "hi"}], "top_p": Infinity}', JSON),
    "number too long": (CHAT, b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": ' + b"9" * 5000 + b"}",
                        JSON),
    "nested past the parser": (CHAT, b'{"messages": [{"role": "user", "content": "hi"}], "metadata": '
                               + nested(100000) + b"}", JSON),
    "nested past the limit": (CHAT, b'{"max_tokens": 2, "messages": [{"role": "assistant", "tool_calls": [{"function": '
                              b'{"name": "f", "arguments": {"a": ' + nested(150) + b'}}}]}, {"role": "user", '
                              b'"content": "x"}]}', JSON),
    "nested as deep as parses": (CHAT, b'{"messages": [{"role": "user", "content": "hi"}], "prediction": {"a": '
                                 + nested(900) + b"}}", JSON),
    "text/plain": (CHAT, b"messages", {"content-type": "text/plain"}),
    "form": (CHAT, b"messages=hi", {"content-type": "application/x-www-form-urlencoded"}),
    "malformed completions": (COMPLETIONS, b'{"prompt": ', JSON),
    "malformed tokenize": (TOKENIZE, b'{"prompt": ', JSON),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_json_is_400(gateway, case):
    path, content, headers = case
    assert_openai_error(httpx.post(gateway.base_url + path, content=content, headers=headers, timeout=60), 400)
    assert_healthy(gateway)


# (path, body, status, param or a word of the message, code)
BAD = {
    # wrong types
    "messages a string": (CHAT, {"messages": "hello"}, 400, "messages", None),
    "messages an object": (CHAT, {"messages": MESSAGES[0]}, 400, "messages", None),
    "content a number": (CHAT, {"messages": [{"role": "user", "content": 5}]}, 400, "messages", None),
    "unknown role": (CHAT, {"messages": [{"role": "wizard", "content": "x"}]}, 400, "messages", None),
    "temperature a word": (CHAT, chat(temperature="hot"), 400, "temperature", None),
    "n a word": (CHAT, chat(n="two"), 400, "n", None),
    "max_tokens fractional": (CHAT, chat(max_tokens=1.5), 400, "max_tokens", None),
    "stop a number": (CHAT, chat(stop=5), 400, "stop", None),
    "top_p a list": (CHAT, chat(top_p=[]), 400, "top_p", None),
    "logit_bias words": (CHAT, chat(logit_bias={"abc": 1}), 400, "logit_bias", None),
    "metadata numbers": (CHAT, chat(metadata={"a": 1}), 400, "metadata", None),
    "model a number": (CHAT, chat(model=5), 400, "model", None),
    "response_format unknown": (CHAT, chat(response_format={"type": "xml"}), 400, "response_format", None),
    "structured_outputs empty": (CHAT, chat(structured_outputs={}), 400, "structured_outputs", None),
    "structured_outputs two kinds": (CHAT, chat(structured_outputs={"regex": "a", "choice": ["a"]}), 400,
                                     "structured_outputs", None),
    "structured_outputs bad regex": (CHAT, chat(structured_outputs={"regex": "("}), 400, None, None),
    "json_schema bad schema": (CHAT, chat(response_format={"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": "nonsense"}}}), 400, None, None),
    "prompt a number": (COMPLETIONS, {"prompt": 5}, 400, "prompt", None),
    # types are strict, as OpenAI's: no coercion from strings or numbers
    "stream a word": (CHAT, chat(stream="yes"), 400, "stream", None),
    "stream a number": (CHAT, chat(stream=1), 400, "stream", None),
    "n a numeric string": (CHAT, chat(n="2"), 400, "n", None),
    "max_tokens a numeric string": (CHAT, chat(max_tokens="2"), 400, "max_tokens", None),
    "temperature a numeric string": (CHAT, chat(temperature="0.5"), 400, "temperature", None),
    "logprobs a string": (CHAT, chat(logprobs="true"), 400, "logprobs", None),
    "include_usage a string": (CHAT, chat(stream=True, stream_options={"include_usage": "yes"}), 400,
                               "stream_options.include_usage", None),
    "tool strict a string": (CHAT, chat(tools=[{"type": "function", "function": {**FUNCTION, "strict": "true"}}]),
                             400, "strict", None),
    "completions echo a string": (COMPLETIONS, {"prompt": "hi", "echo": "yes"}, 400, "echo", None),
    "completions max_tokens a float": (COMPLETIONS, {"prompt": "hi", "max_tokens": 2.0}, 400, "max_tokens", None),
    "tokenize flag a number": (TOKENIZE, {"prompt": "hi", "add_special_tokens": 1}, 400, "add_special_tokens", None),
    # stream_options only with stream: true
    "stream_options without stream": (CHAT, chat(stream_options={"include_usage": True}), 400, "stream_options",
                                      None),
    "stream_options with stream false": (CHAT, chat(stream=False, stream_options={}), 400, "stream_options", None),
    "completions stream_options without stream": (COMPLETIONS, {"prompt": "hi", "stream_options": {}}, 400,
                                                  "stream_options", None),
    "tokenize prompt a list": (TOKENIZE, {"prompt": ["a"]}, 400, "prompt", None),
    # huge values
    "max_tokens huge": (CHAT, chat(max_tokens=10**30), 400, "max_tokens", "context_length_exceeded"),
    "max_completion_tokens huge": (CHAT, chat(max_completion_tokens=10**30), 400, "max_tokens",
                                   "context_length_exceeded"),
    "n huge": (CHAT, chat(n=10**30), 400, "n", None),
    "seed past 64 bits": (CHAT, chat(seed=2**64), 400, "seed", None),
    "temperature huge": (CHAT, chat(temperature=1e308), 400, "temperature", None),
    "top_logprobs huge": (CHAT, chat(logprobs=True, top_logprobs=10**6), 400, "top_logprobs", None),
    "min_tokens over max_tokens": (CHAT, chat(min_tokens=10**9), 400, "min_tokens", None),
    "too many stops": (CHAT, chat(stop=[str(i) for i in range(17)]), 400, "stop", None),
    "logit_bias out of vocabulary": (CHAT, chat(logit_bias={"999999999": 1}), 400, "logit_bias", None),
    "stop_token_ids out of vocabulary": (CHAT, chat(stop_token_ids=[10**12]), 400, "stop_token_ids", None),
    "prompt ids out of vocabulary": (COMPLETIONS, {"prompt": [10**12], "max_tokens": 2}, 400, "prompt", None),
    "best_of huge": (COMPLETIONS, {"prompt": "hi", "best_of": 10**6}, 400, "best_of", None),
    "completions max_tokens huge": (COMPLETIONS, {"prompt": "hi", "max_tokens": 10**30}, 400, "max_tokens",
                                    "context_length_exceeded"),
    # empty or oversized messages
    "messages empty": (CHAT, {"messages": []}, 400, "messages", None),
    "messages missing": (CHAT, {"max_tokens": 2}, 400, "messages", None),
    "message empty": (CHAT, {"messages": [{}]}, 400, "messages", None),
    "message without content": (CHAT, {"messages": [{"role": "user"}]}, 400, "messages", None),
    "too many messages": (CHAT, {"messages": MESSAGES * 4097}, 400, "messages", None),
    "message over the context": (CHAT, {"messages": [{"role": "user", "content": "word " * 40000}]}, 400, None,
                                 "context_length_exceeded"),
    "continue without an assistant message": (CHAT, chat(continue_final_message=True), 400, "messages", None),
    "tokenize continue without messages": (TOKENIZE, {"messages": [], "continue_final_message": True}, 400,
                                           "messages", None),
    "tokenize neither prompt nor messages": (TOKENIZE, {}, 400, "prompt", None),
    "prompt empty": (COMPLETIONS, {"prompt": ""}, 400, "prompt", None),
    "prompt list empty": (COMPLETIONS, {"prompt": []}, 400, "prompt", None),
    "several prompts": (COMPLETIONS, {"prompt": [[1], [2]]}, 400, "prompt", None),
    "prompt over the context": (COMPLETIONS, {"prompt": "word " * 40000}, 400, None, "context_length_exceeded"),
    # bad tools
    "tools an object": (CHAT, chat(tools=TOOLS[0]), 400, "tools", None),
    "tool without function": (CHAT, chat(tools=[{"type": "function"}]), 400, "tools", None),
    "tool of another type": (CHAT, chat(tools=[{"type": "retrieval", "function": FUNCTION}]), 400, "tools", None),
    "tool name with spaces": (CHAT, chat(tools=[{"type": "function", "function": {"name": "get weather"}}]), 400,
                              "tools.0.function.name", None),
    "tool name empty": (CHAT, chat(tools=[{"type": "function", "function": {"name": ""}}]), 400, "name", None),
    "tool name too long": (CHAT, chat(tools=[{"type": "function", "function": {"name": "f" * 129}}]), 400, "name",
                           None),
    "tool parameters a string": (CHAT, chat(tools=[{"type": "function", "function": {
        "name": "f", "parameters": "nope"}}]), 400, "parameters", None),
    "too many tools": (CHAT, chat(tools=[{"type": "function", "function": {"name": f"f{i}"}} for i in range(257)]),
                       400, "tools", None),
    "tool call history without a name": (CHAT, {"messages": [{"role": "assistant", "tool_calls": [
        {"function": {"arguments": "{}"}}]}, *MESSAGES]}, 400, "messages", None),
    # tool messages answer a call of the assistant message before them
    "tool message without tool_call_id": (CHAT, {"messages": [*MESSAGES, CALLED, {"role": "tool", "content": "7"}]},
                                          400, "messages.[2].tool_call_id", "missing_required_parameter"),
    "tool message after no call": (CHAT, {"messages": [*MESSAGES, {"role": "tool", "tool_call_id": "call_1",
                                                                   "content": "7"}]}, 400, "messages.[1].role", None),
    "tool message after a user turn": (CHAT, {"messages": [*MESSAGES, CALLED, *MESSAGES, {
        "role": "tool", "tool_call_id": "call_1", "content": "7"}]}, 400, "messages.[3].role", None),
    "tool message answering no call": (CHAT, {"messages": [*MESSAGES, CALLED, {
        "role": "tool", "tool_call_id": "call_9", "content": "7"}]}, 400, "messages.[2].tool_call_id", None),
    # bad tool_choice
    "tool_choice unknown word": (CHAT, chat(tools=TOOLS, tool_choice="always"), 400, "tool_choice", None),
    "tool_choice a number": (CHAT, chat(tools=TOOLS, tool_choice=5), 400, "tool_choice", None),
    "tool_choice without function": (CHAT, chat(tools=TOOLS, tool_choice={"type": "function"}), 400, "tool_choice",
                                     None),
    "tool_choice names another function": (CHAT, chat(tools=TOOLS, tool_choice={
        "type": "function", "function": {"name": "nope"}}), 400, "nope", None),
    "tool_choice required without tools": (CHAT, chat(tool_choice="required"), 400, "tool_choice", None),
    "tool_choice named without tools": (CHAT, chat(tool_choice={
        "type": "function", "function": {"name": "get_weather"}}), 400, "tool_choice", None),
    # unknown fields
    "unknown field": (CHAT, chat(no_such_field=1), 400, "no_such_field", None),
    "unknown field in a message": (CHAT, {"messages": [{"role": "user", "content": "hi", "mood": "x"}]}, 400, "mood",
                                   None),
    "unknown field in a tool": (CHAT, chat(tools=[{"type": "function", "function": {**FUNCTION, "returns": {}}}]),
                                400, "returns", None),
    "unknown field in tool_choice": (CHAT, chat(tools=TOOLS, tool_choice={
        "type": "function", "function": {"name": "get_weather", "x": 1}}), 400, "x", None),
    "unknown field in stream_options": (CHAT, chat(stream=True, stream_options={"include_usage": True, "x": 1}),
                                        400, "x", None),
    "unknown field in completions": (COMPLETIONS, {"prompt": "hi", "frobnicate": True}, 400, "frobnicate", None),
    "unknown field in tokenize": (TOKENIZE, {"prompt": "hi", "frobnicate": True}, 400, "frobnicate", None),
    "unsupported suffix": (COMPLETIONS, {"prompt": "hi", "suffix": "x"}, 400, "suffix", None),
    # unknown model
    "unknown model": (CHAT, chat(model="gpt-9"), 404, "model", "model_not_found"),
    "unknown model completions": (COMPLETIONS, {"prompt": "hi", "model": "gpt-9"}, 404, "model", "model_not_found"),
    "unknown model tokenize": (TOKENIZE, {"prompt": "hi", "model": "gpt-9"}, 404, "model", "model_not_found"),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_bad_request_is_4xx_in_openai_shape(gateway, case):
    path, body, status, param, code = case
    assert_openai_error(httpx.post(gateway.base_url + path, json=body, timeout=60), status, param, code)
    assert_healthy(gateway)


def test_body_over_limit_is_413(gateway):
    declared = httpx.post(gateway.base_url + CHAT, content=b" " * (MAX_BODY + 1), headers=JSON, timeout=60)
    assert_openai_error(declared, 413, code="request_too_large")

    def chunks():  # no Content-Length: the limit holds on the bytes that arrive
        for _ in range(MAX_BODY // 2**20 + 1):
            yield b" " * 2**20

    streamed = httpx.post(gateway.base_url + CHAT, content=chunks(), headers=JSON, timeout=60)
    assert_openai_error(streamed, 413, code="request_too_large")
    assert_healthy(gateway)


@pytest.mark.parametrize("method,path,status", [
    ("GET", "/v1/nope", 404),
    ("GET", "/v1/models/gpt-9", 404),
    ("GET", CHAT, 405),
    ("DELETE", "/v1/models", 405),
])
def test_unknown_routes_and_methods_in_openai_shape(gateway, method, path, status):
    assert_openai_error(httpx.request(method, gateway.base_url + path, timeout=30), status)
    assert_healthy(gateway)


def test_nesting_under_the_limit_is_served(gateway):
    arguments = b'{"a": ' + nested(90) + b"}"
    body = (b'{"max_tokens": 2, "messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", '
            b'"arguments": ' + arguments + b'}}]}, {"role": "user", "content": "x"}]}')
    r = httpx.post(gateway.base_url + CHAT, content=body, headers=JSON, timeout=60)
    assert r.status_code == 200, r.text


def test_seeded_long_prompt_keeps_the_engine_alive(gateway):
    prompt = uuid.uuid4().hex + " apple" * 1000  # new text, so not prefix-cached: prefilled in several chunks
    r = httpx.post(gateway.base_url + COMPLETIONS, json={"prompt": prompt, "max_tokens": 2, "seed": 1}, timeout=60)
    assert r.status_code == 200, r.text
    assert_healthy(gateway)


def test_still_serving_after_the_matrix(gateway):
    r = httpx.post(gateway.base_url + CHAT, json=chat(), timeout=60)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["role"] == "assistant"


RESPONSES = "/v1/responses"
FN_TOOL = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
# (body, status, param or a word of the message, code)
BAD_RESPONSES = {
    "no input": ({}, 400, "input", None),
    "input empty": ({"input": []}, 400, "input", None),
    "input a number": ({"input": 5}, 400, "input", None),
    "unknown item type": ({"input": [{"type": "computer_call", "id": "x"}]}, 400, "input", None),
    "message without role": ({"input": [{"type": "message", "content": "hi"}]}, 400, "role", None),
    "image content": ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
                      400, "text only", None),
    "call output for no call": ({"input": [{"type": "function_call_output", "call_id": "call_x", "output": "1"}]},
                                400, "input.0.call_id", None),
    "unknown previous response": ({"input": "hi", "previous_response_id": "resp_nope"}, 400,
                                  "previous_response_id", "previous_response_not_found"),
    "unknown item reference": ({"input": [{"type": "item_reference", "id": "msg_nope"}]}, 400, "input.0.id", None),
    "background": ({"input": "hi", "background": True}, 400, "background", None),
    "conversation": ({"input": "hi", "conversation": "conv_1"}, 400, "conversation", None),
    "prompt template": ({"input": "hi", "prompt": {"id": "pmpt_1"}}, 400, "prompt", None),
    "stream_options without stream": ({"input": "hi", "stream_options": {"include_obfuscation": False}}, 400,
                                      "stream_options", None),
    "tool_choice names another function": ({"input": "hi", "tools": [FN_TOOL],
                                            "tool_choice": {"type": "function", "name": "nope"}}, 400,
                                           "tool_choice", None),
    "tool_choice required without tools": ({"input": "hi", "tool_choice": "required"}, 400, "tool_choice", None),
    "hosted tool_choice": ({"input": "hi", "tool_choice": {"type": "web_search"}}, 400, "tool_choice", None),
    "duplicate tool names": ({"input": "hi", "tools": [FN_TOOL, FN_TOOL]}, 400, "tools", None),
    "json_schema without schema": ({"input": "hi", "text": {"format": {"type": "json_schema", "name": "x"}}}, 400,
                                   "schema", None),
    "unknown field": ({"input": "hi", "frobnicate": 1}, 400, "frobnicate", None),
    "over the context": ({"input": "word " * 40000}, 400, None, "context_length_exceeded"),
    "unknown model": ({"input": "hi", "model": "gpt-9"}, 404, "model", "model_not_found"),
}


@pytest.mark.parametrize("case", BAD_RESPONSES.values(), ids=BAD_RESPONSES.keys())
def test_bad_responses_request_is_4xx_in_openai_shape(gateway, case):
    body, status, param, code = case
    assert_openai_error(httpx.post(gateway.base_url + RESPONSES, json=body, timeout=60), status, param, code)
    assert_healthy(gateway)


@pytest.mark.parametrize("method,path", [("GET", "/v1/responses/resp_nope"), ("DELETE", "/v1/responses/resp_nope"),
                                         ("GET", "/v1/responses/resp_nope/input_items")])
def test_unknown_stored_response_is_404_in_openai_shape(gateway, method, path):
    assert_openai_error(httpx.request(method, gateway.base_url + path, timeout=30), 404, "response_id")
    assert_healthy(gateway)
