"""render(): OpenAI tool_calls -> LFM2 markup that parses back to the same calls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stream_contract import calls, parse

from tool_parser import render


def openai_call(name: str, arguments: Any) -> dict[str, Any]:
    return {"id": "x", "type": "function", "function": {"name": name, "arguments": arguments}}


def test_render_format() -> None:
    text = render(
        [openai_call("get_weather", json.dumps({"arg": "value", "n": 1, "flag": True, "obj": {"a": 1}, "x": None}))]
    )
    assert text == (
        '<|tool_call_start|>[get_weather(arg="value", n=1, flag=True, obj={"a": 1}, x=None)]<|tool_call_end|>'
    )


def test_render_several_calls_and_dict_arguments() -> None:
    text = render([openai_call("a", {"s": 'q"\n'}), openai_call("b", "")])
    assert text == '<|tool_call_start|>[a(s="q\\"\\n"), b()]<|tool_call_end|>'


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"s": "plain"},
        {"s": "quotes ' \" and \\ backslash\n\ttab \u00e9 😀 \x00 \x7f"},
        {"n": 0, "m": -12, "f": 1.5, "e": 1e-300, "big": 10**30},
        {"t": True, "f": False, "z": None},
        {"l": [1, "a", [None, {"k": False}]], "d": {"nested": {"deep": [1.25]}}, "e": [], "o": {}},
        {"from": 1, "class": "x", "in": [], "dotted.name": 1, "dash-name": 2},
        {"has space": 1},
        {"": 1},
        {"1leading_digit": 1},
    ],
)
def test_round_trip(arguments: dict[str, Any]) -> None:
    result = parse(render([openai_call("fn", json.dumps(arguments))]))
    assert calls(result) == [("fn", arguments)]
    assert result.content is None


@pytest.mark.parametrize("name", ["get_weather", "grocery.order", "a-b", "with space", "ünïcode"])
def test_round_trip_names(name: str) -> None:
    assert calls(parse(render([openai_call(name, {"x": 1})]))) == [(name, {"x": 1})]


def test_non_finite_floats_render_as_none() -> None:
    assert "x=None" in render([openai_call("f", {"x": float("nan")})])


def test_unparseable_arguments_string_is_kept_and_fails_cleanly() -> None:
    text = render([openai_call("f", "{not json")])
    result = parse(text)
    assert result.tool_calls == []
    assert [o.outcome for o in result.outcomes] == ["failed"]


def test_special_token_text_in_values_is_escaped() -> None:
    arguments = {"s": "<|tool_call_start|>[x()]<|tool_call_end|> <|im_end|>", "d": {"<|k": ["<|"]}}
    text = render([openai_call("f", arguments), openai_call("has space", {"<|": "\\<|"})])
    assert text.count("<|") == 2  # the two markers
    assert calls(parse(text)) == [("f", arguments), ("has space", {"<|": "\\<|"})]


def test_no_calls_render_nothing() -> None:
    assert render([]) == ""
