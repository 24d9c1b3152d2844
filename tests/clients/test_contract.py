"""The stream contract checker itself: it passes good streams and names what a bad one breaks."""

from __future__ import annotations

import json

import pytest

from tests.clients.contract import check_chat_stream, violation

REQUEST = {"stream": True, "tools": [{"type": "function", "function": {"name": "f"}}]}


def body(*deltas, done=True):
    chunks = [{"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": d}]} for d in deltas]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + ("data: [DONE]\n\n" if done else "")


def head(index=0, call_id="call_1", name="f", arguments=""):
    return {"tool_calls": [{"index": index, "id": call_id, "type": "function",
                            "function": {"name": name, "arguments": arguments}}]}


def more(index=0, arguments=""):
    return {"tool_calls": [{"index": index, "function": {"arguments": arguments}}]}


GOOD = body({"role": "assistant", "content": ""}, {"content": "ok "}, head(), more(arguments='{"a": '),
            more(arguments="1}"), head(1, "call_2"), more(1, "{}"), {})


def test_a_good_stream_passes_and_folds():
    assert violation(REQUEST, GOOD) is None
    chunks = [json.loads(line[6:]) for line in GOOD.splitlines() if line.startswith("data: {")]
    calls = check_chat_stream(chunks)[0]
    assert [(c["function"]["name"], c["function"]["arguments"]) for c in calls] == [("f", '{"a": 1}'), ("f", "{}")]


@pytest.mark.parametrize("deltas", [
    (head(1),),  # index not dense from 0
    (head(), head(0)),  # id and name twice
    (head(), more(arguments='{"a": ')),  # arguments not JSON
    (head(call_id=None),),  # no id
    ({"content": "<|tool_call_start|>"},),  # marker text in content
    (head(), more(arguments="{}"), head(1, "call_2", arguments="{}"), more(0, "")),  # fragments interleaved
])
def test_broken_streams_are_named(deltas):
    assert violation(REQUEST, body(*deltas)) is not None


def test_unfinished_and_tool_free_streams_are_not_judged():
    assert violation(REQUEST, body(head(1), done=False)) is None
    assert violation({"stream": True}, body(head(1))) is None
    assert violation({**REQUEST, "tool_choice": "none"}, body(head(1))) is None
