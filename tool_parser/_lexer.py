"""Incremental lexer for the call list LFM2 writes between its markers.

Grammar (Python call syntax, plus JSON call objects)::

    block := ws ('[' items? ']' | items) ws          # brackets may be missing
    items := item (',' item)* ','?
    item  := NAME '(' args? ')' | json-object          # {"name": .., "arguments": {..}}
    args  := arg (',' arg)* ','?
    arg   := IDENT '=' value | value                   # positional values map to the schema
    value := string | number | True/False/None/true/false/null
           | '[' values ']' | '(' values ')' | '{' (key ':' value),* '}'

`feed(text)` consumes what it can and reports events to a `CallSink`; argument
values are reported as JSON text fragments, so a string value streams as it
arrives. Every character is looked at once: string runs are found with one
regex search, tokens accumulate across feeds. The lexer stops at the first
character it cannot accept (state FAILED) or just after the list's closing
`]` (state DONE) and returns the position; the caller owns what follows.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import Any, Protocol

from ._literals import CONSTANTS, EscapeStatus, decode_escape, json_escape, number_json


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
    STRING = auto()
    ESCAPE = auto()
    NUMBER = auto()
    WORD = auto()  # True/False/None/true/false/null
    AFTER_VALUE = auto()  # inside a container, expect ',' or its closer
    DICT_KEY = auto()
    DICT_COLON = auto()
    AFTER_ARG = auto()  # expect ',' or ')'
    AFTER_CALL = auto()  # expect ',' or ']'
    DONE = auto()
    FAILED = auto()


@dataclass
class _Frame:
    closer: str
    is_dict: bool
    empty: bool = True


_NON_WS = re.compile(r"\S")
_NAME_CHARS = re.compile(r"[\w.\-]*")
_NUMBER_CHARS = re.compile(r"[\w.+\-]*")
_WORD_CHARS = re.compile(r"\w*")
_STRING_STOP = {'"': re.compile(r'["\\]'), "'": re.compile(r"['\\]")}
_NUMBER_START = frozenset("0123456789+-.")
_OPENERS = {"[": "]", "(": ")", "{": "}"}
_COMPLETE_AT_END = frozenset({LexState.AFTER_CALL, LexState.DONE, LexState.BLOCK_START})


def _skip_ws(text: str, pos: int) -> int:
    if pos < len(text) and not text[pos].isspace():
        return pos
    match = _NON_WS.search(text, pos)
    return match.start() if match else len(text)


def _run_end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    match = pattern.match(text, pos)
    return match.end() if match else pos


def _is_name_start(char: str) -> bool:
    return char == "_" or char.isalpha()


def _value_kind(char: str) -> ValueKind | None:
    if char in "\"'":
        return ValueKind.STRING
    if char in _NUMBER_START:
        return ValueKind.NUMBER
    if char in "[(":
        return ValueKind.ARRAY
    if char == "{":
        return ValueKind.OBJECT
    if _is_name_start(char):
        return ValueKind.CONSTANT
    return None


def _json_call_parts(obj: object) -> tuple[str, dict[str, Any]] | None:
    """(name, arguments) of `{"name", "arguments"|"parameters"}` or OpenAI's shape."""
    if not isinstance(obj, dict):
        return None
    function = obj.get("function")
    if isinstance(function, dict):
        obj = function
    name = obj.get("name")
    arguments = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return None
    if not isinstance(name, str) or not name or not isinstance(arguments, dict):
        return None
    return name, arguments


