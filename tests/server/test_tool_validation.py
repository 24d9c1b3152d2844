"""Argument checks against the parameters schema."""

from __future__ import annotations

from server.core.tool_validation import ArgumentValidator

TOOLS = [
    {"type": "function", "function": {"name": "book", "strict": True, "parameters": {
        "type": "object", "properties": {"seats": {"type": "integer", "maximum": 4}}, "required": ["seats"]}}},
    {"type": "function", "function": {"name": "free"}},
    {"type": "function", "function": {"name": "broken", "parameters": {"type": "wizard"}}},
]


def test_checks_against_the_schema():
    validator = ArgumentValidator(TOOLS)
    assert validator.valid("book", '{"seats": 2}')
    assert not validator.valid("book", '{"seats": 5}')
    assert not validator.valid("book", "{}")
    assert not validator.valid("book", "{not json")


def test_strict_flag():
    validator = ArgumentValidator(TOOLS)
    assert validator.strict("book") and not validator.strict("free") and not validator.strict("unknown")


def test_nothing_to_check_passes():
    validator = ArgumentValidator(TOOLS)
    assert validator.valid("free", '{"anything": 1}')
    assert validator.valid("unknown", '{"x": 1}')
    assert validator.valid("broken", '{"x": 1}'), "an invalid schema is not held against the call"
    assert ArgumentValidator(None).valid("book", "{}")
