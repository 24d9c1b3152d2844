r"""String literals as Python reads them: quotes, prefixes, triple quotes, concatenation.

    string := part (ws part)*                      # implicit concatenation: "a" 'b' -> "ab"
    part   := prefix? (q chars q | qqq chars qqq)  # q is ' or "
    prefix := r | R | u | U                        # raw, or the unicode prefix (no effect)

f-strings, bytes and other prefixes fail the call: nothing is evaluated. A raw
part keeps each backslash with the character after it (`r"\d"` is `\d`, and
`r"\""` does not end the string). Raw newlines are kept in every kind of part
(LFM2 writes them in plain quoted strings too).

The JSON text of the content goes out as it is read, except what cannot be
decided yet: an escape until it is complete, quotes in a triple-quoted part
until they cannot close it, and the end of the string until what follows
cannot continue it. `ValueLexer` builds on this class: it receives the content
as JSON text (`_string_text`) and the end of the string (`_string_done`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._events import LexState
from ._literals import EscapeStatus, decode_escape, json_escape

Handler = Callable[[str, int], int]

QUOTES = "\"'"
STRING_PREFIXES = frozenset({"r", "R", "u", "U"})
_RAW_PREFIXES = frozenset({"r", "R"})
STRING_STOP = {'"': re.compile(r'["\\]'), "'": re.compile(r"['\\]")}
_NON_WS = re.compile(r"\S")
WORD_CHARS = re.compile(r"\w*")


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


class StringLexer:
    """The string states of the lexer, and the state every lexer state shares."""

    def __init__(self) -> None:
        self.state = LexState.BLOCK_START
        self._failed_in = LexState.BLOCK_START
        self._token: list[str] = []
        self._quote = '"'
        self._raw_part = False
        self._triple = False
        self._quote_run = 0
        self._escape = ""
        self._string_stop: re.Pattern[str] | None = None  # set while a streamed value string is read

    def _fail(self, pos: int) -> int:
        self._failed_in = self.state
        self.state = LexState.FAILED
        return pos

    def _string_text(self, text: str) -> None:
        """JSON text of the string's content (no quotes)."""
        raise NotImplementedError

    def _string_done(self) -> None:
        """The string ended; the next character belongs to what follows it."""
        raise NotImplementedError

    def _string_handlers(self) -> dict[LexState, Handler]:
        return {
            LexState.STRING_OPEN: self._string_open,
            LexState.STRING_EMPTY: self._string_empty,
            LexState.STRING: self._string,
            LexState.STRING_QUOTES: self._string_quotes,
            LexState.ESCAPE: self._escape_char,
            LexState.STRING_END: self._string_end,
            LexState.STRING_PREFIX: self._string_prefix,
        }

    def _open_part(self, quote: str, prefix: str = "") -> None:
        """A part begins; its first quote was consumed."""
        self._quote = quote
        self._raw_part = prefix in _RAW_PREFIXES
        self._triple = False
        if self._string_stop is not None:
            self._string_stop = STRING_STOP[quote]
        self.state = LexState.STRING_OPEN

    def _string_open(self, text: str, pos: int) -> int:
        if text[pos] == self._quote:
            self.state = LexState.STRING_EMPTY
            return pos + 1
        self.state = LexState.STRING
        return pos

    def _string_empty(self, text: str, pos: int) -> int:
        if text[pos] == self._quote:
            self._triple = True
            self.state = LexState.STRING
            return pos + 1
        self.state = LexState.STRING_END  # the part was ''
        return pos

    def _string(self, text: str, pos: int) -> int:
        match = STRING_STOP[self._quote].search(text, pos)
        stop = match.start() if match else len(text)
        if stop > pos:
            self._string_text(json_escape(text[pos:stop]))
        if match is None:
            return stop
        if text[stop] == "\\":
            self._escape = ""
            self.state = LexState.ESCAPE
        elif self._triple:
            self._quote_run = 1
            self.state = LexState.STRING_QUOTES
        else:
            self.state = LexState.STRING_END
        return stop + 1

    def _string_quotes(self, text: str, pos: int) -> int:
        if text[pos] == self._quote:
            self._quote_run += 1
            if self._quote_run == 3:
                self.state = LexState.STRING_END
            return pos + 1
        self._string_text(json_escape(self._quote * self._quote_run))
        self.state = LexState.STRING
        return pos

    def _escape_char(self, text: str, pos: int) -> int:
        if self._raw_part:
            self._string_text(json_escape("\\" + text[pos]))
            self.state = LexState.STRING
            return pos + 1
        self._escape += text[pos]
        status, decoded = decode_escape(self._escape)
        if status is EscapeStatus.NEED_MORE:
            return pos + 1
        if status is EscapeStatus.INVALID:
            return self._fail(pos)
        self._string_text(decoded)
        self.state = LexState.STRING
        return pos if status is EscapeStatus.DONE_BEFORE_LAST else pos + 1

    def _string_end(self, text: str, pos: int) -> int:
        pos = skip_ws(text, pos)
        if pos == len(text):
            return pos
        char = text[pos]
        if char in QUOTES:
            self._open_part(char)
            return pos + 1
        if is_name_start(char):
            self._token = []
            self.state = LexState.STRING_PREFIX
            return pos
        self._string_done()
        return pos

    def _string_prefix(self, text: str, pos: int) -> int:
        end = run_end(WORD_CHARS, text, pos)
        self._token.append(text[pos:end])
        if end == len(text):
            return end
        prefix = "".join(self._token)
        if text[end] not in QUOTES or prefix not in STRING_PREFIXES:
            return self._fail(end)
        self._open_part(text[end], prefix)
        return end + 1
