"""Fragments -> delta dicts, and the fold of a delta stream into one message."""

from __future__ import annotations

from tool_parser import CallOutcome, ParseResult
from tool_parser._deltas import ARGUMENTS, CONTENT, HEADER, build_deltas, merge


def test_neighbouring_fragments_merge() -> None:
    deltas = build_deltas(
        [
            (CONTENT, -1, "a", ""),
            (CONTENT, -1, "b", ""),
            (HEADER, 0, "call_0", "f"),
            (ARGUMENTS, 0, "{", ""),
            (ARGUMENTS, 0, "}", ""),
            (HEADER, 1, "call_1", "g"),
            (ARGUMENTS, 1, "{}", ""),
            (CONTENT, -1, "c", ""),
        ]
    )
    assert deltas == [
        {"content": "ab"},
        {
            "tool_calls": [
                {"index": 0, "id": "call_0", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ]
        },
        {
            "tool_calls": [
                {"index": 1, "id": "call_1", "type": "function", "function": {"name": "g", "arguments": "{}"}}
            ]
        },
        {"content": "c"},
    ]


def test_single_fragments() -> None:
    assert build_deltas([(ARGUMENTS, 3, "x", "")]) == [{"tool_calls": [{"index": 3, "function": {"arguments": "x"}}]}]
    assert build_deltas([(CONTENT, -1, "x", "")]) == [{"content": "x"}]


def test_merge_drops_failed_calls_and_blank_content() -> None:
    deltas = build_deltas(
        [
            (HEADER, 0, "call_0", "f"),
            (ARGUMENTS, 0, '{"a": "x"}', ""),
            (CONTENT, -1, " \n", ""),
            (HEADER, 1, "call_1", "g"),
            (ARGUMENTS, 1, "{}", ""),
        ]
    )
    outcomes = [CallOutcome("f", "failed"), CallOutcome("g", "parsed")]
    assert merge(deltas, outcomes, [0]) == ParseResult(
        None,
        [{"id": "call_1", "type": "function", "function": {"name": "g", "arguments": "{}"}}],
        outcomes,
    )
