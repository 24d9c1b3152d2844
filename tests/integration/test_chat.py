"""The gateway on the real vLLM engine (tiny LFM2), driven by the official openai client."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.integration.forcing import force

pytestmark = pytest.mark.engine

MESSAGES = [{"role": "user", "content": "Say something."}]


def test_chat_completion_shape(client):
    out = client.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=8)
    assert out.id.startswith("chatcmpl-")
    assert out.object == "chat.completion"
    assert out.model == "tiny"
    assert len(out.choices) == 1
    assert out.choices[0].message.role == "assistant"
    assert out.choices[0].finish_reason in ("stop", "length")
    assert out.usage.completion_tokens <= 8
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens


def test_stream_with_usage(client):
    chunks = list(client.chat.completions.create(
        model="tiny", messages=MESSAGES, max_tokens=6, stream=True, stream_options={"include_usage": True},
        extra_body={"min_tokens": 6, "ignore_eos": True},
    ))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.id == chunks[0].id for c in chunks)
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == 6
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"]


def test_n_choices(client):
    out = client.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=4, n=3, temperature=1.0)
    assert sorted(c.index for c in out.choices) == [0, 1, 2]
    stream = client.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=4, n=2, stream=True)
    roles = {c.choices[0].index for c in stream if c.choices and c.choices[0].delta.role == "assistant"}
    assert roles == {0, 1}


def test_stop_sequence_cuts_the_answer(client):
    out = client.chat.completions.create(
        model="tiny", messages=MESSAGES, max_tokens=40, stop=["STOP"],
        extra_body=force("Hello there STOP and more"),
    )
    assert out.choices[0].message.content == "Hello there "
    assert out.choices[0].finish_reason == "stop"


def test_seed_reproducible(client):
    def run(seed):
        return client.chat.completions.create(
            model="tiny", messages=MESSAGES, max_tokens=12, temperature=1.0, seed=seed,
            extra_body={"min_tokens": 12, "ignore_eos": True},
        ).choices[0].message.content

    assert run(1234) == run(1234)


def test_logprobs(client):
    out = client.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=5, logprobs=True,
                                         top_logprobs=3, extra_body={"min_tokens": 5, "ignore_eos": True})
    content = out.choices[0].logprobs.content
    assert len(content) == 5
    for item in content:
        assert item.logprob <= 0
        assert len(item.top_logprobs) == 3
        assert item.top_logprobs[0].logprob >= item.top_logprobs[-1].logprob


def test_json_schema_response_format(client):
    schema = {
        "type": "object",
        "properties": {"color": {"type": "string", "enum": ["red", "green"]}, "ok": {"type": "boolean"}},
        "required": ["color", "ok"],
        "additionalProperties": False,
    }
    out = client.chat.completions.create(
        model="tiny", messages=MESSAGES, max_tokens=200,
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
    )
    data = json.loads(out.choices[0].message.content)
    assert data["color"] in ("red", "green")
    assert isinstance(data["ok"], bool)


def test_models(client):
    models = client.models.list()
    assert [m.id for m in models.data] == ["tiny"]
    assert client.models.retrieve("tiny").id == "tiny"


def test_text_completion(client):
    out = client.completions.create(model="tiny", prompt="Once upon", max_tokens=5, echo=True,
                                    extra_body={"min_tokens": 5, "ignore_eos": True})
    assert out.choices[0].text.startswith("Once upon")
    assert out.usage.completion_tokens == 5
    chunks = list(client.completions.create(model="tiny", prompt="Once upon", max_tokens=4, stream=True))
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


def test_request_id_round_trip(gateway):
    r = httpx.post(gateway.api + "/chat/completions", headers={"X-Request-Id": "trace-42"},
                   json={"messages": MESSAGES, "max_tokens": 2}, timeout=60)
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "trace-42"
    r = httpx.get(gateway.base_url + "/health")
    assert len(r.headers["x-request-id"]) >= 16


def test_tokenize(gateway):
    r = httpx.post(gateway.base_url + "/tokenize", json={"prompt": "hello", "return_token_strs": True})
    body = r.json()
    assert body["count"] == len(body["tokens"]) == len(body["token_strs"]) > 0
    r = httpx.post(gateway.base_url + "/tokenize", json={"messages": MESSAGES, "return_token_strs": True})
    strs = r.json()["token_strs"]
    assert strs[:2] == ["<|startoftext|>", "<|im_start|>"]
    assert strs[-2:] == ["<|im_start|>", "assistant"] or "".join(strs).endswith("assistantĊ")


def test_ops_endpoints(gateway):
    assert httpx.get(gateway.base_url + "/health").json()["status"] == "ok"
    assert httpx.get(gateway.base_url + "/ready").status_code == 200
    assert "vllm" in httpx.get(gateway.base_url + "/version").json()
    metrics = httpx.get(gateway.base_url + "/metrics").text
    assert "vllm:num_requests_running" in metrics
    assert "lfm2_requests_total" in metrics
    assert httpx.get(gateway.base_url + "/openapi.json").json()["paths"]["/v1/chat/completions"]
    assert httpx.get(gateway.base_url + "/docs").status_code == 200


def test_thinking_goes_to_reasoning_content(client):
    text = "<think>The user wants a greeting.</think>\nHello!"
    out = client.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=60, extra_body=force(text))
    message = out.choices[0].message
    assert message.reasoning_content == "The user wants a greeting."
    assert message.content == "Hello!"
    chunks = list(client.chat.completions.create(model="tiny", messages=MESSAGES, max_tokens=60, stream=True,
                                                 extra_body=force(text)))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == "The user wants a greeting."
    assert "".join(d.content or "" for d in deltas) == "Hello!"


def test_greedy_is_repeatable(gateway):
    def run(**extra):
        r = httpx.post(gateway.api + "/chat/completions", timeout=60, json={
            "messages": MESSAGES, "max_tokens": 8, "min_tokens": 8, "ignore_eos": True, **extra})
        return r.json()["choices"][0]["message"]["content"]

    assert run(temperature=0) == run(temperature=0)


def test_idle_keep_alive_connection_is_reused_after_uvicorns_default_timeout(gateway):
    """A pooled connection left idle for longer than uvicorn's default 5 s still works: a server that
    closes it first races the client's next request ("Server disconnected" at the client, 502 behind a
    load balancer)."""
    with httpx.Client(base_url=gateway.base_url, timeout=60, limits=httpx.Limits(keepalive_expiry=120)) as http:
        body = {"messages": MESSAGES, "max_tokens": 2, "stream": True}
        with http.stream("POST", "/v1/chat/completions", json=body) as r:
            assert r.status_code == 200
            first_peer = r.extensions["network_stream"].get_extra_info("client_addr")
            r.read()
        time.sleep(6)
        with http.stream("POST", "/v1/chat/completions", json=body) as r:
            assert r.status_code == 200
            assert r.extensions["network_stream"].get_extra_info("client_addr") == first_peer  # same socket
            r.read()
