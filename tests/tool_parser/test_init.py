"""The public surface is a deliberate artifact: pin it."""

from __future__ import annotations

import dataclasses

import pytest

import tool_parser


def test_all_is_pinned() -> None:
    assert sorted(tool_parser.__all__) == [
        "CallOutcome",
        "DEFAULT_RELEASE_AFTER",
        "ParseResult",
        "StreamParser",
        "TOOL_CALL_END",
        "TOOL_CALL_START",
        "parse",
        "render",
        "render_value",
    ]


def test_markers() -> None:
    assert tool_parser.TOOL_CALL_START == "<|tool_call_start|>"
    assert tool_parser.TOOL_CALL_END == "<|tool_call_end|>"


def test_release_after_default() -> None:
    assert isinstance(tool_parser.DEFAULT_RELEASE_AFTER, int) and 100 <= tool_parser.DEFAULT_RELEASE_AFTER <= 1000


def test_call_outcome_is_frozen() -> None:
    outcome = tool_parser.CallOutcome("f", "parsed")
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.name = "g"  # type: ignore[misc]
    assert outcome == tool_parser.CallOutcome(name="f", outcome="parsed")


def test_parse_result_fields() -> None:
    result = tool_parser.parse("hi")
    assert (result.content, result.tool_calls, result.outcomes) == ("hi", [], [])
