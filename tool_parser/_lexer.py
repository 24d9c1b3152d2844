"""Incremental lexer for the call list LFM2 writes between its markers.

Grammar (Python call syntax, plus JSON call objects)::

    block := ws ('[' items? ']' | items) ws          # brackets may be missing
    items := item (',' item)* ','?
    item  := NAME '(' args? ')' | json-object          # {"name": .., "arguments": {..}}
    args  := arg (',' arg)* ','?
    arg   := IDENT '=' value | value                   # positional values map to the schema
    value := string | number | True/False/None/true/false/null
           | '[' values ']' | '(' values ')' | '{' values '}' | '{' (key ':' value),* '}'
           | '(' value ')'                             # x itself; '(x,)' is a tuple, '{x}' a set
    string := Python string literals: r/u prefixes, triple quotes, "a" "b" (see _string_lexer)

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
from json.encoder import encode_basestring
from typing import Any

from ._events import CallSink, LexState, ValueKind
from ._literals import CONSTANTS
from ._string_lexer import QUOTES, STRING_PREFIXES
from ._value_lexer import ValueLexer, is_name_start, run_end, skip_ws

_NAME_CHARS = re.compile(r"[\w.\-]*")
_COMPLETE_AT_END = frozenset({LexState.AFTER_CALL, LexState.DONE, LexState.BLOCK_START})


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
        except (ValueError, RecursionError):
            return None
    if not isinstance(name, str) or not name or not isinstance(arguments, dict):
        return None
    return name, arguments


class CallLexer(ValueLexer):
    """The call-list state machine. `keep_raw` keeps all raw text (for probes);
    otherwise raw text is kept from the start of the current call only."""

    def __init__(self, sink: CallSink, *, keep_raw: bool = False) -> None:
        super().__init__(sink)
        self.calls_done = 0
        self._keep_raw = keep_raw
        self._raw: list[str] = []
        self._raw_from = 0
        self._bracketed = False
        self._keyword_seen = False
        self._name = ""
        self._handlers = {
            **self._value_handlers(),
            LexState.BLOCK_START: self._block_start,
            LexState.ITEM: self._item,
            LexState.NAME: self._name_chars,
            LexState.OPEN_PAREN: self._open_paren,
            LexState.ARG: self._arg,
            LexState.IDENT: self._ident,
            LexState.AFTER_IDENT: self._after_ident,
            LexState.AFTER_ARG: self._after_arg,
            LexState.AFTER_CALL: self._after_call,
        }

    # ----------------------------------------------------------------- driving

    def feed(self, text: str) -> int:
        """Consume `text`; return how much was consumed (all unless DONE/FAILED)."""
        self._raw_from = 0
        stop = self._string_stop
        if stop is not None and self.state is LexState.STRING and stop.search(text) is None:
            # Fast path for the bulk of a long string argument: no quote, no backslash.
            if text:
                self.sink.arg_text(encode_basestring(text)[1:-1])
                self._raw.append(text)
            return len(text)
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

    def _reset_raw(self, pos: int) -> None:
        """Drop raw text of calls already reported: a later failure shows only its own."""
        if self.calls_done and not self._keep_raw:
            self._raw.clear()
            self._raw_from = pos

    # ------------------------------------------------------------ list level

    def _block_start(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        self.state = LexState.ITEM
        if char == "[":
            self._bracketed = True
            return pos + 1
        return pos

    def _item(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        if char == "]" and self._bracketed:
            self.state = LexState.DONE
            return pos + 1
        if is_name_start(char):
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
        end = run_end(_NAME_CHARS, text, pos)
        self._token.append(text[pos:end])
        if end < len(text):
            self._name = "".join(self._token)
            self.state = LexState.OPEN_PAREN
        return end

    def _open_paren(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
        if pos == len(text):
            return pos
        if text[pos] != "(" or not self.sink.call_begin(self._name):
            return self._fail(pos)
        self._keyword_seen = False
        self.state = LexState.ARG
        return pos + 1

    def _after_call(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
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
        pos = skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        if char == ")":
            return self._end_call(pos + 1)
        if is_name_start(char):
            self._token = []
            self.state = LexState.IDENT
            return pos
        if self._keyword_seen:
            return self._fail(pos)
        self._arg_key = None
        return self._begin_value(text, pos)

    def _ident(self, text: str, pos: int) -> int:
        end = run_end(_NAME_CHARS, text, pos)
        self._token.append(text[pos:end])
        if end == len(text):
            return end
        prefix = "".join(self._token)
        if text[end] in QUOTES and prefix in STRING_PREFIXES:  # a positional r"..."
            if self._keyword_seen:
                return self._fail(end)
            self._arg_key = None
            self._lead = ""
            return self._begin_prefixed_string(text[end], prefix, end)
        self.state = LexState.AFTER_IDENT
        return end

    def _after_ident(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
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
        pos = skip_ws(text, pos)
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

    # ----------------------------------------------------------- JSON calls

    def _finish_json_call(self) -> None:
        assert self._json_parts is not None
        parts = _json_call_parts(json.loads("".join(self._json_parts)))
        self._json_parts = None
        if parts is None or not self.sink.json_call(*parts):
            self.state = LexState.FAILED
            return
        self.calls_done += 1
        self.state = LexState.AFTER_CALL

    def _top_value_done(self, raw_number: str | None) -> None:
        if self._json_parts is not None:
            self._finish_json_call()
        else:
            self.sink.arg_end(raw_number)
            self.state = LexState.AFTER_ARG

    def _close_container(self, pos: int) -> int:
        pos = super()._close_container(pos)
        if self.state is LexState.AFTER_CALL:  # a JSON call object ended
            self._reset_raw(pos)
        return pos
