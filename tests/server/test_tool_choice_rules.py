"""What each tool_choice / parallel_tool_calls combination asks of decoding."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest

from server.api import intake
from server.core.tool_choice import forced_call_structure, marker_ids, max_calls, none_choice_bias
from server.wire.protocol import ChatCompletionRequest

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "get_time"}},
]


class Tokenizer:
    unk_token_id = 0
    ids: ClassVar[dict[str, int]] = {"<|tool_call_start|>": 10, "<|tool_call_end|>": 11}

    def convert_tokens_to_ids(self, text):
        return self.ids.get(text, self.unk_token_id)


class PlainTokenizer(Tokenizer):
    ids: ClassVar[dict[str, int]] = {}


def request(**fields):
    return intake.chat_request(ChatCompletionRequest(messages=[{"role": "user", "content": "hi"}], tools=TOOLS,
                                                     **fields))


def tag(req, tokenizer=None):
    fields = forced_call_structure(req, tokenizer or Tokenizer())
    return None if fields is None else json.loads(fields["structural_tag"])["format"]


def test_required_forces_one_block_of_calls():
    fmt = tag(request(tool_choice="required"))
    assert fmt["type"] == "tag" and fmt["begin"] == {"type": "token", "token": 10}
    assert '(", " ' in fmt["content"]["grammar"].splitlines()[0]
    single = tag(request(tool_choice="required", parallel_tool_calls=False))
    assert '(", " ' not in single["content"]["grammar"].splitlines()[0]


def test_named_choice_forces_that_function_once():
    fmt = tag(request(tool_choice={"type": "function", "function": {"name": "get_time"}}))
    grammar = fmt["content"]["grammar"]
    assert "get_time(" in grammar and "get_weather(" not in grammar
    assert '(", " ' not in grammar.splitlines()[0]


def test_auto_is_free_unless_parallel_calls_are_off():
    assert tag(request()) is None
    assert tag(request(tool_choice="auto")) is None
    fmt = tag(request(parallel_tool_calls=False))
    assert fmt["type"] == "token_triggered_tags" and fmt["stop_after_first"]
    assert tag(request(parallel_tool_calls=False, response_format={"type": "json_object"})) is None
    assert tag(request(parallel_tool_calls=False), PlainTokenizer()) is None


def test_none_and_no_tools_force_nothing():
    assert tag(request(tool_choice="none")) is None
    no_tools = intake.chat_request(ChatCompletionRequest(messages=[{"role": "user", "content": "x"}]))
    assert forced_call_structure(no_tools, Tokenizer()) is None


def test_markers_as_text_when_the_vocabulary_lacks_them():
    assert marker_ids(Tokenizer()) == (10, 11)
    assert marker_ids(PlainTokenizer()) == ("<|tool_call_start|>", "<|tool_call_end|>")
    assert tag(request(tool_choice="required"), PlainTokenizer())["begin"] == "<|tool_call_start|>"


@pytest.mark.parametrize("fields,limit,named", [
    ({}, None, False),
    ({"parallel_tool_calls": False}, 1, False),
    ({"tool_choice": "required"}, None, False),
    ({"tool_choice": {"type": "function", "function": {"name": "get_time"}}}, 1, True),
])
def test_call_limits_and_named(fields, limit, named):
    req = request(**fields)
    assert max_calls(req) == limit
    assert req.named_choice is named


def test_none_bans_the_start_marker():
    req = request(tool_choice="none")
    assert none_choice_bias(req, Tokenizer(), None) == {10: -100.0}
    assert none_choice_bias(req, Tokenizer(), {10: 5.0, 3: 1.0}) == {10: 5.0, 3: 1.0}, "the request's own bias wins"
    assert none_choice_bias(request(), Tokenizer(), {3: 1.0}) == {3: 1.0}
    assert none_choice_bias(req, PlainTokenizer(), None) is None
