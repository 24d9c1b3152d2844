"""One complete Python literal -> its JSON value, read by the call lexer's value states.

Schema coercion uses it for a string that holds a literal where the schema
wants an array or object (`stops="['Santa Barbara', 'Monterey']"`). Nothing
is evaluated: the text must be a literal exactly as an argument value would
be (see `ValueLexer`), surrounded by whitespace at most.
"""

from __future__ import annotations

import json
from typing import Any, cast

from ._events import CallSink, LexState
from ._value_lexer import ValueLexer

NOT_A_LITERAL: Any = object()


class _LiteralReader(ValueLexer):
    def __init__(self) -> None:
        super().__init__(cast(CallSink, None))  # never called: everything goes to _json_parts
        self._json_parts = []
        self.state = LexState.VALUE
        self._handlers = self._value_handlers()

    def _top_value_done(self, raw_number: str | None) -> None:
        self.state = LexState.DONE

    def read(self, text: str) -> Any:
        text += " "  # ends a number or word written last
        pos, handlers = 0, self._handlers
        while pos < len(text) and self.state is not LexState.DONE and self.state is not LexState.FAILED:
            pos = handlers[self.state](text, pos)
        if self.state is LexState.STRING_END:
            self._string_done()
        if self.state is not LexState.DONE or text[pos:].strip():
            return NOT_A_LITERAL
        assert self._json_parts is not None
        return json.loads("".join(self._json_parts))


def read_literal(text: str) -> Any:
    """The JSON value of the Python literal `text`, or NOT_A_LITERAL."""
    return _LiteralReader().read(text)
