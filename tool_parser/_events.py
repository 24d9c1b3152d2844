"""The lexer's vocabulary: its states, the kinds of values, the events it reports."""

from __future__ import annotations

from enum import Enum, auto
from typing import Any, Protocol


class ValueKind(Enum):
    STRING = auto()
    NUMBER = auto()
    CONSTANT = auto()
    ARRAY = auto()
    OBJECT = auto()


class CallSink(Protocol):
    """Receives the lexer's events. A False answer rejects the call (lexer fails)."""

    def call_begin(self, name: str) -> bool: ...

    def arg_begin(self, key: str | None, kind: ValueKind) -> bool: ...

    def arg_text(self, text: str) -> None: ...

    def arg_end(self, raw_number: str | None) -> None: ...

    def call_end(self) -> None: ...

    def json_call(self, name: str, arguments: dict[str, Any]) -> bool: ...


class LexState(Enum):
    BLOCK_START = auto()  # before '[' or the first call
    ITEM = auto()  # expect a call, a JSON object or ']'
    NAME = auto()  # inside a function name
    OPEN_PAREN = auto()  # after the name, expect '('
    ARG = auto()  # expect an argument or ')'
    IDENT = auto()  # inside a keyword name (or a bare constant)
    AFTER_IDENT = auto()  # expect '=' (else the identifier is a positional constant)
    VALUE = auto()  # expect a value
    STRING_OPEN = auto()  # after a string's first quote: '' or a triple quote may follow
    STRING_EMPTY = auto()  # after two quotes: empty, or the third opens a triple-quoted part
    STRING = auto()
    STRING_QUOTES = auto()  # quotes inside a triple-quoted part that may close it
    ESCAPE = auto()
    STRING_END = auto()  # after a part's closing quote: another literal may continue it
    STRING_PREFIX = auto()  # a word after a part: r"..", u".." continue it, anything else fails
    NUMBER = auto()
    WORD = auto()  # True/False/None/true/false/null
    AFTER_VALUE = auto()  # inside a container, expect ',' or its closer
    DICT_KEY = auto()
    KEY_WORD = auto()  # a word where a key is expected: a string prefix, or a set's constant
    DICT_COLON = auto()
    AFTER_ARG = auto()  # expect ',' or ')'
    AFTER_CALL = auto()  # expect ',' or ']'
    DONE = auto()
    FAILED = auto()
