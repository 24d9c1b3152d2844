"""Splits `<think>...</think>` at the start of an answer (LFM2.5 thinking checkpoints) from the rest.

Incremental like the tool parser: `feed(delta)` returns `(reasoning, content)` pieces, holding back
only a suffix that could still become `<think>` or `</think>`; `close()` flushes what is held. An
unclosed `<think>` at the end stays reasoning (the model ran out of tokens while thinking).
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


class ReasoningSplitter:
    __slots__ = ("_held", "_state")

    def __init__(self) -> None:
        self._state = "start"  # start -> thinking -> after -> content
        self._held = ""

    def feed(self, delta: str) -> tuple[str, str]:
        if self._state == "content":
            return "", delta
        if self._state == "after":  # the newlines that follow </think> belong to neither part
            delta = delta.lstrip("\n")
            if delta:
                self._state = "content"
            return "", delta
        text = self._held + delta
        self._held = ""
        if self._state == "start":
            stripped = text.lstrip()
            if stripped.startswith(OPEN):
                self._state = "thinking"
                text = stripped[len(OPEN):]
            elif OPEN.startswith(stripped):
                self._held = text  # could still be "<think>"
                return "", ""
            else:
                self._state = "content"
                return "", text
        end = text.find(CLOSE)
        if end >= 0:
            self._state = "after"
            thought = text[:end]
            return (thought, *self.feed(text[end + len(CLOSE):])[1:])
        keep = _partial_suffix(text, CLOSE)
        self._held = text[len(text) - keep:]
        return text[: len(text) - keep], ""

    def close(self) -> tuple[str, str]:
        held, self._held = self._held, ""
        if self._state == "thinking":
            return held, ""
        return "", held


def _partial_suffix(text: str, marker: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `marker`."""
    for size in range(min(len(marker) - 1, len(text)), 0, -1):
        if text.endswith(marker[:size]):
            return size
    return 0
