"""The value half of the call lexer: Python/JSON literals -> JSON text.

Strings, numbers, constants, lists, tuples and dicts, nested, read one feed at
a time; each value is reported as JSON text fragments through `_emit`. A
separator or dict key goes out together with the first text of the value that
follows it, so whatever was emitted can always be closed into valid JSON
(`open_suffix`). `CallLexer` adds the call-list grammar on top.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._events import CallSink, LexState, ValueKind
from ._literals import CONSTANTS, EscapeStatus, decode_escape, json_escape, number_json


@dataclass
class _Frame:
    closer: str
    is_dict: bool
    empty: bool = True


_NON_WS = re.compile(r"\S")
_NUMBER_CHARS = re.compile(r"[\w.+\-]*")
_WORD_CHARS = re.compile(r"\w*")
STRING_STOP = {'"': re.compile(r'["\\]'), "'": re.compile(r"['\\]")}
_NUMBER_START = frozenset("0123456789+-.")
_OPENERS = {"[": "]", "(": ")", "{": "}"}
MAX_DEPTH = 100  # deeper nesting is not a tool argument; it would only overflow json


def skip_ws(text: str, pos: int) -> int:
    if pos < len(text) and not text[pos].isspace():
        return pos
    match = _NON_WS.search(text, pos)
    return match.start() if match else len(text)


def run_end(pattern: re.Pattern[str], text: str, pos: int) -> int:
    match = pattern.match(text, pos)
    return match.end() if match else pos


def is_name_start(char: str) -> bool:
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
    if is_name_start(char):
        return ValueKind.CONSTANT
    return None


class ValueLexer:
    """Value states of the lexer; see `CallLexer` for the driver."""

    def __init__(self, sink: CallSink) -> None:
        self.sink = sink
        self.state = LexState.BLOCK_START
        self._failed_in = LexState.BLOCK_START
        self._stack: list[_Frame] = []
        self._token: list[str] = []
        self._quote = '"'
        self._escape = ""
        self._in_key = False  # the STRING/NUMBER being read is a dict key
        self._key_parts: list[str] = []
        self._pending_key = ""
        self._lead = ""
        self._arg_key: str | None = None
        self._json_parts: list[str] | None = None  # collecting a JSON call object
        self._string_stop: re.Pattern[str] | None = None  # set while in a value string

    def open_suffix(self) -> str:
        """JSON text that closes the argument value being streamed, if any."""
        state = self._failed_in if self.state is LexState.FAILED else self.state
        suffix = '"' if state in (LexState.STRING, LexState.ESCAPE) and not self._in_key else ""
        return suffix + "".join(frame.closer.replace(")", "]") for frame in reversed(self._stack))

    def _fail(self, pos: int) -> int:
        self._failed_in = self.state
        self.state = LexState.FAILED
        return pos

    def _emit(self, text: str) -> None:
        if self._json_parts is not None:
            self._json_parts.append(text)
        else:
            self.sink.arg_text(text)

    def _top_value_done(self, raw_number: str | None) -> None:
        """A top-level value (an argument or a JSON call object) is complete."""
        raise NotImplementedError

    def _value_done(self, raw_number: str | None = None) -> None:
        if self._stack:
            self.state = LexState.AFTER_VALUE
        else:
            self._top_value_done(raw_number)

    def _value(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
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
            if self._json_parts is None:
                self._string_stop = STRING_STOP[char]
            self.state = LexState.STRING
            return pos + 1
        if kind is ValueKind.NUMBER or kind is ValueKind.CONSTANT:
            self._token = []
            self.state = LexState.NUMBER if kind is ValueKind.NUMBER else LexState.WORD
            return pos
        if len(self._stack) >= MAX_DEPTH:
            return self._fail(pos)
        closer = _OPENERS[char]
        self._stack.append(_Frame(closer, closer == "}"))
        self._emit(self._lead + ("{" if closer == "}" else "["))
        self.state = LexState.DICT_KEY if closer == "}" else LexState.VALUE
        return pos + 1

    def _close_container(self, pos: int) -> int:
        frame = self._stack.pop()
        self._emit("}" if frame.is_dict else "]")
        self._value_done()
        return pos + 1

    def _after_value(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
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
        pos = skip_ws(text, pos)
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
        pos = skip_ws(text, pos)
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
        match = STRING_STOP[self._quote].search(text, pos)
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
            self._string_stop = None
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
        end = run_end(_NUMBER_CHARS, text, pos)
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
        end = run_end(_WORD_CHARS, text, pos)
        self._token.append(text[pos:end])
        if end == len(text):
            return end
        constant = CONSTANTS.get("".join(self._token))
        if constant is None:
            return self._fail(end)
        self._emit(self._lead + constant)
        self._value_done()
        return end
