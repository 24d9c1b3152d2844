"""Decoder deltas -> Responses output items and events: one state machine for stream and non-stream."""

from __future__ import annotations

import itertools

import pytest

import tool_parser
from server.api.responses.items import OutputBuilder
from server.core.answer import AnswerDecoder
from tests.tool_parser.stream_contract import split_every

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


def ids():
    counter = itertools.count()
    return lambda prefix: f"{prefix}_{next(counter)}"


def build(text, chunk=None, tools=(WEATHER,), incomplete=False):
    decoder = AnswerDecoder(list(tools), parse_tools=bool(tools))
    builder = OutputBuilder(ids())
    events = []
    for piece in split_every(text, chunk) if chunk else [text]:
        events += builder.feed(decoder.feed(piece), decoder.failed_calls)
    events += builder.feed(decoder.close(), decoder.failed_calls)
    events += builder.finish(incomplete=incomplete, failed=decoder.failed_calls)
    return builder.items, events


def strip_ids(items):
    return [{k: v for k, v in item.items() if k not in ("id", "call_id")} for item in items]


def call(args='city="Paris"'):
    return f"{tool_parser.TOOL_CALL_START}[get_weather({args})]{tool_parser.TOOL_CALL_END}"


def test_text_is_one_message_item():
    items, events = build("Hello there", tools=())
    assert items == [{"id": "msg_0", "type": "message", "status": "completed", "role": "assistant",
                      "content": [{"type": "output_text", "text": "Hello there", "annotations": [], "logprobs": []}]}]
    assert [e["type"] for e in events] == [
        "response.output_item.added", "response.content_part.added", "response.output_text.delta",
        "response.output_text.done", "response.content_part.done", "response.output_item.done"]


def test_a_call_is_a_function_call_item_and_whitespace_around_it_is_no_item():
    items, events = build("\n" + call() + "\n")
    assert strip_ids(items) == [{"type": "function_call", "status": "completed", "arguments": '{"city": "Paris"}',
                                 "name": "get_weather"}]
    assert items[0]["call_id"].startswith("call_")
    kinds = [e["type"] for e in events]
    assert kinds[0] == "response.output_item.added" and kinds[-1] == "response.output_item.done"
    assert "response.function_call_arguments.done" in kinds
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta")
    assert deltas == items[0]["arguments"]


def test_text_then_call_then_text_are_three_items_in_order():
    items, _ = build("Let me check. " + call() + " Done.")
    assert [i["type"] for i in items] == ["message", "function_call", "message"]
    assert items[0]["content"][0]["text"] == "Let me check. "


def test_reasoning_comes_as_a_reasoning_item():
    items, events = build("<think>step one</think>\nThe answer", tools=())
    assert [i["type"] for i in items] == ["reasoning", "message"]
    assert items[0]["content"] == [{"type": "reasoning_text", "text": "step one"}]
    assert "response.reasoning_text.delta" in [e["type"] for e in events]


def test_cut_answer_leaves_the_last_item_incomplete():
    items, _ = build("Partial answ", tools=(), incomplete=True)
    assert items[-1]["status"] == "incomplete"


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 13])
def test_every_split_gives_the_same_items(chunk):
    text = "Sure. " + call('city="San Francisco"') + " and " + call('city="Oslo"')
    whole, _ = build(text)
    split, events = build(text, chunk)
    assert strip_ids(split) == strip_ids(whole)
    for item in split:  # each item's deltas add up to what its done event says
        if item["type"] == "function_call":
            args = "".join(e["delta"] for e in events if e.get("item_id") == item["id"]
                           and e["type"] == "response.function_call_arguments.delta")
            assert args == item["arguments"]
        else:
            text = "".join(e["delta"] for e in events if e.get("item_id") == item["id"]
                           and e["type"] == "response.output_text.delta")
            assert text == item["content"][0]["text"]
    added = [e["output_index"] for e in events if e["type"] == "response.output_item.added"]
    assert added == list(range(len(split)))


def test_no_marker_text_reaches_any_event():
    _, events = build("x " + call() + " y", chunk=1)
    for event in events:
        assert "<|tool_call" not in repr(event)
