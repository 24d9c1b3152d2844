"""Split streamed text into plain text and LFM2 tool-call markers.

The markers arrive as literal strings that may be cut anywhere by the
tokenizer or the transport. A suffix that could still grow into a marker is
held back (never longer than a marker) and released as text as soon as it
cannot.
"""

from __future__ import annotations

import re
from enum import Enum

from ._types import TOOL_CALL_END, TOOL_CALL_START


class Marker(Enum):
    START = TOOL_CALL_START
    END = TOOL_CALL_END


Piece = str | Marker

_MARKER_RE = re.compile(re.escape(TOOL_CALL_START) + "|" + re.escape(TOOL_CALL_END))
_LONGEST = max(len(TOOL_CALL_START), len(TOOL_CALL_END))


def _marker_prefix_start(text: str, start: int) -> int:
    """Index of the earliest suffix of `text[start:]` that begins a marker, else len."""
    k = text.find("<", max(start, len(text) - _LONGEST + 1))
    while k != -1:
        tail = text[k:]
        if TOOL_CALL_START.startswith(tail) or TOOL_CALL_END.startswith(tail):
            return k
        k = text.find("<", k + 1)
    return len(text)


class MarkerSplitter:
    """`feed(text) -> pieces`, `flush() -> held text`; equivalent to splitting the
    concatenated input on the two markers, done incrementally."""

    def __init__(self) -> None:
        self.held = ""  # text that may still become a marker

    def feed(self, text: str) -> list[Piece]:
        if self.held:
            text = self.held + text
            self.held = ""
        first = text.find("<")
        if first == -1:
            return [text] if text else []
        pieces: list[Piece] = []
        pos = 0
        for match in _MARKER_RE.finditer(text, first):
            if match.start() > pos:
                pieces.append(text[pos : match.start()])
            pieces.append(Marker(match.group()))
            pos = match.end()
        cut = _marker_prefix_start(text, pos)
        if cut > pos:
            pieces.append(text[pos:cut])
        self.held = text[cut:]
        return pieces

    def flush(self) -> str:
        held, self.held = self.held, ""
        return held
