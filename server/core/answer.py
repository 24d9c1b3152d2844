"""Turns one choice's generated text into OpenAI delta dicts: reasoning, content and tool calls.

The same decoder serves streaming (fed every engine step) and non-streaming (fed the whole text once),
so both paths give the same answer. Reasoning is split first (`<think>` comes before anything else),
then, when tools are on, the rest goes through `tool_parser.StreamParser` and `call_gate.CallGate`
(schema checks, strict functions, the call limit).
"""

from __future__ import annotations

from typing import Any

import tool_parser
from server.core.call_gate import CallGate
from server.core.reasoning import ReasoningSplitter
from server.core.tool_validation import ArgumentValidator

Delta = dict[str, Any]


class AnswerDecoder:
    __slots__ = ("_gate", "_parser", "_reasoning", "_thoughts")

    def __init__(self, tools: list[dict[str, Any]] | None, *, parse_tools: bool, reasoning: bool = True,
                 max_calls: int | None = None, release_after: int = tool_parser.DEFAULT_RELEASE_AFTER) -> None:
        self._reasoning = ReasoningSplitter() if reasoning else None
        self._parser = tool_parser.StreamParser(tools=tools, release_after=release_after) if parse_tools else None
        self._gate = CallGate(ArgumentValidator(tools), max_calls)
        self._thoughts: list[str] = []

    @property
    def outcomes(self) -> list[Any]:
        if self._parser is None:
            return []
        return self._gate.outcomes(self._parser.outcomes, self._parser.failed_indices)

    @property
    def failed_calls(self) -> set[int]:
        """Calls that were streamed and then failed to parse (their text went to content)."""
        return self._gate.client_indices(self._parser.failed_indices) if self._parser else set()

    @property
    def called_tools(self) -> bool:
        """Whether the answer holds at least one call that parsed (finish_reason `tool_calls`)."""
        return bool(self._gate.reported(self._parser.failed_indices)) if self._parser else False

    @property
    def reasoning_text(self) -> str:
        """All the reasoning decoded so far (what `usage.completion_tokens_details.reasoning_tokens` counts)."""
        return "".join(self._thoughts)

    def feed(self, text: str) -> list[Delta]:
        if not text:
            return []
        if self._reasoning is None:
            return self._content(text)
        thought, text = self._reasoning.feed(text)
        out: list[Delta] = []
        if thought:
            out.append({"reasoning_content": thought})
            self._thoughts.append(thought)
        if text:
            out += self._content(text)
        return out

    def close(self) -> list[Delta]:
        out: list[Delta] = []
        if self._reasoning is not None:
            thought, text = self._reasoning.close()
            if thought:
                out.append({"reasoning_content": thought})
                self._thoughts.append(thought)
            if text:
                out += self._content(text)
        if self._parser is not None:
            deltas = self._parser.close()
            out += self._gate.close(deltas, self._parser.failed_indices)
        return out

    def _content(self, text: str) -> list[Delta]:
        if self._parser is None:
            return [{"content": text}]
        deltas = self._parser.feed(text)
        return self._gate.feed(deltas, self._parser.failed_indices)


def merge(deltas: list[Delta], failed: set[int] | frozenset[int] = frozenset()) -> dict[str, Any]:
    """Fold a choice's deltas into one assistant message (the non-streaming answer).

    Calls in `failed` were streamed before they turned out malformed; their text is already in the
    content, so they are left out, as `tool_parser.parse` does.
    """
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        if "content" in delta:
            content.append(delta["content"])
        if "reasoning_content" in delta:
            reasoning.append(delta["reasoning_content"])
        for fragment in delta.get("tool_calls", ()):
            if fragment["index"] in failed:
                continue
            call = calls.get(fragment["index"])
            fn = fragment.get("function", {})
            if call is None:
                calls[fragment["index"]] = {
                    "id": fragment.get("id"),
                    "type": "function",
                    "function": {"name": fn.get("name", ""), "arguments": fn.get("arguments", "")},
                }
            else:
                call["function"]["arguments"] += fn.get("arguments", "")
    text = "".join(content)
    message: dict[str, Any] = {"role": "assistant", "content": text if text.strip() or not calls else None}
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message
