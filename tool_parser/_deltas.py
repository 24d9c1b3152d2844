"""Internal output fragments -> OpenAI `delta` dicts, and deltas -> a message.

Parser stages append cheap tuples; they become dicts once per `feed()`, with
neighbouring pieces of the same kind merged. `merge()` is the one place a
stream of deltas is folded into the final message, so `parse()` and a client
that concatenates the stream agree by construction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, Final

from ._types import CallOutcome, Delta, ParseResult, ToolCallDict

CONTENT: Final = 0
HEADER: Final = 1  # (HEADER, index, id, name)
ARGUMENTS: Final = 2  # (ARGUMENTS, index, json_text, "")

Fragment = tuple[int, int, str, str]


def build_deltas(fragments: Sequence[Fragment]) -> list[Delta]:
    if len(fragments) == 1:  # the common streaming case
        kind, index, text, name = fragments[0]
        if kind == HEADER:
            return [_delta(kind, index, text, name, [])]
        return [_delta(kind, index, "", "", [text])]
    groups: list[tuple[int, int, str, str, list[str]]] = []
    for kind, index, text, name in fragments:
        if groups:
            last_kind, last_index, _, _, parts = groups[-1]
            same_content = kind == CONTENT and last_kind == CONTENT
            same_call = kind == ARGUMENTS and last_kind != CONTENT and last_index == index
            if same_content or same_call:
                parts.append(text)
                continue
        if kind == HEADER:
            groups.append((HEADER, index, text, name, []))
        else:
            groups.append((kind, index, "", "", [text]))
    return [_delta(*group) for group in groups]


def _delta(kind: int, index: int, call_id: str, name: str, parts: list[str]) -> Delta:
    text = "".join(parts)
    if kind == CONTENT:
        return {"content": text}
    entry: dict[str, Any] = {"index": index}
    if kind == HEADER:
        entry["id"] = call_id
        entry["type"] = "function"
        entry["function"] = {"name": name, "arguments": text}
    else:
        entry["function"] = {"arguments": text}
    return {"tool_calls": [entry]}


def merge(
    deltas: Iterable[Delta],
    outcomes: list[CallOutcome],
    failed_indices: Collection[int] = (),
) -> ParseResult:
    """Fold a delta stream into one message, leaving out calls that failed after
    their first fragments had been streamed (their text is in the content)."""
    content: list[str] = []
    calls: dict[int, tuple[str, str, list[str]]] = {}
    for delta in deltas:
        if "content" in delta:
            content.append(delta["content"])
        for entry in delta.get("tool_calls", ()):
            function = entry.get("function", {})
            if "id" in entry:
                calls[entry["index"]] = (entry["id"], function["name"], [])
            calls[entry["index"]][2].append(function.get("arguments", ""))
    tool_calls: list[ToolCallDict] = [
        {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": "".join(parts)},
        }
        for index, (call_id, name, parts) in sorted(calls.items())
        if index not in failed_indices
    ]
    text = "".join(content)
    return ParseResult(text if text.strip() else None, tool_calls, list(outcomes))
