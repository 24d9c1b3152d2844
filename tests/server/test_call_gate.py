"""The call gate: strict calls held and checked, extra calls turned into text, dense indices, outcomes."""

from __future__ import annotations

import json

import pytest

import tool_parser
from server.core.answer import AnswerDecoder, merge
from tests.tool_parser.stream_contract import check_stream, split_every

STRICT = {"type": "function", "function": {"name": "book", "strict": True, "parameters": {
    "type": "object", "properties": {"seats": {"type": "integer", "maximum": 4}}, "required": ["seats"],
    "additionalProperties": False}}}
LOOSE = {"type": "function", "function": {"name": "note", "parameters": {
    "type": "object", "properties": {"text": {"type": "string", "maxLength": 5}}, "required": ["text"]}}}
TOOLS = [STRICT, LOOSE]


def run(text, tools=TOOLS, max_calls=None, chunk=None, release_after=tool_parser.DEFAULT_RELEASE_AFTER):
    decoder = AnswerDecoder(tools, parse_tools=True, reasoning=False, max_calls=max_calls,
                            release_after=release_after)
    deltas = []
    for piece in split_every(text, chunk) if chunk else [text]:
        deltas += decoder.feed(piece)
    deltas += decoder.close()
    return decoder, deltas


def block(*calls):
    return tool_parser.TOOL_CALL_START + "[" + ", ".join(calls) + "]" + tool_parser.TOOL_CALL_END


def summary(decoder, deltas):
    message = merge(deltas, decoder.failed_calls)
    calls = [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message.get("tool_calls", [])]
    return message["content"], calls, [(o.name, o.outcome) for o in decoder.outcomes]


def test_valid_strict_call_is_reported_whole():
    for chunk in (None, 1, 3):
        decoder, deltas = run(block("book(seats=2)"), chunk=chunk)
        fragments = [d for d in deltas if "tool_calls" in d]
        assert len(fragments) == 1, "a strict call is held, then sent in one fragment"
        assert summary(decoder, deltas) == (None, [("book", {"seats": 2})], [("book", "parsed")])
        assert decoder.called_tools


def test_strict_call_that_does_not_validate_becomes_text():
    for chunk in (None, 2):
        decoder, deltas = run(block("book(seats=9)"), chunk=chunk)
        content, calls, outcomes = summary(decoder, deltas)
        assert calls == [] and outcomes == [("book", "rejected")]
        assert content == "[book(seats=9)]"
        assert not decoder.called_tools
        check_stream([d for d in deltas if d.get("content") or "tool_calls" in d])


def test_repairs_come_before_the_check():
    decoder, deltas = run(block('book(seats="3")'))
    assert summary(decoder, deltas)[1:] == ([("book", {"seats": 3})], [("book", "repaired")])


def test_loose_call_that_does_not_validate_is_reported_and_counted():
    decoder, deltas = run(block('note(text="far too long")'))
    _, calls, outcomes = summary(decoder, deltas)
    assert calls == [("note", {"text": "far too long"})] and outcomes == [("note", "invalid")]


def test_indices_stay_dense_when_a_call_is_withheld():
    decoder, deltas = run(block("book(seats=9)", 'note(text="hi")', "book(seats=1)"), chunk=4)
    folded = check_stream([d for d in deltas if d.get("content") or "tool_calls" in d])
    assert [c["function"]["name"] for c in folded.tool_calls] == ["note", "book"]
    assert [o.outcome for o in decoder.outcomes] == ["rejected", "parsed", "parsed"]


def test_max_calls_turns_extra_calls_into_text():
    decoder, deltas = run(block('note(text="a")', 'note(text="b")'), max_calls=1, chunk=3)
    content, calls, outcomes = summary(decoder, deltas)
    assert calls == [("note", {"text": "a"})]
    assert content == '[note(text="b")]'
    assert outcomes == [("note", "parsed"), ("note", "extra")]


@pytest.mark.parametrize(("release_after", "streamed_then_failed"), [(tool_parser.DEFAULT_RELEASE_AFTER, set()),
                                                                     (0, {1})])
def test_failed_calls_keep_their_place_in_outcomes(release_after, streamed_then_failed):
    """A short call that turns out truncated is never sent (it is held until it closes); with
    release_after 0 it was streamed, and is reported as failed after the fact."""
    text = block('note(text="a")') + " and " + tool_parser.TOOL_CALL_START + '[note(text="b"'
    decoder, deltas = run(text, chunk=2, release_after=release_after)
    _, calls, outcomes = summary(decoder, deltas)
    assert calls == [("note", {"text": "a"})]
    assert outcomes == [("note", "parsed"), ("note", "failed")]
    assert decoder.failed_calls == streamed_then_failed


def test_unknown_tools_pass_unchecked():
    decoder, deltas = run(block("launch(n=1)"))
    assert summary(decoder, deltas)[1:] == ([("launch", {"n": 1})], [("launch", "unknown_tool")])


def test_parser_off_means_no_gate():
    decoder = AnswerDecoder(TOOLS, parse_tools=False)
    assert decoder.feed(block("book(seats=9)")) == [{"content": block("book(seats=9)")}]
    assert decoder.close() == [] and decoder.outcomes == [] and not decoder.called_tools
