"""How LFM2's real vocabulary splits call text, and that streams fed its token pieces parse as whole text.

The engine hands the gateway text one token at a time, as vLLM's incremental detokenizer releases it:
each call marker is one special token (ids 10 and 11), and everything else arrives in the real
vocabulary's pieces (`get`, `_`, `weather`, `(c`, `ity`, `="`, ...), with a character split over two
byte-level tokens held until it is whole. The tool parser and the gateway's answer decoder must give
the same answer for that stream as for the whole text at once.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

import tool_parser
from server.checkpoints.tiny_model import SPECIAL_TOKENS, real_tokenizer_json
from server.core.answer import AnswerDecoder, merge
from tests.integration.forcing import TIME_TOOL, WEATHER_TOOL
from tests.tool_parser.stream_contract import check_stream, counter_ids

START, END = tool_parser.TOOL_CALL_START, tool_parser.TOOL_CALL_END
NOTE_TOOL = {"type": "function", "function": {"name": "note", "parameters": {
    "type": "object", "properties": {"text": {"type": "string"}, "tags": {"type": "array"}}}}}
TOOLS = [WEATHER_TOOL, TIME_TOOL, NOTE_TOOL]

CALL_TEXTS = [
    f'I will check.{START}[get_weather(city="San Francisco", days=3), get_time()]{END}Done.',
    f'{START}[get_weather(city="Paris")]{END}',
    f'{START}[note(text="Zürich — 東京 😀 \\"quoted\\"", tags=["a", "b"])]{END}',
    f'{START}[{{"name": "get_weather", "arguments": {{"city": "Oslo", "days": 2}}}}]{END}',
    f'Two blocks: {START}[get_time()]{END} then {START}[get_weather(city="Rome", days=07)]{END}',
    f'{START}[get_weather(city="Lima")]{END}[get_weather(city="Lima")]{END}',  # the usual echo
]


@cache
def tokenizer() -> Any:
    blob = real_tokenizer_json()
    if blob is None:
        pytest.skip("LFM2's real tokenizer is not installed (scripts/install.sh downloads it)")
    from tokenizers import Tokenizer

    return Tokenizer.from_str(blob.decode())


def token_pieces(text: str) -> tuple[list[int], list[str]]:
    """The ids of `text` and the text each step releases, as an incremental detokenizer does: a piece
    that ends inside a character (U+FFFD on decoding) waits for the next token."""
    tok = tokenizer()
    ids = tok.encode(text, add_special_tokens=False).ids
    pieces, sent = [], ""
    for end in range(1, len(ids) + 1):
        decoded = tok.decode(ids[:end], skip_special_tokens=False)
        if decoded.endswith("\ufffd") and end < len(ids):
            pieces.append("")
            continue
        pieces.append(decoded[len(sent):])
        sent = decoded
    assert sent == text
    return ids, pieces


def test_markers_are_single_special_tokens():
    tok = tokenizer()
    for token_id, token in enumerate(SPECIAL_TOKENS):
        assert tok.encode(token, add_special_tokens=False).ids == [token_id]
    ids, pieces = token_pieces(CALL_TEXTS[0])
    assert ids.count(10) == 1 and ids.count(11) == 1
    assert pieces[ids.index(10)] == START and pieces[ids.index(11)] == END


def test_call_text_splits_into_real_pieces():
    ids, pieces = token_pieces(CALL_TEXTS[0])
    start = ids.index(10)
    assert pieces[start + 1 : start + 9] == ["[", "get", "_", "weather", "(c", "ity", '="', "San"]
    assert pieces[start + 9] == " Francisco"
    assert not any(START in p or END in p for i, p in enumerate(pieces) if ids[i] not in (10, 11))


def test_a_character_split_over_two_tokens_is_released_whole():
    _, pieces = token_pieces(CALL_TEXTS[2])
    assert "" in pieces, "the emoji spans two byte-level tokens"
    assert all("\ufffd" not in p for p in pieces)
    assert any(p.endswith("😀") for p in pieces)


@pytest.mark.parametrize("text", CALL_TEXTS)
@pytest.mark.parametrize("tools", [TOOLS, None])
def test_parser_fed_token_pieces_matches_whole_text(text, tools):
    _, pieces = token_pieces(text)
    parser = tool_parser.StreamParser(tools, id_factory=counter_ids())
    deltas: list[dict[str, Any]] = []
    for piece in pieces:
        deltas += parser.feed(piece)
    deltas += parser.close()
    streamed = check_stream(deltas, parser.failed_indices, text)
    whole = tool_parser.parse(text, tools, id_factory=counter_ids())
    assert (streamed.content, streamed.tool_calls) == (whole.content, whole.tool_calls)
    assert parser.outcomes == whole.outcomes


@pytest.mark.parametrize("text", CALL_TEXTS)
def test_answer_decoder_fed_token_pieces_matches_whole_text(text):
    _, pieces = token_pieces(text)
    streaming = AnswerDecoder(TOOLS, parse_tools=True)
    deltas = [d for piece in pieces for d in streaming.feed(piece)] + streaming.close()
    once = AnswerDecoder(TOOLS, parse_tools=True)
    whole = once.feed(text) + once.close()
    check_stream([d for d in deltas if "tool_calls" in d or d.get("content")], source=text)
    assert _message(merge(deltas, streaming.failed_calls)) == _message(merge(whole, once.failed_calls))
    assert streaming.outcomes == once.outcomes and streaming.called_tools == once.called_tools


def test_call_name_and_arguments_stream_from_pieces():
    """The name goes out once `(` is read, though it came as three tokens; the string value streams."""
    text = f'{START}[note(text="{"word " * 100}")]{END}'
    _, pieces = token_pieces(text)
    decoder = AnswerDecoder(TOOLS, parse_tools=True)
    per_piece = [decoder.feed(piece) for piece in pieces] + [decoder.close()]
    fragments = [f for deltas in per_piece for d in deltas for f in d.get("tool_calls", ())]
    assert fragments[0]["function"]["name"] == "note"
    assert sum(1 for deltas in per_piece if any("tool_calls" in d for d in deltas)) > 5
    assert json.loads("".join(f["function"].get("arguments", "") for f in fragments)) == {
        "text": "word " * 100}


def _message(message: dict[str, Any]) -> dict[str, Any]:
    """A message without its random call ids."""
    calls = [{**c, "id": None} for c in message.get("tool_calls", ())]
    return {**message, "tool_calls": calls}
