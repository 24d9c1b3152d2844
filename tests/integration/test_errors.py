"""Bad input gets OpenAI's error shape with the right status, and the server stays healthy."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

pytestmark = pytest.mark.engine

MESSAGES = [{"role": "user", "content": "hi"}]


def post(gateway, body, path="/v1/chat/completions", **kw):
    return httpx.post(gateway.base_url + path, timeout=60, **kw, **({"json": body} if body is not None else {}))


def assert_error(response, status, param=None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if param is not None:
        assert param in (error["param"] or "")
    return error


@pytest.mark.parametrize("body,param", [
    ({"messages": []}, "messages"),
    ({"messages": [{"role": "wizard", "content": "x"}]}, "messages"),
    ({"messages": MESSAGES, "temperature": "hot"}, "temperature"),
    ({"messages": MESSAGES, "temperature": 9}, "temperature"),
    ({"messages": MESSAGES, "max_tokens": 0}, "max_tokens"),
    ({"messages": MESSAGES, "n": 1000}, "n"),
    ({"messages": MESSAGES, "top_logprobs": 3}, None),
    ({"messages": MESSAGES, "tool_choice": "required"}, None),
    ({"messages": MESSAGES, "no_such_field": 1}, "no_such_field"),
    ({"messages": MESSAGES, "stop": [""]}, "stop"),
    ({"messages": "hello"}, "messages"),
])
def test_invalid_requests_are_400(gateway, body, param):
    assert_error(post(gateway, body), 400, param)


def test_malformed_json_is_400(gateway):
    r = post(gateway, None, content=b'{"messages": [', headers={"content-type": "application/json"})
    assert_error(r, 400)


def test_unknown_model_is_404(gateway):
    error = assert_error(post(gateway, {"model": "gpt-9", "messages": MESSAGES}), 404)
    assert error["code"] == "model_not_found"


def test_context_overflow_is_400(gateway):
    error = assert_error(post(gateway, {"messages": MESSAGES, "max_tokens": 10**6}), 400, "max_tokens")
    assert error["code"] == "context_length_exceeded"
    long = [{"role": "user", "content": "word " * 40000}]
    assert_error(post(gateway, {"messages": long}), 400)


def test_unknown_route_is_404_in_openai_shape(gateway):
    assert_error(httpx.get(gateway.base_url + "/v1/nope"), 404)


def test_openai_client_raises_typed_errors(gateway):
    client = openai.OpenAI(base_url=gateway.api, api_key="x", max_retries=0)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="tiny", messages=MESSAGES, temperature=5)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=MESSAGES)


def test_disconnect_mid_stream_aborts_engine_request(gateway):
    body = {"messages": MESSAGES, "max_tokens": 3000, "min_tokens": 3000, "ignore_eos": True, "stream": True}
    for _ in range(3):
        with httpx.stream("POST", gateway.api + "/chat/completions", json=body, timeout=60) as r:
            lines = r.iter_lines()
            for _ in range(3):
                next(lines)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and gateway.metric("vllm:num_requests_running") > 0:
        time.sleep(0.5)
    assert gateway.metric("vllm:num_requests_running") == 0
    assert httpx.get(gateway.base_url + "/health").status_code == 200
