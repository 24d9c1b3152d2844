"""The gateway's LFM2 template: the prompt an agent loop produces, turn by turn."""

from __future__ import annotations

import pytest

from server.checkpoints.tiny_model import ensure_tiny_model
from server.core.lfm2_template import render_prompt

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather now",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
CALL = {"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
AGENT_LOOP = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris and Rome?"},
    {"role": "assistant", "content": None, "tool_calls": [
        CALL, {"id": "call_2", "type": "function",
               "function": {"name": "get_weather", "arguments": '{"city": "Rome", "n": 2, "x": null, "ok": true}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
    {"role": "tool", "tool_call_id": "call_2", "content": "18 C"},
    {"role": "assistant", "content": "Paris 21, Rome 18."},
    {"role": "user", "content": "Thanks, ¿y Zürich?"},
]


def test_system_and_tools_share_the_system_turn():
    text = render_prompt(AGENT_LOOP[:2], TOOLS)
    assert text.startswith(
        "<|startoftext|><|im_start|>system\nBe brief.\nList of tools: <|tool_list_start|>"
        '[{"name": "get_weather", "description": "Weather now", "parameters": {"type": "object", '
        '"properties": {"city": {"type": "string"}}, "required": ["city"]}}]<|tool_list_end|><|im_end|>\n'
        "<|im_start|>user\nWeather in Paris and Rome?<|im_end|>\n")
    assert text.endswith("<|im_start|>assistant\n")


def test_tools_without_system_prompt():
    text = render_prompt(AGENT_LOOP[1:2], TOOLS)
    assert text.startswith("<|startoftext|><|im_start|>system\nList of tools: <|tool_list_start|>[")


def test_agent_loop_keeps_past_calls_and_results():
    text = render_prompt(AGENT_LOOP, TOOLS)
    assert ("<|im_start|>assistant\n<|tool_call_start|>[get_weather(city=\"Paris\"), "
            "get_weather(city=\"Rome\", n=2, x=None, ok=True)]<|tool_call_end|><|im_end|>\n") in text
    assert "<|im_start|>tool\n<|tool_response_start|>{\"temp\": 21}<|tool_response_end|><|im_end|>\n" in text
    assert "<|im_start|>tool\n<|tool_response_start|>18 C<|tool_response_end|><|im_end|>\n" in text
    assert "<|im_start|>assistant\nParis 21, Rome 18.<|im_end|>\n" in text


def test_non_string_tool_result_is_json():
    text = render_prompt([{"role": "tool", "content": [{"type": "text", "text": "ok"}]},
                          {"role": "tool", "content": {"a": [1, 2]}}])
    assert "<|tool_response_start|>ok<|tool_response_end|>" in text
    assert '<|tool_response_start|>{"a": [1, 2]}<|tool_response_end|>' in text


def test_call_with_text_renders_call_then_text():
    text = render_prompt([{"role": "assistant", "content": "Checking.", "tool_calls": [CALL]}],
                         add_generation_prompt=False)
    assert text.endswith('<|tool_call_start|>[get_weather(city="Paris")]<|tool_call_end|>Checking.<|im_end|>\n')


def test_past_thinking_is_dropped_unless_kept():
    messages = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "<think>secret</think>answer"},
        {"role": "user", "content": "b"},
    ]
    assert "secret" not in render_prompt(messages)
    assert "<think>secret</think>answer" in render_prompt(messages, keep_past_thinking=True)
    latest = [*messages, {"role": "assistant", "content": "<think>now</think>x"}]
    assert "<think>now</think>x" in render_prompt(latest, add_generation_prompt=False)


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(ensure_tiny_model())


@pytest.mark.parametrize("messages,tools", [
    (AGENT_LOOP, TOOLS),
    (AGENT_LOOP[1:], TOOLS),
    (AGENT_LOOP[1:2], None),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "<think>t</think>b"},
      {"role": "user", "content": "c"}], None),
])
def test_checkpoint_jinja_template_matches(tokenizer, messages, tools):
    """The Jinja copy written into our checkpoints renders what the gateway renders."""
    import json

    for_jinja = json.loads(json.dumps(messages))
    for m in for_jinja:  # vLLM hands arguments to templates as mappings
        for c in m.get("tool_calls") or ():
            c["function"]["arguments"] = json.loads(c["function"]["arguments"])
    jinja = tokenizer.apply_chat_template(for_jinja, tools=tools, tokenize=False, add_generation_prompt=True)
    assert jinja == render_prompt(messages, tools)
