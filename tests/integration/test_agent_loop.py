"""A full agent loop renders what LFM2 expects at every turn, seen through `POST /tokenize`.

user -> assistant `tool_calls` (content null, two parallel calls) -> two `tool` results (an object and
content parts) -> assistant answer -> next user turn. Each turn's prompt is decoded from the returned
`token_strs` (byte-level BPE), so the test also shows the markers are single special tokens.
"""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.engine

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "get_time", "parameters": {
        "type": "object", "properties": {"tz": {"type": "string"}}}}},
]
SPECIAL = ("<|startoftext|>", "<|im_start|>", "<|im_end|>", "<|tool_list_start|>", "<|tool_list_end|>",
           "<|tool_call_start|>", "<|tool_call_end|>", "<|tool_response_start|>", "<|tool_response_end|>")
TOOL_LIST = "List of tools: <|tool_list_start|>[" + ", ".join(
    json.dumps({"name": t["function"]["name"], **({"description": t["function"]["description"]}
                                                  if "description" in t["function"] else {}),
                "parameters": t["function"]["parameters"]}) for t in TOOLS) + "]<|tool_list_end|>"
USER = {"role": "user", "content": "Weather and time in Paris?"}
CALLS = {"role": "assistant", "content": None, "tool_calls": [
    {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}},
    {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": '{"tz": "CET"}'}},
]}
RESULTS = [
    {"role": "tool", "tool_call_id": "call_a", "content": {"temp_c": 21, "sky": "clear"}},
    {"role": "tool", "tool_call_id": "call_b", "content": [{"type": "text", "text": "12:05"}]},
]
ANSWER = {"role": "assistant", "content": "<think>Both tools answered.</think>It is 21 °C and 12:05."}
FOLLOW_UP = {"role": "user", "content": "Thanks!"}


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte <-> printable character table, inverted."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            chars[chr(byte)] = byte
        else:
            chars[chr(256 + extra)] = byte
            extra += 1
    return chars


BYTES = _byte_decoder()


def rendered(gateway, messages, **extra) -> tuple[str, list[str]]:
    r = httpx.post(gateway.base_url + "/tokenize", timeout=30,
                   json={"messages": messages, "tools": TOOLS, "return_token_strs": True, **extra})
    assert r.status_code == 200, r.text
    strs = r.json()["token_strs"]
    out, pending = [], bytearray()  # a character may span tokens: decode runs between special tokens
    for s in strs:
        if s in SPECIAL:
            out += [pending.decode(), s]
            pending.clear()
        else:
            pending += bytes(BYTES[c] for c in s)
    return "".join(out) + pending.decode(), strs


def turn(role, text):
    return f"<|im_start|>{role}\n{text}<|im_end|>\n"


def test_turn_1_user_asks(gateway):
    text, strs = rendered(gateway, [USER])
    assert text == "<|startoftext|>" + turn("system", TOOL_LIST) + turn("user", USER["content"]) + \
        "<|im_start|>assistant\n"
    assert "<|tool_list_start|>" in strs


def test_turn_2_parallel_calls_and_their_results(gateway):
    text, strs = rendered(gateway, [USER, CALLS, *RESULTS])
    calls = '<|tool_call_start|>[get_weather(city="Paris"), get_time(tz="CET")]<|tool_call_end|>'
    assert text.endswith(
        turn("user", USER["content"])
        + turn("assistant", calls)
        + turn("tool", '<|tool_response_start|>{"temp_c": 21, "sky": "clear"}<|tool_response_end|>')
        + turn("tool", "<|tool_response_start|>12:05<|tool_response_end|>")
        + "<|im_start|>assistant\n")
    assert strs.count("<|tool_call_start|>") == 1 and strs.count("<|tool_response_start|>") == 2


def test_calls_with_text_and_arguments_as_objects(gateway):
    calls = {"role": "assistant", "content": "Checking.", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]}
    text, _ = rendered(gateway, [USER, calls, {"role": "tool", "tool_call_id": "c", "content": "7"}])
    assert turn("assistant", '<|tool_call_start|>[get_weather(city="Oslo")]<|tool_call_end|>Checking.') in text
    assert turn("tool", "<|tool_response_start|>7<|tool_response_end|>") in text


def test_turn_3_answer_then_next_question_drops_past_thinking(gateway):
    text, _ = rendered(gateway, [USER, CALLS, *RESULTS, ANSWER, FOLLOW_UP])
    assert text.endswith(turn("assistant", "It is 21 °C and 12:05.") + turn("user", "Thanks!")
                         + "<|im_start|>assistant\n")
    assert "<think>" not in text


def test_past_thinking_kept_when_asked(gateway):
    text, _ = rendered(gateway, [USER, CALLS, *RESULTS, ANSWER, FOLLOW_UP],
                       chat_template_kwargs={"keep_past_thinking": True})
    assert turn("assistant", ANSWER["content"]) in text


def test_latest_assistant_turn_keeps_its_thinking(gateway):
    text, _ = rendered(gateway, [USER, ANSWER], add_generation_prompt=False)
    assert text.endswith(turn("assistant", ANSWER["content"]))
