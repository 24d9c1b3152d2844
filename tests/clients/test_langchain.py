"""LangChain (`langchain-openai`'s ChatOpenAI) against the gateway: `bind_tools`, `invoke` and `stream`."""

from __future__ import annotations

import operator
from functools import reduce

import jsonschema
import pytest

from tests.integration.forcing import TIME_TOOL, WEATHER_TOOL, force

pytestmark = pytest.mark.engine
langchain_openai = pytest.importorskip("langchain_openai")

CALL_TEXT = '<|tool_call_start|>[get_weather(city="Paris", days=3), get_time()]<|tool_call_end|>'
EXPECTED = [("get_weather", {"city": "Paris", "days": 3}), ("get_time", {})]
QUESTION = [("user", "Weather in Paris for 3 days, and the time?")]
BOUNDED_WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object",
    "properties": {"city": {"type": "string", "enum": ["Paris", "Lima"]},
                   "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city", "days"]}}}


def chat(gateway, **kwargs):
    return langchain_openai.ChatOpenAI(model="tiny", base_url=gateway.api, api_key="unused", max_retries=0,
                                       timeout=120, **kwargs)


def calls(message):
    return [(c["name"], c["args"]) for c in message.tool_calls]


def test_invoke_returns_tool_calls(gateway):
    llm = chat(gateway, max_tokens=80, extra_body=force(CALL_TEXT)).bind_tools([WEATHER_TOOL, TIME_TOOL])
    message = llm.invoke(QUESTION)
    assert calls(message) == EXPECTED
    assert all(c["id"].startswith("call_") for c in message.tool_calls)
    assert not message.invalid_tool_calls


def test_stream_chunks_merge_into_the_same_calls(gateway):
    llm = chat(gateway, max_tokens=80, extra_body=force("On it. " + CALL_TEXT)).bind_tools([WEATHER_TOOL, TIME_TOOL])
    chunks = list(llm.stream(QUESTION))
    assert len(chunks) > 2
    merged = reduce(operator.add, chunks)
    assert calls(merged) == EXPECTED
    assert merged.content == "On it. "
    assert not merged.invalid_tool_calls


def test_named_tool_choice_through_the_grammar(gateway):
    llm = chat(gateway, max_tokens=120, temperature=1.0).bind_tools([BOUNDED_WEATHER, TIME_TOOL],
                                                                     tool_choice="get_weather")
    message = llm.invoke(QUESTION)
    assert [c["name"] for c in message.tool_calls] == ["get_weather"]
    jsonschema.validate(message.tool_calls[0]["args"], BOUNDED_WEATHER["function"]["parameters"])