class CallLexer:
    """The call-list state machine. `keep_raw` keeps all raw text (for probes);
    otherwise raw text is kept from the start of the current call only."""

    def __init__(self, sink: CallSink, *, keep_raw: bool = False) -> None:
        self.sink = sink
        self.state = LexState.BLOCK_START
        self._failed_in = LexState.BLOCK_START
        self.calls_done = 0
        self._keep_raw = keep_raw
        self._raw: list[str] = []
        self._raw_from = 0
        self._bracketed = False
        self._stack: list[_Frame] = []
        self._token: list[str] = []
        self._quote = '"'
        self._escape = ""
        self._in_key = False  # the STRING/NUMBER being read is a dict key
        self._key_parts: list[str] = []
        self._pending_key = ""
        self._lead = ""
        self._arg_key: str | None = None
        self._keyword_seen = False
        self._json_parts: list[str] | None = None  # collecting a JSON call object
        self._name = ""
        self._handlers = {
            LexState.BLOCK_START: self._block_start,
            LexState.ITEM: self._item,
            LexState.NAME: self._name_chars,
            LexState.OPEN_PAREN: self._open_paren,
            LexState.ARG: self._arg,
            LexState.IDENT: self._ident,
            LexState.AFTER_IDENT: self._after_ident,
            LexState.VALUE: self._value,
            LexState.STRING: self._string,
            LexState.ESCAPE: self._escape_char,
            LexState.NUMBER: self._number,
            LexState.WORD: self._word,
            LexState.AFTER_VALUE: self._after_value,
            LexState.DICT_KEY: self._dict_key,
            LexState.DICT_COLON: self._dict_colon,
            LexState.AFTER_ARG: self._after_arg,
            LexState.AFTER_CALL: self._after_call,
        }

    # ----------------------------------------------------------------- driving

    def feed(self, text: str) -> int:
        """Consume `text`; return how much was consumed (all unless DONE/FAILED)."""
        self._raw_from = 0
        pos, end = 0, len(text)
        handlers = self._handlers
        while pos < end:
            state = self.state
            if state is LexState.DONE or state is LexState.FAILED:
                break
            pos = handlers[state](text, pos)
        if pos > self._raw_from:
            self._raw.append(text[self._raw_from : pos])
        return pos

    def finish(self) -> bool:
        """End of the block: True when what was read is a complete call list."""
        if self.state is LexState.ITEM:
            return self.calls_done > 0
        return self.state in _COMPLETE_AT_END

    def raw_text(self) -> str:
        """The raw text kept so far (see `keep_raw`)."""
        return "".join(self._raw)

    def open_suffix(self) -> str:
        """JSON text that closes the argument value being streamed, if any."""
        state = self._failed_in if self.state is LexState.FAILED else self.state
        suffix = '"' if state in (LexState.STRING, LexState.ESCAPE) and not self._in_key else ""
        return suffix + "".join(frame.closer.replace(")", "]") for frame in reversed(self._stack))

    def _fail(self, pos: int) -> int:
        self._failed_in = self.state
        self.state = LexState.FAILED
        return pos

    def _reset_raw(self, pos: int) -> None:
        """Drop raw text of calls already reported: a later failure shows only its own."""
        if self.calls_done and not self._keep_raw:
            self._raw.clear()
            self._raw_from = pos

    def _emit(self, text: str) -> None:
        if self._json_parts is not None:
            self._json_parts.append(text)
        else:
            self.sink.arg_text(text)

    # ------------------------------------------------------------ list level

    def _block_start(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        self.state = LexState.ITEM
        if char == "[":
            self._bracketed = True
            return pos + 1
        return pos

    def _item(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        if char == "]" and self._bracketed:
            self.state = LexState.DONE
            return pos + 1
        if _is_name_start(char):
            self._reset_raw(pos)
            self._token = []
            self.state = LexState.NAME
            return pos
        if char == "{":
            self._reset_raw(pos)
            self._json_parts = []
            return self._begin_value(text, pos)
        return self._fail(pos)

    def _name_chars(self, text: str, pos: int) -> int:
        end = _run_end(_NAME_CHARS, text, pos)
        self._token.append(text[pos:end])
        if end < len(text):
            self._name = "".join(self._token)
            self.state = LexState.OPEN_PAREN
        return end

    def _open_paren(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        if text[pos] != "(" or not self.sink.call_begin(self._name):
            return self._fail(pos)
        self._keyword_seen = False
        self.state = LexState.ARG
        return pos + 1

    def _after_call(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        if char == ",":
            self.state = LexState.ITEM
            return pos + 1
        if char == "]" and self._bracketed:
            self.state = LexState.DONE
            return pos + 1
        return self._fail(pos)

    # -------------------------------------------------------------- arguments

    def _arg(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        if char == ")":
            return self._end_call(pos + 1)
        if _is_name_start(char):
            self._token = []
            self.state = LexState.IDENT
            return pos
        if self._keyword_seen:
            return self._fail(pos)
        self._arg_key = None
        return self._begin_value(text, pos)

    def _ident(self, text: str, pos: int) -> int:
        end = _run_end(_NAME_CHARS, text, pos)
        self._token.append(text[pos:end])
        if end < len(text):
            self.state = LexState.AFTER_IDENT
        return end

    def _after_ident(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        ident = "".join(self._token)
        if text[pos] == "=":
            self._arg_key = ident
            self._keyword_seen = True
            self.state = LexState.VALUE
            return pos + 1
        constant = CONSTANTS.get(ident)
        if constant is None or self._keyword_seen:
            return self._fail(pos)
        if not self.sink.arg_begin(None, ValueKind.CONSTANT):
            return self._fail(pos)
        self.sink.arg_text(constant)
        self.sink.arg_end(None)
        self.state = LexState.AFTER_ARG
        return pos

    def _after_arg(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        if char == ",":
            self.state = LexState.ARG
            return pos + 1
        if char == ")":
            return self._end_call(pos + 1)
        return self._fail(pos)

    def _end_call(self, pos: int) -> int:
        self.sink.call_end()
        self.calls_done += 1
        self.state = LexState.AFTER_CALL
        self._reset_raw(pos)
        return pos

    # ----------------------------------------------------------------- values

    def _value(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        if self._stack and not self._stack[-1].is_dict and char == self._stack[-1].closer:
            return self._close_container(pos)
        return self._begin_value(text, pos)

    def _begin_value(self, text: str, pos: int) -> int:
        char = text[pos]
        kind = _value_kind(char)
        if kind is None:
            return self._fail(pos)
        # The separator and key go out with the value's first text, so what was
        # emitted can always be closed into valid JSON.
        self._lead = ""
        if self._stack:
            frame = self._stack[-1]
            self._lead = ("" if frame.empty else ", ") + self._pending_key
            self._pending_key = ""
            frame.empty = False
        elif self._json_parts is None and not self.sink.arg_begin(self._arg_key, kind):
            return self._fail(pos)
        if kind is ValueKind.STRING:
            self._emit(self._lead + '"')
            self._quote = char
            self.state = LexState.STRING
            return pos + 1
        if kind is ValueKind.NUMBER or kind is ValueKind.CONSTANT:
            self._token = []
            self.state = LexState.NUMBER if kind is ValueKind.NUMBER else LexState.WORD
            return pos
        closer = _OPENERS[char]
        self._stack.append(_Frame(closer, closer == "}"))
        self._emit(self._lead + ("{" if closer == "}" else "["))
        self.state = LexState.DICT_KEY if closer == "}" else LexState.VALUE
        return pos + 1

    def _value_done(self, raw_number: str | None = None) -> None:
        if self._stack:
            self.state = LexState.AFTER_VALUE
        elif self._json_parts is not None:
            self._finish_json_call()
        else:
            self.sink.arg_end(raw_number)
            self.state = LexState.AFTER_ARG

    def _finish_json_call(self) -> None:
        assert self._json_parts is not None
        parts = _json_call_parts(json.loads("".join(self._json_parts)))
        self._json_parts = None
        if parts is None or not self.sink.json_call(*parts):
            self.state = LexState.FAILED
            return
        self.calls_done += 1
        self.state = LexState.AFTER_CALL

    def _close_container(self, pos: int) -> int:
        frame = self._stack.pop()
        self._emit("}" if frame.is_dict else "]")
        self._value_done()
        if self.state is LexState.AFTER_CALL:  # a JSON call object ended
            self._reset_raw(pos + 1)
        return pos + 1

    def _after_value(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        frame = self._stack[-1]
        if char == ",":
            self._pending_key = ""
            self.state = LexState.DICT_KEY if frame.is_dict else LexState.VALUE
            return pos + 1
        if char == frame.closer:
            return self._close_container(pos)
        return self._fail(pos)

    def _dict_key(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        if char == "}":
            return self._close_container(pos)
        self._in_key = True
        if char in "\"'":
            self._key_parts = []
            self._quote = char
            self.state = LexState.STRING
            return pos + 1
        if char in _NUMBER_START:
            self._token = []
            self.state = LexState.NUMBER
            return pos
        return self._fail(pos)

    def _dict_colon(self, text: str, pos: int) -> int:
        pos = _skip_ws(text, pos)
        if pos == len(text):
            return pos
        if text[pos] != ":":
            return self._fail(pos)
        self.state = LexState.VALUE
        return pos + 1

    def _key_done(self, key_json_body: str) -> None:
        self._in_key = False
        self._pending_key = f'"{key_json_body}": '
        self.state = LexState.DICT_COLON

    # ----------------------------------------------------------------- tokens

    def _string(self, text: str, pos: int) -> int:
        match = _STRING_STOP[self._quote].search(text, pos)
        stop = match.start() if match else len(text)
        if stop > pos:
            run = json_escape(text[pos:stop])
            if self._in_key:
                self._key_parts.append(run)
            else:
                self._emit(run)
        if match is None:
            return stop
        if text[stop] == "\\":
            self._escape = ""
            self.state = LexState.ESCAPE
        elif self._in_key:
            self._key_done("".join(self._key_parts))
        else:
            self._emit('"')
            self._value_done()
        return stop + 1

    def _escape_char(self, text: str, pos: int) -> int:
        self._escape += text[pos]
        status, decoded = decode_escape(self._escape)
        if status is EscapeStatus.NEED_MORE:
            return pos + 1
        if status is EscapeStatus.INVALID:
            return self._fail(pos)
        if self._in_key:
            self._key_parts.append(decoded)
        else:
            self._emit(decoded)
        self.state = LexState.STRING
        return pos if status is EscapeStatus.DONE_BEFORE_LAST else pos + 1

    def _number(self, text: str, pos: int) -> int:
        end = _run_end(_NUMBER_CHARS, text, pos)
        self._token.append(text[pos:end])
        if end == len(text):
            return end
        token = "".join(self._token)
        number = number_json(token)
        if number is None:
            return self._fail(end)
        if self._in_key:
            self._key_done(number)
        else:
            self._emit(self._lead + number)
            self._value_done(token)
        return end

    def _word(self, text: str, pos: int) -> int:
        end = _run_end(_WORD_CHARS, text, pos)
        self._token.append(text[pos:end])
        if end == len(text):
            return end
        constant = CONSTANTS.get("".join(self._token))
        if constant is None:
            return self._fail(end)
        self._emit(self._lead + constant)
        self._value_done()
        return end
