"""Literal helpers: escapes and numbers -> JSON text."""

from __future__ import annotations

import pytest

from tool_parser._literals import EscapeStatus, decode_escape, json_escape, number_json


@pytest.mark.parametrize(
    ("seq", "expected"),
    [
        ("n", (EscapeStatus.DONE, "\\n")),
        ('"', (EscapeStatus.DONE, '\\"')),
        ("'", (EscapeStatus.DONE, "'")),
        ("\\", (EscapeStatus.DONE, "\\\\")),
        ("/", (EscapeStatus.DONE, "/")),
        ("\n", (EscapeStatus.DONE, "")),
        ("q", (EscapeStatus.DONE, "\\\\q")),
        ("x4", (EscapeStatus.NEED_MORE, "")),
        ("x41", (EscapeStatus.DONE, "A")),
        ("xZ", (EscapeStatus.INVALID, "")),
        ("u00e9", (EscapeStatus.DONE, "é")),
        ("ud83d", (EscapeStatus.DONE, "\\ud83d")),
        ("U0001F600", (EscapeStatus.DONE, "😀")),
        ("U00110000", (EscapeStatus.INVALID, "")),
        ("0", (EscapeStatus.NEED_MORE, "")),
        ("0x", (EscapeStatus.DONE_BEFORE_LAST, "\\u0000")),
        ("101", (EscapeStatus.DONE, "A")),
        ("N", (EscapeStatus.NEED_MORE, "")),
        ("N{BULLET", (EscapeStatus.NEED_MORE, "")),
        ("N{BULLET}", (EscapeStatus.DONE, "•")),
        ("N{NO SUCH NAME}", (EscapeStatus.INVALID, "")),
        ("Nx", (EscapeStatus.INVALID, "")),
        ("N{}", (EscapeStatus.INVALID, "")),
    ],
)
def test_decode_escape(seq: str, expected: tuple[EscapeStatus, str]) -> None:
    assert decode_escape(seq) == expected


def test_named_escape_is_bounded() -> None:
    assert decode_escape("N{" + "A" * 200)[0] is EscapeStatus.INVALID


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("0", "0"),
        ("07", "7"),
        ("-07", "-7"),
        ("+5", "5"),
        ("1_000", "1000"),
        ("0x1f", "31"),
        ("0o17", "15"),
        ("0b101", "5"),
        ("1.5", "1.5"),
        ("1.", "1.0"),
        (".5", "0.5"),
        ("1e3", "1000.0"),
        ("-2.5E-3", "-0.0025"),
        ("1e999", None),
        ("1-2", None),
        ("1.2.3", None),
        ("abc", None),
        ("-", None),
        ("9" * 5000, None),
    ],
)
def test_number_json(token: str, expected: str | None) -> None:
    assert number_json(token) == expected


def test_json_escape() -> None:
    assert json_escape('a"b\\c\n\x01é') == 'a\\"b\\\\c\\n\\u0001é'
