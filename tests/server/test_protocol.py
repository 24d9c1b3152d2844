"""Wire types: strict types (no coercion), stream_options only with stream, tool messages that answer a call.

Validated as FastAPI does it (a parsed JSON dict, `validate_python`), and turned into the 400 the
client sees by `server.app.validation_error`.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from server.app import validation_error
from server.wire.protocol import ChatCompletionRequest, CompletionRequest, TokenizeRequest

USER = {"role": "user", "content": "hi"}
CALLS = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "call_a", "type": "function", "function": {"name": "f", "arguments": "{}"}},
    {"id": "call_b", "type": "function", "function": {"name": "g", "arguments": "{}"}},
]}


def error(model: Any, body: dict[str, Any]) -> tuple[str | None, str, str | None]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(body)
    e = validation_error(info.value.errors())
    return e.param, e.message, e.code


@pytest.mark.parametrize("field,value", [
    ("stream", "yes"), ("stream", 1), ("n", "2"), ("n", 2.0), ("max_tokens", "5"), ("temperature", "0.5"),
    ("logprobs", "true"), ("seed", True), ("top_logprobs", 1.5), ("parallel_tool_calls", "false"),
    ("stop", 5), ("user", 5), ("model", 5),
])
def test_chat_types_are_not_coerced(field, value):
    param, message, _ = error(ChatCompletionRequest, {"messages": [USER], field: value})
    assert param is not None and param.split(".")[0] == field, message


@pytest.mark.parametrize("path,body", [
    ("stream_options.include_usage", {"stream": True, "stream_options": {"include_usage": "yes"}}),
    ("messages.0.content", {"messages": [{"role": "user", "content": 5}]}),
    ("tools.0.function.strict", {"tools": [{"type": "function", "function": {"name": "f", "strict": "yes"}}]}),
    ("response_format.json_schema.strict", {"response_format": {"type": "json_schema",
                                                                "json_schema": {"name": "x", "strict": 1}}}),
])
def test_nested_types_are_not_coerced(path, body):
    param, _, _ = error(ChatCompletionRequest, {"messages": [USER], **body})
    assert param is not None and param.replace(".user", "").startswith(path)


def test_completion_and_tokenize_types_are_not_coerced():
    assert error(CompletionRequest, {"prompt": "hi", "echo": "yes"})[0] == "echo"
    assert error(CompletionRequest, {"prompt": "hi", "max_tokens": "3"})[0] == "max_tokens"
    assert error(TokenizeRequest, {"prompt": "hi", "add_special_tokens": 1})[0] == "add_special_tokens"


def test_an_integer_stands_for_a_number_and_literals_match_strings():
    req = ChatCompletionRequest.model_validate({
        "messages": [USER], "temperature": 1, "top_p": 1, "presence_penalty": 0, "logit_bias": {"5": 1},
        "tool_choice": "auto", "response_format": {"type": "json_object"}})
    assert req.temperature == 1.0 and isinstance(req.temperature, float)
    assert req.tool_choice == "auto"


def test_stream_options_need_stream():
    for body in ({}, {"stream": False}):
        param, message, _ = error(ChatCompletionRequest, {"messages": [USER], "stream_options": {}, **body})
        assert param == "stream_options" and "stream" in message
    assert error(CompletionRequest, {"prompt": "hi", "stream_options": {"include_usage": True}})[0] == \
        "stream_options"
    ChatCompletionRequest.model_validate({"messages": [USER], "stream": True, "stream_options": {}})


def test_tool_message_needs_a_tool_call_id():
    param, message, code = error(ChatCompletionRequest, {"messages": [
        USER, CALLS, {"role": "tool", "content": "x"}]})
    assert param == "messages.[2].tool_call_id" and code == "missing_required_parameter", message


@pytest.mark.parametrize("messages,index", [
    ([USER, {"role": "tool", "tool_call_id": "call_a", "content": "x"}], 1),
    ([{"role": "tool", "tool_call_id": "call_a", "content": "x"}, USER], 0),
    ([USER, CALLS, USER, {"role": "tool", "tool_call_id": "call_a", "content": "x"}], 3),
    ([USER, {"role": "assistant", "content": "no calls"}, {"role": "tool", "tool_call_id": "c", "content": "x"}], 2),
])
def test_tool_message_must_follow_a_call(messages, index):
    param, message, _ = error(ChatCompletionRequest, {"messages": messages})
    assert param == f"messages.[{index}].role"
    assert message == ("Invalid parameter: messages with role 'tool' must be a response to a preceeding message "
                       "with 'tool_calls'.")


def test_tool_message_must_answer_one_of_the_calls():
    param, message, _ = error(ChatCompletionRequest, {"messages": [
        USER, CALLS, {"role": "tool", "tool_call_id": "call_a", "content": "x"},
        {"role": "tool", "tool_call_id": "call_z", "content": "x"}]})
    assert param == "messages.[3].tool_call_id" and "call_z" in message


def test_tool_messages_that_answer_the_calls_pass():
    ChatCompletionRequest.model_validate({"messages": [
        USER, CALLS, {"role": "tool", "tool_call_id": "call_b", "content": "x"},
        {"role": "tool", "tool_call_id": "call_a", "content": {"a": 1}}, {"role": "user", "content": "and?"}]})
    # calls without ids (history from a client that drops them): nothing to match against
    ChatCompletionRequest.model_validate({"messages": [
        USER, {"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]},
        {"role": "tool", "tool_call_id": "x", "content": "x"}]})
    # /tokenize renders any history, as vLLM's does
    TokenizeRequest.model_validate({"messages": [USER, {"role": "tool", "content": "x"}]})
