"""`parse()`: the whole output at once, by definition `feed(text)` + `close()`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ._deltas import merge
from ._stream import StreamParser
from ._types import ParseResult


def parse(
    text: str,
    tools: Iterable[object] | None = None,
    *,
    id_factory: Callable[[], str] | None = None,
) -> ParseResult:
    """Parse a complete LFM2 output into content, OpenAI tool calls and outcomes."""
    parser = StreamParser(tools, id_factory)
    deltas = parser.feed(text) + parser.close()
    return merge(deltas, parser.outcomes, parser.failed_indices)
