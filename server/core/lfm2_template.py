"""The gateway's LFM2 chat template, in Python.

LFM2's published template prints only an assistant message's `content`, so in an OpenAI agent loop
(assistant `tool_calls` with content null, then `tool` results) the model never sees its own previous
call. This renderer keeps the whole conversation in the form LFM2 was trained on:

    <|startoftext|><|im_start|>system
    {system prompt}
    List of tools: <|tool_list_start|>[{"name": ..., "description": ..., "parameters": ...}]<|tool_list_end|><|im_end|>
    <|im_start|>user
    ...<|im_end|>
    <|im_start|>assistant
    <|tool_call_start|>[name(arg="value")]<|tool_call_end|>{content}<|im_end|>
    <|im_start|>tool
    <|tool_response_start|>{result}<|tool_response_end|><|im_end|>
    <|im_start|>assistant

`<think>...</think>` is dropped from assistant turns before the last user message unless
`keep_past_thinking` is asked for (LFM2.5 thinking checkpoints). `lfm2_jinja.py` holds the same
template in Jinja for checkpoints we build, and a test keeps the two in step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import tool_parser

BOS = "<|startoftext|>"
_THINK = re.compile(r"<think>.*?</think>\s*", re.DOTALL)


def render_prompt(
    messages: Sequence[Mapping[str, Any]],
    tools: Sequence[Mapping[str, Any]] | None = None,
    *,
    add_generation_prompt: bool = True,
    keep_past_thinking: bool = False,
) -> str:
    """Render OpenAI chat messages (plain dicts) into LFM2's prompt text."""
    parts = [BOS]
    system = ""
    rest = list(messages)
    if rest and rest[0].get("role") in ("system", "developer"):
        system = content_text(rest[0].get("content"))
        rest = rest[1:]
    if tools:
        tool_list = ", ".join(json.dumps(flat_tool(t), ensure_ascii=False) for t in tools)
        system += ("\n" if system else "") + f"List of tools: <|tool_list_start|>[{tool_list}]<|tool_list_end|>"
    if system:
        parts.append(f"<|im_start|>system\n{system}<|im_end|>\n")
    last_user = max((i for i, m in enumerate(rest) if m.get("role") == "user"), default=-1)
    for i, message in enumerate(rest):
        role = message.get("role")
        if role == "developer":
            role = "system"
        text = content_text(message.get("content"))
        if role == "assistant":
            if i < last_user and not keep_past_thinking:
                text = _THINK.sub("", text)
            calls = message.get("tool_calls")
            if calls:
                text = tool_parser.render(list(calls)) + text
        elif role == "tool":
            text = f"<|tool_response_start|>{text}<|tool_response_end|>"
        parts.append(f"<|im_start|>{role}\n{text}<|im_end|>\n")
    if add_generation_prompt:
        parts.append("<|im_start|>assistant\n")
    return "".join(parts)


def flat_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    """OpenAI's `{"type": "function", "function": {...}}` as the flat object LFM2 was trained on."""
    fn = tool.get("function", tool)
    flat: dict[str, Any] = {"name": fn.get("name")}
    if fn.get("description") is not None:
        flat["description"] = fn["description"]
    flat["parameters"] = fn.get("parameters") or {"type": "object", "properties": {}}
    return flat


def content_text(content: Any) -> str:
    """Message content as text: strings as they are, text parts joined, anything else as JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, Mapping) and p.get("type") == "text" for p in content):
        return "".join(str(p.get("text", "")) for p in content)
    return json.dumps(content, ensure_ascii=False)
