"""openai-python against the gateway: tools with `create` (sync and async, streamed and not), the
`chat.completions.stream` helper, and a whole agent loop (call -> tool result -> answer).

The random-weight model's output is forced (`extra_body`) where a test needs an exact call; every
stream read here is also checked by the suite-wide contract recorder (`stream_recorder.py`).
"""

from __future__ import annotations

import json

import pytest

from tests.integration.forcing import TIME_TOOL, WEATHER_TOOL, force

pytestmark = pytest.mark.engine

TOOLS = [WEATHER_TOOL, TIME_TOOL]
QUESTION = [{"role": "user", "content": "Weather in Paris for 3 days, and the time?"}]
CALL_TEXT = '<|tool_call_start|>[get_weather(city="Paris", days=3), get_time()]<|tool_call_end|>'
EXPECTED = [("get_weather", {"city": "Paris", "days": 3}), ("get_time", {})]


def calls_of(message):
    return [(c.function.name, json.loads(c.function.arguments)) for c in message.tool_calls or []]


def fold(chunks):
    """What a client that concatenates stream fragments by index ends up with."""
    calls: dict[int, dict] = {}
    finish = None
    for chunk in chunks:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for frag in choice.delta.tool_calls or []:
                call = calls.setdefault(frag.index, {"name": "", "arguments": ""})
                call["name"] += (frag.function.name or "") if frag.function else ""
                call["arguments"] += (frag.function.arguments or "") if frag.function else ""
    return [(c["name"], json.loads(c["arguments"])) for _, c in sorted(calls.items())], finish


def test_sync_create(client):
    out = client.chat.completions.create(model="tiny", messages=QUESTION, tools=TOOLS, max_tokens=80,
                                         extra_body=force(CALL_TEXT))
    assert calls_of(out.choices[0].message) == EXPECTED
    assert out.choices[0].finish_reason == "tool_calls"


def test_sync_create_stream(client):
    stream = client.chat.completions.create(model="tiny", messages=QUESTION, tools=TOOLS, max_tokens=80, stream=True,
                                            extra_body=force(CALL_TEXT))
    assert fold(stream) == (EXPECTED, "tool_calls")


async def test_async_create(aclient):
    out = await aclient.chat.completions.create(model="tiny", messages=QUESTION, tools=TOOLS, max_tokens=80,
                                                extra_body=force(CALL_TEXT))
    assert calls_of(out.choices[0].message) == EXPECTED


async def test_async_create_stream(aclient):
    stream = await aclient.chat.completions.create(model="tiny", messages=QUESTION, tools=TOOLS, max_tokens=80,
                                                   stream=True, extra_body=force(CALL_TEXT))
    assert fold([chunk async for chunk in stream]) == (EXPECTED, "tool_calls")


def test_stream_helper_accumulates_tool_calls(client):
    done_events = []
    with client.chat.completions.stream(model="tiny", messages=QUESTION, tools=TOOLS, max_tokens=80,
                                        extra_body=force("Checking. " + CALL_TEXT)) as stream:
        for event in stream:
            if event.type == "tool_calls.function.arguments.done":
                done_events.append((event.name, json.loads(event.arguments)))
        final = stream.get_final_completion()
    assert done_events == EXPECTED
    assert calls_of(final.choices[0].message) == EXPECTED
    assert final.choices[0].message.content == "Checking. "
    assert final.choices[0].finish_reason == "tool_calls"


async def test_async_stream_helper(aclient):
    async with aclient.chat.completions.stream(model="tiny", messages=QUESTION, tools=TOOLS, max_tokens=80,
                                               extra_body=force(CALL_TEXT)) as stream:
        final = await stream.get_final_completion()
    assert calls_of(final.choices[0].message) == EXPECTED


def run_tool(name, arguments):
    if name == "get_weather":
        return {"city": arguments["city"], "forecast": ["sun"] * arguments.get("days", 1)}
    return "12:05"


@pytest.mark.parametrize("stream", [False, True])
def test_agent_loop(client, stream):
    """call -> tool results -> answer, the way an OpenAI agent drives it."""
    messages = list(QUESTION)
    first = client.chat.completions.create(model="tiny", messages=messages, tools=TOOLS, max_tokens=80,
                                           extra_body=force(CALL_TEXT))
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls:
        result = run_tool(call.function.name, json.loads(call.function.arguments))
        messages.append({"role": "tool", "tool_call_id": call.id,
                         "content": result if isinstance(result, str) else json.dumps(result)})
    answer = "Sunny in Paris for 3 days; it is 12:05."
    kwargs = dict(model="tiny", messages=messages, tools=TOOLS, max_tokens=80, extra_body=force(answer))
    if stream:
        with client.chat.completions.stream(stream_options={"include_usage": True}, **kwargs) as events:
            second = events.get_final_completion()
    else:
        second = client.chat.completions.create(**kwargs)
    assert second.choices[0].message.content == answer
    assert second.choices[0].message.tool_calls in (None, [])
    assert second.choices[0].finish_reason == "stop"
    assert second.usage.prompt_tokens > first.usage.prompt_tokens + 20  # the call and results are in the prompt
