"""read_literal: one Python literal -> its JSON value, never evaluated."""

from __future__ import annotations

import ast
import json
from typing import Any

import pytest

from tool_parser._literal_reader import NOT_A_LITERAL, read_literal


def as_json(value: Any) -> Any:
    """What a Python literal's value is in JSON (tuples and sets are arrays)."""
    if isinstance(value, tuple | list):
        return [as_json(item) for item in value]
    if isinstance(value, set):
        return sorted((as_json(item) for item in value), key=json.dumps)
    if isinstance(value, dict):
        return {str(key): as_json(item) for key, item in value.items()}
    return value


@pytest.mark.parametrize(
    "text",
    [
        "['Santa Barbara', 'Monterey']",
        "  ('a', 'b',)  ",
        "{'k': [1, 2.5, None, True], \"q\": {'n': -1}}",
        "{1: 'x', 2.5: 'y'}",
        "[r'\\d', '''x''' 'y', u'z']",
        "\n[\n  1,\n  2,\n]\n",
        "[]",
        "{}",
        "()",
        "'just a string'",
        "42",
        "None",
        '["json", true, null]',
    ],
)
def test_reads_what_ast_literal_eval_reads(text: str) -> None:
    value = read_literal(text)
    expected = json.loads(text) if "true" in text else as_json(ast.literal_eval(text))
    assert value == expected


def test_sets_keep_the_written_order() -> None:
    assert read_literal("{'b', 'a', 3}") == ["b", "a", 3]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "[1, 2", "[1] [2]", "['a' + 'b']", "[x]", "f'{x}'", "{1: 2, 3}", "[1] tail", "'a", "r", "[" * 200],
)
def test_anything_else_is_not_a_literal(text: str) -> None:
    assert read_literal(text) is NOT_A_LITERAL
