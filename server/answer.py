"""Turns one choice's generated text into OpenAI delta dicts: reasoning, content and tool calls.

The same decoder serves streaming (fed every engine step) and non-streaming (fed the whole text once),
so both paths give the same answer. Reasoning is split first (`<think>` comes before anything else),
then, when tools are on, the rest goes through `tool_parser.StreamParser`.
"""

from __future__ import annotations

from typing import Any

import tool_parser
from server.reasoning import ReasoningSplitter

Delta = dict[str, Any]


class AnswerDecoder:
    __slots__ = ("_parser", "_reasoning", "called_tools")

    def __init__(self, tools: list[dict[str, Any]] | None, *, parse_tools: bool, reasoning: bool = True) -> None:
        self._reasoning = ReasoningSplitter() if reasoning else None
        self._parser = tool_parser.StreamParser(tools=tools) if parse_tools else None
        self.called_tools = False

    @property
    def outcomes(self) -> list[Any]:
        return list(self._parser.outcomes) if self._parser else []

    def feed(self, text: str) -> list[Delta]:
        if not text:
            return []
        if self._reasoning is None:
            return self._content(text)
        thought, text = self._reasoning.feed(text)
        out: list[Delta] = [{"reasoning_content": thought}] if thought else []
        if text:
            out += self._content(text)
        return out

    def close(self) -> list[Delta]:
        out: list[Delta] = []
        if self._reasoning is not None:
            thought, text = self._reasoning.close()
            if thought:
                out.append({"reasoning_content": thought})
            if text:
                out += self._content(text)
        if self._parser is not None:
            out += self._mark(self._parser.close())
        return out

    def _content(self, text: str) -> list[Delta]:
        if self._parser is None:
            return [{"content": text}]
        return self._mark(self._parser.feed(text))

    def _mark(self, deltas: list[Delta]) -> list[Delta]:
        if not self.called_tools and any("tool_calls" in d for d in deltas):
            self.called_tools = True
        return deltas


def merge(deltas: list[Delta]) -> dict[str, Any]:
    """Fold a choice's deltas into one assistant message (the non-streaming answer)."""
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        if "content" in delta:
            content.append(delta["content"])
        if "reasoning_content" in delta:
            reasoning.append(delta["reasoning_content"])
        for fragment in delta.get("tool_calls", ()):
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
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content) or None}
    if reasoning:
        message["reasoning_content"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return message
