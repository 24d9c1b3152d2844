"""Requests that move every panel of the dashboard: plain, streamed, completions, a tool call, an error.

The tiny model has random weights, so the tool call is forced through vLLM structured outputs (as in
tests/integration/forcing.py). Traffic goes only to the gateway under test on 127.0.0.1.
"""

from __future__ import annotations

import httpx

from tests.integration.forcing import WEATHER_TOOL, force

TOOL_CALL = '<|tool_call_start|>[get_weather(city="Paris")]<|tool_call_end|>'
# Forced, so the stream has one chunk per token and inter-token gaps to measure.
STREAMED = "Sunny and mild in Paris today, with a light breeze."
MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]


def served_model(client: httpx.Client) -> str:
    response = client.get("/v1/models")
    response.raise_for_status()
    return str(response.json()["data"][0]["id"])


def send_traffic(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=120) as client:
        model = served_model(client)
        chat = {"model": model, "messages": MESSAGES, "max_tokens": 8}

        plain = client.post("/v1/chat/completions", json=chat)
        assert plain.status_code == 200, plain.text

        chunks = 0
        with client.stream("POST", "/v1/chat/completions",
                           json={**chat, "max_tokens": 64, "stream": True, **force(STREAMED)}) as stream:
            assert stream.status_code == 200
            for line in stream.iter_lines():
                chunks += line.startswith("data: {")
        assert chunks >= 4, f"the streamed answer had {chunks} chunks"

        tool = client.post("/v1/chat/completions",
                           json={**chat, "max_tokens": 64, "tools": [WEATHER_TOOL], **force(TOOL_CALL)})
        assert tool.status_code == 200, tool.text
        assert tool.json()["choices"][0]["finish_reason"] == "tool_calls", tool.text

        completion = client.post("/v1/completions", json={"model": model, "prompt": "Hello", "max_tokens": 4})
        assert completion.status_code == 200, completion.text

        unknown = client.post("/v1/chat/completions", json={**chat, "model": "no-such-model"})
        assert unknown.status_code == 404, unknown.text
