"""A Responses request as the chat request the shared core runs."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from server.api.responses.translate import output_messages, translate
from server.errors import InvalidRequest
from server.wire.responses import ResponsesRequest


def ids():
    counter = itertools.count()
    return lambda prefix: f"{prefix}_{next(counter)}"


def run(history=(), **body):
    return translate(ResponsesRequest.model_validate(body), list(history), ids())


def fn(name, **extra):
    return {"type": "function", "name": name, "parameters": {"type": "object", "properties": {}}, **extra}


def test_a_string_input_is_one_user_message():
    t = run(input="Hello")
    assert [m.model_dump(exclude_none=True) for m in t.chat.messages] == [{"role": "user", "content": "Hello"}]
    assert t.input_items[0]["type"] == "message"
    assert t.input_items[0]["content"] == [{"type": "input_text", "text": "Hello"}]
    assert t.input_items[0]["id"].startswith("msg_")


def test_instructions_and_opening_developer_messages_are_one_system_turn():
    t = run(instructions="Be brief.", input=[
        {"role": "developer", "content": [{"type": "input_text", "text": "Rules."}]},
        {"type": "message", "role": "developer", "content": "More rules."},
        {"role": "user", "content": "Hi"}])
    messages = [m.model_dump(exclude_none=True) for m in t.chat.messages]
    assert messages == [{"role": "system", "content": "Be brief.\n\nRules.\n\nMore rules."},
                        {"role": "user", "content": "Hi"}]


def test_calls_and_outputs_become_tool_calls_and_tool_messages():
    t = run(input=[
        {"role": "user", "content": "Weather?"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        {"type": "function_call", "call_id": "call_2", "name": "get_weather", "arguments": '{"city": "Oslo"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
        {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "rain"}]},
        {"type": "reasoning", "id": "rs_1", "summary": []},
    ], tools=[fn("get_weather")])
    messages = [m.model_dump(exclude_none=True) for m in t.chat.messages]
    assert messages[1]["role"] == "assistant" and messages[1]["content"] == "Checking."
    assert [c["id"] for c in messages[1]["tool_calls"]] == ["call_1", "call_2"]
    assert messages[2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
    assert messages[3] == {"role": "tool", "tool_call_id": "call_2", "content": "rain"}
    assert len(messages) == 4


def test_an_output_for_no_call_is_a_400_naming_the_item():
    with pytest.raises(InvalidRequest) as caught:
        run(input=[{"role": "user", "content": "x"},
                   {"type": "function_call_output", "call_id": "nope", "output": "1"}])
    assert caught.value.param == "input.1.call_id"
    assert "nope" in caught.value.message


def test_an_output_may_answer_a_call_of_the_stored_conversation():
    history = [{"role": "user", "content": "x"},
               {"role": "assistant", "content": None, "tool_calls": [
                   {"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]
    t = run(history, input=[{"type": "function_call_output", "call_id": "call_9", "output": "done"}], tools=[fn("f")])
    assert [m.role for m in t.chat.messages] == ["user", "assistant", "tool"]
    assert len(t.input_messages) == 1


def test_namespace_functions_are_offered_by_name_and_hosted_tools_left_out():
    t = run(input="x", tools=[fn("a"), {"type": "namespace", "name": "agents", "description": "d",
                                         "tools": [fn("spawn"), fn("close")]},
                              {"type": "web_search", "external_web_access": False}])
    assert [tool.function.name for tool in t.chat.tools] == ["a", "spawn", "close"]
    assert t.namespaces == {"spawn": "agents", "close": "agents"}
    assert t.ignored_tools == ["web_search"]


def test_tool_choice_and_formats_map_to_chat():
    t = run(input="x", tools=[fn("a")], tool_choice={"type": "function", "name": "a"}, max_output_tokens=5,
            text={"format": {"type": "json_schema", "name": "r", "schema": {"type": "object"}, "strict": True}})
    assert t.chat.tool_choice.function.name == "a"
    assert t.chat.max_completion_tokens == 5
    assert t.chat.response_format.type == "json_schema"
    assert t.chat.response_format.json_schema.schema_ == {"type": "object"}


def test_a_named_tool_that_is_not_offered_is_a_400():
    with pytest.raises(InvalidRequest) as caught:
        run(input="x", tools=[fn("a")], tool_choice={"type": "function", "name": "b"})
    assert caught.value.param == "tool_choice"


@pytest.mark.parametrize("body", [
    {"input": "x", "background": True},
    {"input": "x", "conversation": "conv_1"},
    {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "http://x"}]}]},
    {"input": [{"type": "computer_call", "id": "x"}]},
    {"input": []},
    {"input": "x", "stream_options": {"include_obfuscation": False}},
    {"input": "x", "unknown_field": 1},
])
def test_what_cannot_be_honoured_is_refused(body):
    with pytest.raises(ValidationError):
        ResponsesRequest.model_validate(body)


def test_output_items_become_the_next_turns_assistant_message():
    output = [{"type": "message", "content": [{"type": "output_text", "text": "Hi"}]},
              {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}", "status": "completed"},
              {"type": "function_call", "call_id": "call_2", "name": "f", "arguments": "{", "status": "incomplete"}]
    assert output_messages(output) == [{"role": "assistant", "content": "Hi", "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]


def test_item_references_resolve_to_stored_output_items():
    stored = {"fc_1": {"id": "fc_1", "type": "function_call", "status": "completed", "call_id": "call_1",
                       "name": "f", "arguments": "{}"},
              "msg_1": {"id": "msg_1", "type": "message", "status": "completed", "role": "assistant",
                        "content": [{"type": "output_text", "text": "Let me see.", "annotations": [], "logprobs": []}]}}
    body = ResponsesRequest.model_validate({"tools": [fn("f")], "input": [
        {"role": "user", "content": "x"}, {"type": "item_reference", "id": "msg_1"},
        {"type": "item_reference", "id": "fc_1"},
        {"type": "function_call_output", "call_id": "call_1", "output": "ok"}]})
    t = translate(body, [], ids(), stored.get)
    messages = [m.model_dump(exclude_none=True) for m in t.chat.messages]
    assert messages[1]["content"] == "Let me see." and messages[1]["tool_calls"][0]["id"] == "call_1"
    assert messages[2]["role"] == "tool"
    with pytest.raises(InvalidRequest) as caught:
        translate(ResponsesRequest.model_validate({"input": [{"type": "item_reference", "id": "gone"}]}), [], ids())
    assert caught.value.param == "input.0.id"


@pytest.mark.parametrize(("chat", "responses"), [
    ("messages", "input"), ("messages[2]", "input[2]"), ("messages.2.content", "input.2.content"),
    ("max_completion_tokens", "max_output_tokens"), ("response_format.json_schema", "text.format.json_schema"),
    ("tools[0]", "tools[0]"), (None, None),
])
def test_a_chat_error_names_the_responses_parameter(chat, responses):
    from server.api.responses.translate import _param

    assert _param(chat) == responses
