"""Shared test helpers: a stream contract checker and chunked streaming."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import tool_parser
from tool_parser import DEFAULT_RELEASE_AFTER, TOOL_CALL_END, TOOL_CALL_START, ParseResult, StreamParser

Tools = list[dict[str, Any]] | None


def counter_ids() -> Callable[[], str]:
    counter = itertools.count()
    return lambda: f"call_{next(counter)}"


def _markers_can_join(source: str | None) -> bool:
    if source is None:
        return False
    cleaned = source.replace(TOOL_CALL_START, "").replace(TOOL_CALL_END, "")
    return TOOL_CALL_START in cleaned or TOOL_CALL_END in cleaned


def check_stream(
    deltas: Sequence[dict[str, Any]], failed: Iterable[int] = (), source: str | None = None
) -> ParseResult:
    """Assert the OpenAI streaming contract and fold the stream into a message.

    - each delta is {"content": non-empty str} or {"tool_calls": [...]}
    - tool-call indices are dense from 0 and a call's fragments are contiguous
    - id (call_...), type and name exactly once, on the first fragment of a call
    - each call's arguments concatenate to a JSON object
    - no marker text in content, unless `source` shows the model wrote text that
      joins into a marker once a real marker is removed ("<|tool_call_en" END "d|>")
    """
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    current = -1
    for delta in deltas:
        assert set(delta) in ({"content"}, {"tool_calls"}), delta
        if "content" in delta:
            assert isinstance(delta["content"], str) and delta["content"], delta
            content.append(delta["content"])
            continue
        for entry in delta["tool_calls"]:
            index = entry["index"]
            function = entry["function"]
            if index not in calls:
                assert index == len(calls), f"index {index} not dense"
                assert entry["id"].startswith("call_") and entry["type"] == "function"
                assert isinstance(function["name"], str) and function["name"]
                calls[index] = {"id": entry["id"], "name": function["name"], "args": []}
                current = index
            else:
                assert index == current, "fragments of an earlier call after a later one started"
                assert "id" not in entry and "type" not in entry and "name" not in function
            calls[index]["args"].append(function.get("arguments", ""))
    text = "".join(content)
    if not _markers_can_join(source):
        assert TOOL_CALL_START not in text and TOOL_CALL_END not in text, text
    tool_calls = []
    failed = set(failed)
    for index, call in sorted(calls.items()):
        arguments = "".join(call["args"])
        assert isinstance(json.loads(arguments), dict), arguments
        if index not in failed:
            tool_calls.append(
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": arguments},
                }
            )
    return ParseResult(text if text.strip() else None, tool_calls, [])


def stream_deltas(
    chunks: Iterable[str], tools: Tools = None, release_after: int = DEFAULT_RELEASE_AFTER
) -> tuple[list[dict[str, Any]], StreamParser]:
    parser = StreamParser(tools, id_factory=counter_ids(), release_after=release_after)
    deltas: list[dict[str, Any]] = []
    for chunk in chunks:
        deltas += parser.feed(chunk)
    deltas += parser.close()
    return deltas, parser


def stream_chunks(
    chunks: Iterable[str], tools: Tools = None, release_after: int = DEFAULT_RELEASE_AFTER
) -> tuple[ParseResult, StreamParser]:
    """The stream folded as the server does (calls in `failed_indices` left out)."""
    chunks = list(chunks)
    deltas, parser = stream_deltas(chunks, tools, release_after)
    folded = check_stream(deltas, parser.failed_indices, "".join(chunks))
    return ParseResult(folded.content, folded.tool_calls, parser.outcomes), parser


def client_view(chunks: Iterable[str], tools: Tools = None, release_after: int = DEFAULT_RELEASE_AFTER) -> ParseResult:
    """The stream folded as a client that only reads it does: every streamed call counts."""
    chunks = list(chunks)
    deltas, _ = stream_deltas(chunks, tools, release_after)
    return check_stream(deltas, (), "".join(chunks))


def split_every(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def split_random(text: str, rng: random.Random, max_size: int = 8) -> list[str]:
    chunks, pos = [], 0
    while pos < len(text):
        size = rng.randint(0, max_size)
        chunks.append(text[pos : pos + size])
        pos += size
    return chunks


def parse(text: str, tools: Tools = None, release_after: int = DEFAULT_RELEASE_AFTER) -> ParseResult:
    return tool_parser.parse(text, tools, id_factory=counter_ids(), release_after=release_after)


SPLIT_SIZES = (1, 2, 3, 4, 5, 7, 11, 13, 19, 64)


def assert_chunking_invariant(text: str, tools: Tools = None, seeds: int = 3) -> ParseResult:
    """Every split of `text` gives the same message, and it equals parse(text).

    With the default threshold a call that failed was never streamed (these
    texts have no call that long), so a client that folds the stream without
    `failed_indices` gets the same calls; release_after=0 (a few splits) may
    stream calls that later fail, and folds to the same message as its parse().
    """
    expected = parse(text, tools)
    splits = [[text]] + [split_every(text, size) for size in SPLIT_SIZES]
    splits += [split_random(text, random.Random(seed)) for seed in range(seeds)]
    for chunks in splits:
        deltas, parser = stream_deltas(chunks, tools)
        got = check_stream(deltas, parser.failed_indices, text)
        assert ParseResult(got.content, got.tool_calls, parser.outcomes) == expected, (chunks, got, expected)
        if parser.failed_indices == []:
            assert check_stream(deltas, (), text).tool_calls == expected.tool_calls
    legacy = parse(text, tools, release_after=0)
    for chunks in splits[:2] + splits[-1:]:
        got, _ = stream_chunks(chunks, tools, release_after=0)
        assert got == legacy, (chunks, got, legacy)
    return expected


def calls(result: ParseResult) -> list[tuple[str, Any]]:
    """(name, decoded arguments) of each call."""
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in result.tool_calls]


def outcomes(result: ParseResult) -> list[tuple[str | None, str]]:
    return [(o.name, o.outcome) for o in result.outcomes]
