"""`parse()`: the whole output at once, by definition `feed(text)` + `close()`."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ._deltas import merge
from ._stream import StreamParser
from ._types import DEFAULT_RELEASE_AFTER, ParseResult


def parse(
    text: str,
    tools: Iterable[object] | None = None,
    *,
    id_factory: Callable[[], str] | None = None,
    release_after: int = DEFAULT_RELEASE_AFTER,
) -> ParseResult:
    """Parse a complete LFM2 output into content, OpenAI tool calls and outcomes.

    `release_after` changes only the ids: a call that fails after its release
    (see `StreamParser`) used one. Pass the stream's value to compare ids."""
    parser = StreamParser(tools, id_factory, release_after=release_after)
    deltas = parser.feed(text) + parser.close()
    return merge(deltas, parser.outcomes, parser.failed_indices)
