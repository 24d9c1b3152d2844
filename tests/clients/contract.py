"""The streaming tool-call contract that strict OpenAI clients rely on, checked on a whole SSE body.

Responses streams (`event: response.*`) have their own rules, in `check_responses_stream`: sequence
numbers increase from 0; each function call is announced by exactly one `output_item.added`; its
argument deltas concatenate to the `arguments` of its done events and of the final response, and
form a JSON object; no marker text reaches any event; the stream ends with a terminal event.

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


TERMINAL = ("response.completed", "response.incomplete", "response.failed")
MARKERS = ("<|tool_call_start|>", "<|tool_call_end|>")


def is_responses_stream(body: str) -> bool:
    return body.startswith("event: response.")


def responses_events(body: str) -> list[dict[str, Any]]:
    """The events of a Responses SSE body; each `data:` line's `type` matches its `event:` line."""
    events, kind = [], None
    for line in body.splitlines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            event = json.loads(line[5:].strip())
            assert event["type"] == kind, (kind, event["type"])
            events.append(event)
    return events


def check_responses_stream(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Assert the Responses contract; returns the final response's function_call items."""
    assert [e["sequence_number"] for e in events] == list(range(len(events))), "sequence numbers"
    for event in events:
        text = json.dumps(event)
        assert not any(m in text for m in MARKERS), f"marker text in {event['type']}"
    added: dict[str, dict[str, Any]] = {}
    deltas: dict[str, list[str]] = defaultdict(list)
    done: dict[str, dict[str, Any]] = {}
    for event in events:
        kind = event["type"]
        if kind == "response.output_item.added" and event["item"]["type"] == "function_call":
            item_id = event["item"]["id"]
            assert item_id not in added, f"{item_id} added twice"
            assert event["item"]["call_id"] and event["item"]["name"]
            added[item_id] = event["item"]
        elif kind == "response.function_call_arguments.delta":
            assert event["item_id"] in added and event["item_id"] not in done, "delta outside its item"
            deltas[event["item_id"]].append(event["delta"])
        elif kind == "response.function_call_arguments.done":
            assert event["arguments"] == "".join(deltas[event["item_id"]]), "deltas != arguments.done"
        elif kind == "response.output_item.done" and event["item"]["type"] == "function_call":
            done[event["item"]["id"]] = event["item"]
    assert events and events[-1]["type"] in TERMINAL, "no terminal event"
    assert set(done) == set(added), "a call was added and never done"
    final = [i for i in events[-1]["response"]["output"] if i["type"] == "function_call"]
    for item in final:
        assert item == done[item["id"]], "final item differs from its done event"
        assert item["arguments"] == "".join(deltas[item["id"]])
        if item["status"] == "completed":
            assert isinstance(json.loads(item["arguments"]), dict)
    return final


def violation(request: dict[str, Any], body: str) -> str | None:
    """None when a finished tool-enabled stream keeps the contract, else what broke."""
    if is_responses_stream(body):
        try:
            events = responses_events(body)
            if not events or events[-1]["type"] not in TERMINAL or not request.get("tools"):
                return None  # read only in part, or no tools
            check_responses_stream(events)
        except Exception as exc:
            return f"responses {type(exc).__name__}: {exc}\n  request: {json.dumps(request)[:400]}"
        return None
    chunks, done = sse_chunks(body)
    if not done or not tools_on(request):
        return None
    try:
        check_chat_stream(chunks)
    except Exception as exc:  # any way the check breaks (bad JSON, a missing id) is a violation
        return f"{type(exc).__name__}: {exc}\n  request: {json.dumps(request)[:400]}"
    return None
