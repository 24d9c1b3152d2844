"""MarkerSplitter: same pieces as splitting the whole text, for any chunking."""

from __future__ import annotations

import pytest

from tool_parser import TOOL_CALL_END as E
from tool_parser import TOOL_CALL_START as S
from tool_parser._markers import Marker, MarkerSplitter, Piece


def split_all(chunks: list[str]) -> list[Piece]:
    splitter = MarkerSplitter()
    pieces: list[Piece] = []
    for chunk in chunks:
        pieces += splitter.feed(chunk)
    held = splitter.flush()
    if held:
        pieces.append(held)
    merged: list[Piece] = []
    for piece in pieces:  # adjacent text pieces are one text
        if merged and isinstance(piece, str) and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


TEXTS = [
    f"a{S}b{E}c",
    f"{S}{E}{S}{E}",
    "<|tool_call_star",
    "<<||<|tool_call_end|",
    f"x<|tool_call_{S}y",
    "no markers at all",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("size", [1, 2, 3, 5, 100])
def test_any_chunking_gives_the_same_pieces(text: str, size: int) -> None:
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    assert split_all(chunks) == split_all([text])


def test_pieces() -> None:
    assert split_all([f"a{S}b{E}c"]) == ["a", Marker.START, "b", Marker.END, "c"]


def test_holds_only_a_possible_marker_prefix() -> None:
    splitter = MarkerSplitter()
    assert splitter.feed("abc <|tool_c") == ["abc "]
    assert splitter.held == "<|tool_c"
    assert splitter.feed("all_end|> x") == [Marker.END, " x"]
    assert splitter.feed("a <b") == ["a <b"]
    assert splitter.held == ""


def test_hold_is_never_longer_than_a_marker() -> None:
    splitter = MarkerSplitter()
    for char in "<|tool_call_start":
        splitter.feed(char)
        assert len(splitter.held) < len(S)
    assert splitter.feed("|>") == [Marker.START]


def test_flush_returns_held_text() -> None:
    splitter = MarkerSplitter()
    splitter.feed("x<|")
    assert splitter.flush() == "<|"
    assert splitter.flush() == ""
