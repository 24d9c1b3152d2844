"""The answer decoder's deltas as Responses output items and the events that build them.

One state machine serves both paths: streaming feeds it every engine step and sends the events;
non-streaming feeds it the whole answer and keeps only the finished items, so both give the same
output. The current item is a `message` (text), a `reasoning` item (`<think>` text) or a
`function_call` (one per tool-call index); a delta of another kind closes it and opens the next.

Whitespace between items is not an item: text that is only whitespace is held until something else
arrives, and dropped if that is a call or the end (OpenAI sends no empty message beside a call).
Events carry no `sequence_number`; the stream numbers them as it sends them.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import Any

Event = dict[str, Any]
Delta = dict[str, Any]


class OutputBuilder:
    __slots__ = ("_current", "_failed", "_held", "_namespaces", "_new_id", "_open", "_parts", "items")

    def __init__(self, new_id: Callable[[str], str], namespaces: dict[str, str] | None = None) -> None:
        self._new_id = new_id
        self._namespaces = namespaces or {}
        self.items: list[dict[str, Any]] = []  # the output, finished items and the open one
        self._open: dict[str, Any] | None = None
        self._current: tuple[str, int | None] | None = None  # (kind, tool-call index)
        self._parts: list[str] = []  # text or arguments of the open item
        self._held = ""  # whitespace-only text not yet given to an item
        self._failed: Container[int] = ()

    @property
    def has_calls(self) -> bool:
        return any(item["type"] == "function_call" for item in self.items)

    def feed(self, deltas: list[Delta], failed: Container[int] = ()) -> list[Event]:
        """`failed`: tool-call indices the decoder has given up on (their item ends `incomplete`)."""
        self._failed = failed
        events: list[Event] = []
        for delta in deltas:
            if "reasoning_content" in delta:
                self._reasoning(delta["reasoning_content"], events)
            if delta.get("content"):
                self._text(delta["content"], events)
            for fragment in delta.get("tool_calls", ()):
                self._call(fragment, events)
        return events

    def finish(self, incomplete: bool = False, failed: Container[int] = ()) -> list[Event]:
        """Close the open item; `incomplete`: the answer was cut (max_output_tokens)."""
        self._failed = failed
        events: list[Event] = []
        if self._held and not self.items:
            self._open_message(events)
            self._append_text(self._held, events)
        self._held = ""
        self._close(events, "incomplete" if incomplete else "completed")
        return events

    # ---------------------------------------------------------------- kinds

    def _text(self, text: str, events: list[Event]) -> None:
        if self._current is not None and self._current[0] == "message":
            self._append_text(text, events)
            return
        if not text.strip():
            self._held += text
            return
        self._close(events)
        self._open_message(events)
        text, self._held = self._held + text, ""
        self._append_text(text, events)

    def _reasoning(self, text: str, events: list[Event]) -> None:
        if self._current is None or self._current[0] != "reasoning":
            self._held = ""
            self._close(events)
            item = {"id": self._new_id("rs"), "type": "reasoning", "summary": [], "content": []}
            self._start(item, ("reasoning", None), events)
            events.append({"type": "response.content_part.added", "item_id": item["id"],
                           "output_index": self._index, "content_index": 0,
                           "part": {"type": "reasoning_text", "text": ""}})
        self._parts.append(text)
        events.append({"type": "response.reasoning_text.delta", "item_id": self._id, "output_index": self._index,
                       "content_index": 0, "delta": text})

    def _call(self, fragment: Delta, events: list[Event]) -> None:
        index = fragment["index"]
        function = fragment.get("function", {})
        if self._current != ("function_call", index):
            self._held = ""
            self._close(events)
            name = function.get("name", "")
            item = {"id": self._new_id("fc"), "type": "function_call", "status": "in_progress",
                    "arguments": "", "call_id": fragment.get("id") or self._new_id("call"), "name": name}
            if name in self._namespaces:
                item["namespace"] = self._namespaces[name]
            self._start(item, ("function_call", index), events)
        arguments = function.get("arguments", "")
        if arguments:
            self._parts.append(arguments)
            events.append({"type": "response.function_call_arguments.delta", "item_id": self._id,
                           "output_index": self._index, "delta": arguments})

    # ---------------------------------------------------------------- items

    @property
    def _index(self) -> int:
        return len(self.items) - 1

    @property
    def _id(self) -> str:
        assert self._open is not None
        return str(self._open["id"])

    def _start(self, item: dict[str, Any], current: tuple[str, int | None], events: list[Event]) -> None:
        self.items.append(item)
        self._open, self._current, self._parts = item, current, []
        events.append({"type": "response.output_item.added", "output_index": self._index, "item": dict(item)})

    def _open_message(self, events: list[Event]) -> None:
        item = {"id": self._new_id("msg"), "type": "message", "status": "in_progress", "content": [],
                "role": "assistant"}
        self._start(item, ("message", None), events)
        events.append({"type": "response.content_part.added", "item_id": item["id"], "output_index": self._index,
                       "content_index": 0, "part": _text_part("")})

    def _append_text(self, text: str, events: list[Event]) -> None:
        self._parts.append(text)
        events.append({"type": "response.output_text.delta", "item_id": self._id, "output_index": self._index,
                       "content_index": 0, "delta": text, "logprobs": []})

    def _close(self, events: list[Event], status: str = "completed") -> None:
        item, current = self._open, self._current
        if item is None or current is None:
            return
        self._open = self._current = None
        text = "".join(self._parts)
        base = {"item_id": item["id"], "output_index": self._index}
        kind, index = current
        if kind == "message":
            part = _text_part(text)
            events.append({"type": "response.output_text.done", **base, "content_index": 0, "text": text,
                           "logprobs": []})
            events.append({"type": "response.content_part.done", **base, "content_index": 0, "part": part})
            item["content"] = [part]
        elif kind == "reasoning":
            part = {"type": "reasoning_text", "text": text}
            events.append({"type": "response.reasoning_text.done", **base, "content_index": 0, "text": text})
            events.append({"type": "response.content_part.done", **base, "content_index": 0, "part": part})
            item["content"] = [part]
        else:
            item["arguments"] = text
            events.append({"type": "response.function_call_arguments.done", **base, "name": item["name"],
                           "arguments": text})
            if index in self._failed:
                status = "incomplete"
        if kind != "reasoning":
            item["status"] = status
        events.append({"type": "response.output_item.done", "output_index": self._index, "item": dict(item)})


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
