"""The downloaded checkpoint's layout: `lfm2-serve` with no model argument, offline, on a stand-in for the
Hugging Face cache snapshot of LFM2-2.6B-Exp (`hub_snapshot.py`: Liquid's config.json style, the real
tokenizer, the original chat template; the tiny shape, dummy weights).

One gateway serves the whole module, started with `--chat-template model` so the checkpoint's own
template renders every prompt: the default model resolves from the cache, the context is the cards'
32,768 tokens, `/tokenize` shows the markers as single ids, and chat and a forced tool call work.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from server.settings import DEFAULT_MODEL
from tests.conftest import Gateway, start_gateway, stop_gateway
from tests.integration import hub_snapshot
from tests.integration.forcing import WEATHER_TOOL, force

pytestmark = pytest.mark.engine

SYSTEM = "You are a helpful assistant."
CALL = '<|tool_call_start|>[get_weather(city="Paris")]<|tool_call_end|>'
RESULT = '{"temperature": 21}'
MARKER_IDS = {8: "<|tool_list_start|>", 9: "<|tool_list_end|>", 10: "<|tool_call_start|>",
              11: "<|tool_call_end|>", 12: "<|tool_response_start|>", 13: "<|tool_response_end|>"}


@pytest.fixture(scope="module")
def hub_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    home = tmp_path_factory.mktemp("hf-home")
    hub_snapshot.build(home / "hub")
    env = {"HF_HOME": str(home), "HF_HUB_CACHE": str(home / "hub"), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    gw = start_gateway(["--chat-template", "model", "--engine-args", json.dumps({"load_format": "dummy"})],
                       env=env, name="hub", model=None)
    try:
        yield gw
    finally:
        stop_gateway(gw)


@pytest.fixture(scope="module")
def client(hub_gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=hub_gateway.api, api_key="unused", max_retries=0, timeout=120)


def tokenize(gw: Gateway, messages: list[dict], tools: list[dict] | None = None) -> dict:
    body = {"model": DEFAULT_MODEL, "messages": messages, "return_token_strs": True}
    if tools:
        body["tools"] = tools
    response = httpx.post(gw.base_url + "/tokenize", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_default_model_resolves_from_the_cache_offline(hub_gateway: Gateway):
    card = httpx.get(hub_gateway.api + "/models", timeout=10).json()["data"][0]
    assert card["id"] == DEFAULT_MODEL and card["root"] == DEFAULT_MODEL
    assert card["max_model_len"] == 32768  # the cards' context, not config.json's 128,000
    assert card["tokenizer"] == "checkpoint"
    assert hub_gateway.log is not None
    assert "serving the built-in 'tiny'" not in hub_gateway.log.read_text(errors="replace")


def test_tokenize_renders_tool_turns_with_the_checkpoint_template(hub_gateway: Gateway):
    tool = WEATHER_TOOL
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": CALL}, {"role": "tool", "content": RESULT}]
    out = tokenize(hub_gateway, messages, [tool])
    ids, strs = out["tokens"], out["token_strs"]
    assert out["max_model_len"] == 32768
    assert ids[0] == 1  # <|startoftext|>, from the template's bos_token
    for token_id, marker in MARKER_IDS.items():
        assert ids.count(token_id) == 1, marker
        assert strs[ids.index(token_id)] == marker
    text = "".join(strs).replace("\u0120", " ").replace("\u010a", "\n")
    expected_tools = "List of tools: <|tool_list_start|>[" + json.dumps(tool) + "]<|tool_list_end|>"
    assert text == (
        "<|startoftext|><|im_start|>system\n" + SYSTEM + "\n" + expected_tools + "<|im_end|>\n"
        "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
        "<|im_start|>assistant\n" + CALL + "<|im_end|>\n"
        "<|im_start|>tool\n<|tool_response_start|>" + RESULT + "<|tool_response_end|><|im_end|>\n"
        "<|im_start|>assistant\n")


def test_the_checkpoint_template_drops_a_past_call_sent_as_tool_calls(hub_gateway: Gateway):
    """LFM2's original template prints only `content`: a call an OpenAI client sends back as `tool_calls`
    (content null) vanishes, which is why the gateway's own `lfm2` template is the default."""
    call = {"id": "call_1", "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}
    messages = [{"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_1", "content": RESULT}]
    ids = tokenize(hub_gateway, messages)["tokens"]
    assert 10 not in ids and 11 not in ids
    assert ids.count(12) == 1 and ids.count(13) == 1


def test_chat_answers(client: openai.OpenAI):
    out = client.chat.completions.create(model=DEFAULT_MODEL, max_tokens=8,
                                         messages=[{"role": "user", "content": "Hello!"}])
    assert out.model == DEFAULT_MODEL
    assert out.choices[0].finish_reason in ("stop", "length")
    assert out.usage is not None and out.usage.completion_tokens >= 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_forced_tool_call_comes_back_as_tool_calls(client: openai.OpenAI, stream: bool):
    kwargs = {"model": DEFAULT_MODEL, "messages": [{"role": "user", "content": "Weather in Paris?"}],
              "tools": [WEATHER_TOOL], "max_tokens": 40, "extra_body": force(CALL)}
    if not stream:
        choice = client.chat.completions.create(**kwargs).choices[0]
        assert choice.finish_reason == "tool_calls" and not choice.message.content
        calls = [(c.function.name, json.loads(c.function.arguments)) for c in choice.message.tool_calls or ()]
        assert calls == [("get_weather", {"city": "Paris"})]
        return
    names, arguments, reasons = [], "", []
    for chunk in client.chat.completions.create(stream=True, **kwargs):
        for choice in chunk.choices:
            assert not choice.delta.content
            for fragment in choice.delta.tool_calls or ():
                names += [fragment.function.name] if fragment.function and fragment.function.name else []
                arguments += (fragment.function.arguments or "") if fragment.function else ""
            reasons += [choice.finish_reason] if choice.finish_reason else []
    assert names == ["get_weather"] and json.loads(arguments) == {"city": "Paris"}
    assert reasons == ["tool_calls"]


def test_the_access_log_carries_the_request_timeline(hub_gateway: Gateway, client: openai.OpenAI):
    """Every chat request's log line says when it reached each stage (ms since the HTTP request arrived)."""
    request_id = "timeline-check-1"
    stream = client.chat.completions.create(
        model=DEFAULT_MODEL, messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER_TOOL],
        max_tokens=40, stream=True, extra_body=force(CALL), extra_headers={"X-Request-Id": request_id})
    assert any(c.choices and c.choices[0].delta.tool_calls for c in list(stream))
    assert hub_gateway.log is not None
    deadline = time.monotonic() + 10
    record = None
    while record is None and time.monotonic() < deadline:
        for line in hub_gateway.log.read_text(errors="replace").splitlines():
            if request_id in line and '"timeline_ms"' in line:
                record = json.loads(line)
        time.sleep(0.2)
    assert record is not None
    timeline = record["timeline_ms"]
    stages = ["validated", "rendered", "admitted", "first_output", "first_byte", "first_token", "first_call"]
    assert list(timeline) == stages
    values = [timeline[s] for s in stages]
    assert values == sorted(values) and values[0] >= 0
    assert record["ttft_s"] * 1000 == pytest.approx(timeline["first_token"], abs=1.0)
