"""tool_choice, parallel_tool_calls and argument checks on the real engine (random-weight tiny model).

`required` and named choices run through the grammar: the random model is free to pick among what it
allows, so these tests check properties (a complete call, offered names, arguments that validate),
not exact calls. The rest force the model's output with a regex (user `structured_outputs` wins over
the call grammar) to reach each policy. No `seed` in grammar requests: vLLM 0.32's CPU runner kills
the engine on a seeded request whose grammar is still compiling (`CPU Generator does not use offset`).
"""

from __future__ import annotations

import json
import re

import httpx
import jsonschema
import pytest

from tests.integration.forcing import force

pytestmark = pytest.mark.engine

MESSAGES = [{"role": "user", "content": "What's the weather in Paris?"}]
WEATHER_PARAMS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "enum": ["Paris", "Tokyo", "Lima"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "detailed": {"type": "boolean"},
        "note": {"type": "string", "maxLength": 8},
    },
    "required": ["city", "days"],
}
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_PARAMS}}
STRICT_WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_PARAMS,
                                                   "strict": True}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
TOOLS = [WEATHER, TIME]
SCHEMAS = {"get_weather": WEATHER_PARAMS, "get_time": TIME["function"]["parameters"]}
START, END = "<|tool_call_start|>", "<|tool_call_end|>"


def outcome_count(gateway, outcome, function):
    text = httpx.get(gateway.base_url + "/metrics", timeout=10).text
    pattern = re.compile(r'^lfm2_tool_calls_total\{(.*)\} (\S+)$', re.M)
    for labels, value in pattern.findall(text):
        if f'outcome="{outcome}"' in labels and f'function="{function}"' in labels:
            return float(value)
    return 0.0


def assert_valid_calls(calls):
    assert calls
    for call in calls:
        assert call.id.startswith("call_") and call.type == "function"
        jsonschema.validate(json.loads(call.function.arguments), SCHEMAS[call.function.name])


@pytest.mark.parametrize("attempt", range(3))
def test_required_writes_a_complete_valid_call(client, attempt):
    out = client.chat.completions.create(model="tiny", messages=MESSAGES, tools=TOOLS, tool_choice="required",
                                         max_tokens=300, temperature=1.0)
    choice = out.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert_valid_calls(choice.message.tool_calls)


def test_required_streaming(client):
    chunks = list(client.chat.completions.create(
        model="tiny", messages=MESSAGES, tools=TOOLS, tool_choice="required", max_tokens=300, temperature=1.0,
        stream=True))
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["tool_calls"]
    assert not "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    names = [f.function.name for c in chunks if c.choices for f in c.choices[0].delta.tool_calls or [] if f.id]
    assert names and set(names) <= set(SCHEMAS)


@pytest.mark.parametrize("attempt", range(2))
def test_required_without_parallel_calls_is_exactly_one(client, attempt):
    out = client.chat.completions.create(model="tiny", messages=MESSAGES, tools=TOOLS, tool_choice="required",
                                         parallel_tool_calls=False, max_tokens=200, temperature=1.0)
    assert out.choices[0].finish_reason == "tool_calls"
    assert len(out.choices[0].message.tool_calls) == 1
    assert_valid_calls(out.choices[0].message.tool_calls)


@pytest.mark.parametrize("stream", [False, True])
def test_named_choice_calls_that_function_and_stops(client, stream):
    named = {"type": "function", "function": {"name": "get_weather"}}
    kwargs = dict(model="tiny", messages=MESSAGES, tools=TOOLS, tool_choice=named, max_tokens=200,
                  temperature=1.0)
    if not stream:
        choice = client.chat.completions.create(**kwargs).choices[0]
        assert choice.finish_reason == "stop"  # OpenAI's answer to a named tool_choice
        assert [c.function.name for c in choice.message.tool_calls] == ["get_weather"]
        assert_valid_calls(choice.message.tool_calls)
        return
    with client.chat.completions.stream(**kwargs) as events:
        final = events.get_final_completion()
    assert final.choices[0].finish_reason == "stop"
    assert [c.function.name for c in final.choices[0].message.tool_calls] == ["get_weather"]


