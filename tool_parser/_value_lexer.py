"""The value half of the call lexer: Python/JSON literals -> JSON text.

Strings (see `_string_lexer`), numbers, constants, lists, tuples, sets and
dicts, nested, read one feed at a time; each value is reported as JSON text
fragments through `_emit`. A separator or dict key goes out together with the
first text of the value that follows it, so whatever was emitted can always be
closed into valid JSON (`open_suffix`). Two openers wait for their first item:

* `{` is a dict or a set: its opener goes out once the first key or element
  decides (`{'a': 1}` -> `{"a": 1}`, `{'a', 'b'}` -> `["a", "b"]`, `{}` -> `{}`).
* `(` is a tuple only with a comma (`(1,)`, `(1, 2)`, `()`); `(x)` is `x`, as in
  Python, which is how long strings are written (`("one " "two")`). What is read
  inside it is held until the comma or the `)` decides.

`CallLexer` adds the call-list grammar on top.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ._events import CallSink, LexState, ValueKind
from ._literals import CONSTANTS, number_json
from ._string_lexer import (
    QUOTES,
    STRING_PREFIXES,
    STRING_STOP,
    WORD_CHARS,
    Handler,
    StringLexer,
    is_name_start,
    run_end,
    skip_ws,
)

__all__ = ["MAX_DEPTH", "ValueLexer", "is_name_start", "run_end", "skip_ws"]


@dataclass
class _Frame:
    closer: str  # what closes it in the text
    is_dict: bool
    empty: bool = True
    decided: bool = True  # False: a '{' before its first key, a '(' before its first comma
    lead: str = ""  # an undecided frame's separator and key, sent with its opener
    held: list[str] | None = None  # an undecided '(': the JSON text read inside it


_NUMBER_CHARS = re.compile(r"[\w.+\-]*")
_NUMBER_START = frozenset("0123456789+-.")
_OPENERS = {"[": "]", "(": ")", "{": "}"}
_IN_STRING = frozenset(
    {
        LexState.STRING_OPEN,
        LexState.STRING_EMPTY,
        LexState.STRING,
        LexState.STRING_QUOTES,
        LexState.ESCAPE,
        LexState.STRING_END,
        LexState.STRING_PREFIX,
    }
)
MAX_DEPTH = 100  # deeper nesting is not a tool argument; it would only overflow json


def _value_kind(char: str) -> ValueKind | None:
    if char in QUOTES:
        return ValueKind.STRING
    if char in _NUMBER_START:
        return ValueKind.NUMBER
    if char in "[(":
        return ValueKind.ARRAY
    if char == "{":
        return ValueKind.OBJECT
    if is_name_start(char):
        return ValueKind.CONSTANT  # or a string prefix: the word decides
    return None


def _reported_at_once(kind: ValueKind, char: str) -> bool:
    """Whether an argument's kind is known at its first character: a word is a
    constant or a string's prefix, a '(' a tuple or parentheses, until read."""
    return kind is not ValueKind.CONSTANT and char != "("


def _json_kind(text: str) -> ValueKind:
    """The kind of a complete JSON value's text."""
    char = text[:1]
    if char == '"':
        return ValueKind.STRING
    if char == "[":
        return ValueKind.ARRAY
    if char == "{":
        return ValueKind.OBJECT
    return ValueKind.CONSTANT if char in "tfn" else ValueKind.NUMBER


class ValueLexer(StringLexer):
    """Value states of the lexer; see `CallLexer` for the driver."""

    def __init__(self, sink: CallSink) -> None:
        super().__init__()
        self.sink = sink
        self._stack: list[_Frame] = []
        self._in_key = False  # the STRING/NUMBER being read is a dict key (or a set's first element)
        self._key_parts: list[str] = []
        self._pending_key = ""
        self._element = ""  # the first key of an undecided '{' as a set element
        self._lead = ""
        self._arg_key: str | None = None
        self._json_parts: list[str] | None = None  # collecting a JSON call object
        self._holds: list[list[str]] = []  # the `held` lists of undecided '(' frames

    def open_suffix(self) -> str:
        """JSON text that closes the argument value being streamed, if any."""
        state = self._failed_in if self.state is LexState.FAILED else self.state
        sent: list[_Frame] = []
        for frame in self._stack:
            if not frame.decided:  # nothing of it (and of what it holds) went out
                return "".join("}" if f.is_dict else "]" for f in reversed(sent))
            sent.append(frame)
        suffix = '"' if state in _IN_STRING and not self._in_key else ""
        return suffix + "".join("}" if f.is_dict else "]" for f in reversed(sent))

    def _value_handlers(self) -> dict[LexState, Handler]:
        return {
            **self._string_handlers(),
            LexState.VALUE: self._value,
            LexState.NUMBER: self._number,
            LexState.WORD: self._word,
            LexState.AFTER_VALUE: self._after_value,
            LexState.DICT_KEY: self._dict_key,
            LexState.KEY_WORD: self._key_word,
            LexState.DICT_COLON: self._dict_colon,
        }

    def _emit(self, text: str) -> None:
        if self._holds:
            self._holds[-1].append(text)
        elif self._json_parts is not None:
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

    @property
    def _top_level(self) -> bool:
        """The value being read is an argument (reported to the sink)."""
        return not self._stack and self._json_parts is None

    # ------------------------------------------------------------- values

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
            if frame.closer == "}" and not frame.is_dict and char in "[{":
                return self._fail(pos)  # a set holds no lists or dicts (unhashable)
            self._lead = ("" if frame.empty else ", ") + self._pending_key
            self._pending_key = ""
            frame.empty = False
        elif (
            self._json_parts is None
            and _reported_at_once(kind, char)
            and not self.sink.arg_begin(self._arg_key, kind)
        ):
            return self._fail(pos)
        if kind is ValueKind.STRING:
            self._begin_string(char)
            return pos + 1
        if kind is ValueKind.NUMBER or kind is ValueKind.CONSTANT:
            self._token = []
            self.state = LexState.NUMBER if kind is ValueKind.NUMBER else LexState.WORD
            return pos
        if len(self._stack) >= MAX_DEPTH:
            return self._fail(pos)
        closer = _OPENERS[char]
        if closer == "}":  # a dict or a set: the first key or element decides
            self._stack.append(_Frame(closer, True, decided=False, lead=self._lead))
            self.state = LexState.DICT_KEY
        elif closer == ")":  # a tuple or parentheses: the first comma decides
            held: list[str] = []
            self._stack.append(_Frame(closer, False, decided=False, lead=self._lead, held=held))
            self._holds.append(held)
            self.state = LexState.VALUE
        else:
            self._stack.append(_Frame(closer, False))
            self._emit(self._lead + "[")
            self.state = LexState.VALUE
        return pos + 1

    def _begin_string(self, quote: str, prefix: str = "") -> None:
        self._emit(self._lead + '"')
        if self._json_parts is None and not self._holds:
            self._string_stop = STRING_STOP[quote]
        self._open_part(quote, prefix)

    def _string_text(self, text: str) -> None:
        if self._in_key:
            self._key_parts.append(text)
        else:
            self._emit(text)

    def _string_done(self) -> None:
        if self._in_key:
            key = '"' + "".join(self._key_parts) + '"'
            self._key_done(key, key)
        else:
            self._string_stop = None
            self._emit('"')
            self._value_done()

    def _close_container(self, pos: int) -> int:
        frame = self._stack.pop()
        if frame.decided:
            self._emit("}" if frame.is_dict else "]")
        elif frame.closer == "}":
            self._emit(frame.lead + "{}")
        else:  # '()', or '(x)' which is x
            held = "".join(frame.held or ())
            if not self._resolve(frame, held or "[]", _json_kind(held) if held else ValueKind.ARRAY):
                return self._fail(pos)
        self._value_done()
        return pos + 1

    def _resolve(self, frame: _Frame, text: str, kind: ValueKind) -> bool:
        """An undecided '(' decided: what it held goes out (an argument reports itself first)."""
        self._holds.pop()
        frame.held = None
        at_top = self._json_parts is None and (not self._stack or self._stack[0] is frame)
        if at_top and not self.sink.arg_begin(self._arg_key, kind):
            return False
        frame.decided = True
        self._emit(frame.lead + text)
        return True

    def _after_value(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        frame = self._stack[-1]
        if char == ",":
            if not frame.decided and not self._resolve(frame, "[" + "".join(frame.held or ()), ValueKind.ARRAY):
                return self._fail(pos)  # the comma made it a tuple
            self._pending_key = ""
            self.state = LexState.DICT_KEY if frame.is_dict else LexState.VALUE
            return pos + 1
        if char == frame.closer:
            return self._close_container(pos)
        return self._fail(pos)

    # ----------------------------------------------------------- dicts, sets

    def _dict_key(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        if char == "}":
            return self._close_container(pos)
        if char in QUOTES:
            self._in_key = True
            self._key_parts = []
            self._open_part(char)
            return pos + 1
        if char in _NUMBER_START:
            self._in_key = True
            self._token = []
            self.state = LexState.NUMBER
            return pos
        if is_name_start(char):
            self._token = []
            self.state = LexState.KEY_WORD
            return pos
        if char == "(" and not self._stack[-1].decided:
            self._decide_set()
            return self._begin_value(text, pos)
        return self._fail(pos)

    def _key_word(self, text: str, pos: int) -> int:
        """`r'key'` in a dict or set, or a constant as a set's first element."""
        end = run_end(WORD_CHARS, text, pos)
        self._token.append(text[pos:end])
        if end == len(text):
            return end
        word = "".join(self._token)
        if text[end] in QUOTES and word in STRING_PREFIXES:
            self._in_key = True
            self._key_parts = []
            self._open_part(text[end], word)
            return end + 1
        constant = CONSTANTS.get(word)
        if constant is None or self._stack[-1].decided:
            return self._fail(end)
        self._decide_set()
        self._stack[-1].empty = False
        self._emit(constant)
        self.state = LexState.AFTER_VALUE
        return end

    def _key_done(self, key_json: str, element_json: str) -> None:
        self._in_key = False
        self._pending_key = key_json + ": "
        self._element = element_json
        self.state = LexState.DICT_COLON

    def _dict_colon(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        frame = self._stack[-1]
        if char == ":":
            if not frame.decided:
                frame.decided = True
                self._emit(frame.lead + "{")
            self.state = LexState.VALUE
            return pos + 1
        if frame.decided or char not in ",}":
            return self._fail(pos)
        self._decide_set()  # '{x,' or '{x}': the key was a set's first element
        frame.empty = False
        self._pending_key = ""
        self._emit(self._element)
        self.state = LexState.AFTER_VALUE
        return pos

    def _decide_set(self) -> None:
        frame = self._stack[-1]
        frame.decided = True
        frame.is_dict = False
        self._emit(frame.lead + "[")

    # ----------------------------------------------------------------- tokens

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
            self._key_done(f'"{number}"', number)
        else:
            self._emit(self._lead + number)
            self._value_done(token)
        return end

    def _word(self, text: str, pos: int) -> int:
        end = run_end(WORD_CHARS, text, pos)
        self._token.append(text[pos:end])
        if end == len(text):
            return end
        word = "".join(self._token)
        if text[end] in QUOTES and word in STRING_PREFIXES:
            return self._begin_prefixed_string(text[end], word, end)
        constant = CONSTANTS.get(word)
        if constant is None:
            return self._fail(end)
        if self._top_level and not self.sink.arg_begin(self._arg_key, ValueKind.CONSTANT):
            return self._fail(end)
        self._emit(self._lead + constant)
        self._value_done()
        return end

    def _begin_prefixed_string(self, quote: str, prefix: str, pos: int) -> int:
        """`r"..."` where a value begins; `pos` is at the quote."""
        if self._top_level and not self.sink.arg_begin(self._arg_key, ValueKind.STRING):
            return self._fail(pos)
        self._begin_string(quote, prefix)
        return pos + 1
