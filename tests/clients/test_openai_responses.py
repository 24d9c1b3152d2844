"""openai-python's Responses API against the gateway: `responses.create` and `responses.stream` (sync
and async), function tools, a full tool round trip, `previous_response_id` chaining with the stored
responses (get, input items, delete), `text.format` json_schema, and what it refuses.

The random-weight model's output is forced (`extra_body`) where a test needs exact text or an exact
call; every stream read here is also checked by the suite-wide contract recorder (Responses mode).
"""

from __future__ import annotations

import json

import openai
import pytest

from tests.integration.forcing import force

pytestmark = pytest.mark.engine

WEATHER = {"type": "function", "name": "get_weather", "description": "Current weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
                          "required": ["city"]}}
TIME = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}
CALLS = '<|tool_call_start|>[get_weather(city="Paris", days=3), get_time()]<|tool_call_end|>'


def calls_of(response):
    return [(i.name, json.loads(i.arguments)) for i in response.output if i.type == "function_call"]


def test_create_returns_a_completed_response_with_the_text(client):
    r = client.responses.create(model="tiny", input="Say hello.", extra_body=force("Hello from LFM2."))
    assert r.id.startswith("resp_") and r.object == "response" and r.status == "completed"
    assert r.output_text == "Hello from LFM2."
    message = r.output[0]
    assert message.type == "message" and message.id.startswith("msg_") and message.role == "assistant"
    assert message.content[0].type == "output_text" and message.content[0].annotations == []
    assert r.error is None and r.incomplete_details is None
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.usage.input_tokens_details.cached_tokens >= 0
    assert r.usage.output_tokens_details.reasoning_tokens == 0
    assert r.store is True and r.model == "tiny"


def test_stream_helper_gives_events_in_order_and_the_final_response(client):
    with client.responses.stream(model="tiny", input="Say hello.", extra_body=force("Hello there, friend.")) as s:
        events = list(s)
        final = s.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Hello there, friend."
    assert final.output_text == "Hello there, friend."


async def test_async_create_and_stream(aclient):
    r = await aclient.responses.create(model="tiny", input="Hi", extra_body=force("Async hello."))
    assert r.output_text == "Async hello."
    stream = await aclient.responses.create(model="tiny", input="Hi", stream=True, extra_body=force("Streamed."))
    text = "".join([e.delta async for e in stream if e.type == "response.output_text.delta"])
    assert text == "Streamed."


def test_function_calls_come_as_function_call_items(client):
    r = client.responses.create(model="tiny", input="Weather in Paris for 3 days, and the time?",
                                tools=[WEATHER, TIME], extra_body=force(CALLS))
    assert calls_of(r) == [("get_weather", {"city": "Paris", "days": 3}), ("get_time", {})]
    for item in r.output:
        assert item.id.startswith("fc_") and item.call_id.startswith("call_") and item.status == "completed"


def test_streamed_calls_fold_to_the_final_items(client):
    with client.responses.stream(model="tiny", input="Weather?", tools=[WEATHER, TIME],
                                 extra_body=force(CALLS)) as s:
        events = list(s)
        final = s.get_final_response()
    added = [e.item.name for e in events if e.type == "response.output_item.added"]
    assert added == ["get_weather", "get_time"]
    assert calls_of(final) == [("get_weather", {"city": "Paris", "days": 3}), ("get_time", {})]


def test_a_tool_round_trip_by_resending_the_history(client):
    question = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.responses.create(model="tiny", input=question, tools=[WEATHER], store=False,
                                    extra_body=force('<|tool_call_start|>[get_weather(city="Paris")]<|tool_call_end|>'))
    call = first.output[0]
    history = [*question, *[item.model_dump(exclude_none=True) for item in first.output],
               {"type": "function_call_output", "call_id": call.call_id, "output": json.dumps({"temp_c": 21})}]
    second = client.responses.create(model="tiny", input=history, tools=[WEATHER], store=False,
                                     extra_body=force("It is 21 C in Paris."))
    assert second.output_text == "It is 21 C in Paris."
    with pytest.raises(openai.NotFoundError):  # store: false keeps nothing
        client.responses.retrieve(first.id)


def test_previous_response_id_continues_a_stored_conversation(client):
    first = client.responses.create(model="tiny", input="Weather in Paris?", tools=[WEATHER],
                                    extra_body=force('<|tool_call_start|>[get_weather(city="Paris")]<|tool_call_end|>'))
    call = first.output[0]
    second = client.responses.create(
        model="tiny", previous_response_id=first.id, tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}],
        extra_body=force("Sunny in Paris."))
    assert second.output_text == "Sunny in Paris." and second.previous_response_id == first.id
    assert second.usage.input_tokens > first.usage.input_tokens  # the stored turn is in the prompt
    assert client.responses.retrieve(second.id).output_text == "Sunny in Paris."
    items = client.responses.input_items.list(second.id)
    assert [i.type for i in items.data] == ["function_call_output"]
    deleted = client.responses.delete(second.id)
    assert deleted is None or getattr(deleted, "deleted", True)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(second.id)


def test_json_schema_text_format_gives_json_that_fits(client):
    schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}},
              "required": ["city"], "additionalProperties": False}
    r = client.responses.create(model="tiny", input="A city as JSON", max_output_tokens=60,
                                text={"format": {"type": "json_schema", "name": "city", "schema": schema,
                                                 "strict": True}})
    assert r.text.format.type == "json_schema"
    if r.status == "completed":
        assert set(json.loads(r.output_text)) == {"city"}


def test_required_tool_choice_forces_a_call(client):
    r = client.responses.create(model="tiny", input="Weather?", tools=[WEATHER], tool_choice="required",
                                max_output_tokens=80)
    if r.status == "completed":
        assert [name for name, _ in calls_of(r)] and all(name == "get_weather" for name, _ in calls_of(r))


def test_a_cut_answer_is_incomplete(client):
    r = client.responses.create(model="tiny", input="Talk", max_output_tokens=3,
                                extra_body={"ignore_eos": True, "min_tokens": 3})
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"


@pytest.mark.parametrize(("body", "param"), [
    ({"input": "x", "previous_response_id": "resp_nope"}, "previous_response_id"),
    ({"input": [{"type": "function_call_output", "call_id": "call_nope", "output": "1"}]}, "input.0.call_id"),
    ({"input": "x", "background": True}, "background"),
    ({"input": "x", "tools": [WEATHER], "tool_choice": {"type": "function", "name": "other"}}, "tool_choice"),
])
def test_what_it_cannot_do_is_a_400_naming_the_field(client, body, param):
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="tiny", **body)
    error = caught.value.body
    assert error["param"] == param and isinstance(error["message"], str)
    assert error["code"] is None or isinstance(error["code"], str)


def test_unknown_stored_response_is_404(client):
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_unknown")
    with pytest.raises(openai.NotFoundError):
        client.responses.delete("resp_unknown")


def test_metrics_cover_the_route(client, gateway):
    def ttft_count() -> float:
        import httpx

        text = httpx.get(gateway.base_url + "/metrics", timeout=10).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("lfm2_time_to_first_token_seconds_count{") and '"/v1/responses"' in line)

    calls_before, ttft_before = gateway.metric("lfm2_tool_calls_total"), ttft_count()
    with client.responses.stream(model="tiny", input="Weather?", tools=[WEATHER, TIME], extra_body=force(CALLS)) as s:
        list(s)
    assert gateway.metric("lfm2_tool_calls_total") == calls_before + 2
    assert ttft_count() == ttft_before + 1