def test_auto_without_parallel_calls_reports_one_call(client, gateway):
    before = outcome_count(gateway, "extra", "get_time")
    text = START + '[get_weather(city="Paris", days=2), get_time()]' + END
    out = client.chat.completions.create(model="tiny", messages=MESSAGES, tools=TOOLS, parallel_tool_calls=False,
                                         max_tokens=80, extra_body=force(text))
    choice = out.choices[0]
    assert [c.function.name for c in choice.message.tool_calls] == ["get_weather"]
    assert choice.message.content == "[get_time()]"  # the extra call, returned as text
    assert choice.finish_reason == "tool_calls"
    assert outcome_count(gateway, "extra", "get_time") == before + 1


def test_auto_without_parallel_calls_on_the_grammar(client):
    for _ in range(2):
        out = client.chat.completions.create(model="tiny", messages=MESSAGES, tools=TOOLS, parallel_tool_calls=False,
                                             max_tokens=40, temperature=1.0)
        assert len(out.choices[0].message.tool_calls or []) <= 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_call_cut_by_max_tokens_is_length_and_no_call(client, stream):
    kwargs = dict(model="tiny", messages=MESSAGES, tools=TOOLS, tool_choice="required", max_tokens=4)
    if not stream:
        choice = client.chat.completions.create(**kwargs).choices[0]
        assert choice.finish_reason == "length"
        assert choice.message.tool_calls is None
        return
    chunks = list(client.chat.completions.create(stream=True, **kwargs))
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"]


@pytest.mark.parametrize("stream", [False, True])
def test_strict_call_that_breaks_its_schema_is_withheld(client, gateway, stream):
    before = outcome_count(gateway, "rejected", "get_weather")
    text = START + '[get_weather(city="Paris", days=99)]' + END
    kwargs = dict(model="tiny", messages=MESSAGES, tools=[STRICT_WEATHER], max_tokens=80, extra_body=force(text))
    if stream:
        chunks = list(client.chat.completions.create(stream=True, **kwargs))
        assert not any(c.choices[0].delta.tool_calls for c in chunks if c.choices)
        content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = next(c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason)
    else:
        message = client.chat.completions.create(**kwargs).choices[0]
        assert message.message.tool_calls is None
        content, finish = message.message.content, message.finish_reason
    assert content == '[get_weather(city="Paris", days=99)]'
    assert finish == "stop"
    assert outcome_count(gateway, "rejected", "get_weather") == before + 1


def test_strict_call_that_validates_is_reported(client):
    text = START + '[get_weather(city="Lima", days="3")]' + END
    out = client.chat.completions.create(model="tiny", messages=MESSAGES, tools=[STRICT_WEATHER], max_tokens=80,
                                         extra_body=force(text))
    call = out.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"city": "Lima", "days": 3}


def test_repairs_invalid_and_unknown_names_are_counted(client, gateway):
    counts = [("repaired", "get_weather"), ("invalid", "get_weather"), ("unknown_tool", "_unknown")]
    before = [outcome_count(gateway, *c) for c in counts]
    text = START + '[get_weather("Paris", "3"), get_weather(city="Rome", days=2), launch_rockets(count=3)]' + END
    out = client.chat.completions.create(model="tiny", messages=MESSAGES, tools=TOOLS, max_tokens=120,
                                         extra_body=force(text))
    calls = out.choices[0].message.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris", "days": 3}),  # positional and quoted number, repaired
        ("get_weather", {"city": "Rome", "days": 2}),  # not in the enum: reported, counted invalid
        ("launch_rockets", {"count": 3}),  # not offered: reported as written
    ]
    assert [outcome_count(gateway, *c) for c in counts] == [b + 1 for b in before]


def test_tool_choice_none_reports_no_call_and_bans_the_marker(client):
    out = client.chat.completions.create(model="tiny", messages=MESSAGES, tools=TOOLS, tool_choice="none",
                                         max_tokens=30, temperature=1.0)
    assert out.choices[0].message.tool_calls is None
    assert out.choices[0].finish_reason in ("stop", "length")
