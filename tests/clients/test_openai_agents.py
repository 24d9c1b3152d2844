"""The OpenAI Agents SDK (PyPI `openai-agents`) runs an agent with a function tool on the gateway,
through its default Responses model: the model calls the tool, the SDK runs it and sends the result
back as a `function_call_output`, and the run ends with the model's answer.

The random-weight model's answers are forced per request by the client's transport (the SDK has no
per-turn `extra_body`): a call while the input holds no tool output, then the answer. Tracing is off:
nothing may leave this machine.
"""

from __future__ import annotations

from typing import Literal

import httpx
import openai
import pytest

from tests.integration.forcing import ForcingTransport

pytestmark = pytest.mark.engine

agents = pytest.importorskip("agents")


async def test_runner_runs_a_function_tool_and_finishes(gateway):
    agents.set_tracing_disabled(True)
    calls: list[str] = []
    requests: list[dict] = []

    def choose(body: dict) -> str:
        requests.append(body)
        answered = any(item.get("type") == "function_call_output" for item in body.get("input", ()))
        return "It is sunny in Paris." if answered else \
            '<|tool_call_start|>[get_weather(city="Paris")]<|tool_call_end|>'

    http = httpx.AsyncClient(transport=ForcingTransport(choose), timeout=120)
    client = openai.AsyncOpenAI(base_url=gateway.api, api_key="unused", max_retries=0, http_client=http)

    @agents.function_tool
    def get_weather(city: Literal["Paris", "Oslo"]) -> str:
        """Current weather for a city."""
        calls.append(city)
        return f"Sunny in {city}."

    agent = agents.Agent(
        name="weather",
        instructions="Answer weather questions with the get_weather tool.",
        tools=[get_weather],
        model=agents.OpenAIResponsesModel(model="tiny", openai_client=client),
        model_settings=agents.ModelSettings(max_tokens=64),
    )
    result = await agents.Runner.run(agent, "What is the weather in Paris?", max_turns=4)
    assert calls == ["Paris"]
    kinds = [item.type for item in result.new_items]
    assert kinds == ["tool_call_item", "tool_call_output_item", "message_output_item"]
    assert result.final_output == "It is sunny in Paris."
    outputs = [item for item in requests[-1]["input"] if item.get("type") == "function_call_output"]
    assert [o["output"] for o in outputs] == ["Sunny in Paris."]  # the tool's result went back to the model
    await http.aclose()
