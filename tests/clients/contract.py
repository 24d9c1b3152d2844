"""The streaming tool-call contract that strict OpenAI clients rely on, checked on a whole SSE body.

Per choice: every tool-call fragment has `index`, dense from 0, and a call's fragments are
contiguous; `id` (call_...), `type` and `name` come exactly once, on a call's first fragment; a
call's `arguments` concatenate to a JSON object; no tool-call marker text reaches `content`. The
per-delta rules are `tests/tool_parser/stream_contract.check_stream`'s; this module adapts a chat
completion stream to it (role chunks, reasoning and finish chunks are not part of that contract).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from tests.tool_parser.stream_contract import check_stream


def sse_chunks(body: str) -> tuple[list[dict[str, Any]], bool]:
    """The JSON chunks of an SSE body and whether it ended with `data: [DONE]`."""
    chunks: list[dict[str, Any]] = []
    done = False
    for line in body.splitlines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            done = True
        elif data:
            chunks.append(json.loads(data))
    return chunks, done


def tools_on(request: dict[str, Any]) -> bool:
    return bool(request.get("tools")) and request.get("tool_choice") != "none"


def check_chat_stream(chunks: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    """Assert the contract on every choice; returns each choice's folded tool calls."""
    deltas: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for chunk in chunks:
        assert chunk.get("object") == "chat.completion.chunk", chunk
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            if delta.get("tool_calls"):
                assert set(delta) - {"role"} == {"tool_calls"} or delta.get("content") in (None, ""), delta
                deltas[choice["index"]].append({"tool_calls": delta["tool_calls"]})
            elif delta.get("content"):
                deltas[choice["index"]].append({"content": delta["content"]})
    return {index: check_stream(items).tool_calls for index, items in deltas.items()}


def violation(request: dict[str, Any], body: str) -> str | None:
    """None when a finished tool-enabled stream keeps the contract, else what broke."""
    chunks, done = sse_chunks(body)
    if not done or not tools_on(request):
        return None
    try:
        check_chat_stream(chunks)
    except Exception as exc:  # any way the check breaks (bad JSON, a missing id) is a violation
        return f"{type(exc).__name__}: {exc}\n  request: {json.dumps(request)[:400]}"
    return None
