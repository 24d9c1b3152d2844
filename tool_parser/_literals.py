"""Python/JSON literal pieces -> JSON text: escapes, numbers, constants.

Everything returns JSON *text* so the lexer can stream it; `None` means the
token is not a literal we accept.
"""

from __future__ import annotations

import math
import re
import unicodedata
from enum import Enum
from json.encoder import encode_basestring

_SIMPLE_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "a": "\a",
    "/": "/",  # JSON's escape; Python would keep the backslash
    "\n": "",  # line continuation
}
_HEX_LENGTH = {"x": 2, "u": 4, "U": 8}
_HEX = frozenset("0123456789abcdefABCDEF")
_OCTAL = frozenset("01234567")
_MAX_NAMED_ESCAPE = 100

_INT_RE = re.compile(r"[-+]?\d[\d_]*")
_PREFIXED_INT_RE = re.compile(r"[-+]?0(?:[xX][0-9a-fA-F_]+|[oO][0-7_]+|[bB][01_]+)")
_FLOAT_RE = re.compile(r"[-+]?(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][-+]?\d+)?")

CONSTANTS = {
    "True": "true",
    "true": "true",
    "False": "false",
    "false": "false",
    "None": "null",
    "null": "null",
}


def json_escape(text: str) -> str:
    """JSON string body (no quotes) for `text`; non-ASCII stays readable."""
    return encode_basestring(text)[1:-1]


class EscapeStatus(Enum):
    NEED_MORE = "need_more"
    DONE = "done"  # every character given was part of the escape
    DONE_BEFORE_LAST = "done_before_last"  # the last character was not
    INVALID = "invalid"


def decode_escape(seq: str) -> tuple[EscapeStatus, str]:
    """Decode the characters after a backslash seen so far.

    Returns the status and, when done, the JSON text of the decoded character(s).
    """
    head = seq[0]
    if head in _SIMPLE_ESCAPES:
        return EscapeStatus.DONE, json_escape(_SIMPLE_ESCAPES[head])
    if head in _HEX_LENGTH:
        return _decode_hex(seq, _HEX_LENGTH[head])
    if head in _OCTAL:
        return _decode_octal(seq)
    if head == "N":
        return _decode_named(seq)
    return EscapeStatus.DONE, json_escape("\\" + head)  # Python keeps unknown escapes


def _decode_hex(seq: str, length: int) -> tuple[EscapeStatus, str]:
    digits = seq[1:]
    if digits and digits[-1] not in _HEX:
        return EscapeStatus.INVALID, ""
    if len(digits) < length:
        return EscapeStatus.NEED_MORE, ""
    code = int(digits, 16)
    if code > 0x10FFFF:
        return EscapeStatus.INVALID, ""
    if 0xD800 <= code <= 0xDFFF:
        # Keep surrogates as JSON escapes so a pair recombines when decoded.
        return EscapeStatus.DONE, f"\\u{code:04x}"
    return EscapeStatus.DONE, json_escape(chr(code))


def _decode_octal(seq: str) -> tuple[EscapeStatus, str]:
    if seq[-1] not in _OCTAL:
        return EscapeStatus.DONE_BEFORE_LAST, json_escape(chr(int(seq[:-1], 8)))
    if len(seq) < 3:
        return EscapeStatus.NEED_MORE, ""
    return EscapeStatus.DONE, json_escape(chr(int(seq, 8)))


def _decode_named(seq: str) -> tuple[EscapeStatus, str]:
    if len(seq) >= 2 and seq[1] != "{":
        return EscapeStatus.INVALID, ""
    if not seq.endswith("}") or len(seq) == 2:
        status = EscapeStatus.NEED_MORE if len(seq) < _MAX_NAMED_ESCAPE else EscapeStatus.INVALID
        return status, ""
    try:
        return EscapeStatus.DONE, json_escape(unicodedata.lookup(seq[2:-1]))
    except KeyError:
        return EscapeStatus.INVALID, ""


def number_json(token: str) -> str | None:
    """JSON text for a Python/JSON number token (`07` -> `7`, `1e3` -> `1000.0`)."""
    try:
        if _INT_RE.fullmatch(token):
            return str(int(token))
        if _PREFIXED_INT_RE.fullmatch(token):
            return str(int(token, 0))
        if _FLOAT_RE.fullmatch(token):
            value = float(token)
            return repr(value) if math.isfinite(value) else None
    except ValueError:  # e.g. more digits than int() converts
        return None
    return None
