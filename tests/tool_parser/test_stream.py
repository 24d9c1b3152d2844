"""StreamParser: the streaming contract, holding back, close(), failures, echo."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stream_contract import (
    assert_chunking_invariant,
    calls,
    check_stream,
    counter_ids,
    outcomes,
    split_every,
    stream_chunks,
)

from tool_parser import TOOL_CALL_END as E
from tool_parser import TOOL_CALL_START as S
from tool_parser import CallOutcome, StreamParser

WEATHER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            },
        },
    }
]


def new_parser(tools: Any = None) -> StreamParser:
    return StreamParser(tools, id_factory=counter_ids())


def args_of(deltas: list[dict[str, Any]]) -> str:
    return "".join(entry["function"].get("arguments", "") for d in deltas for entry in d.get("tool_calls", ()))


def content_of(deltas: list[dict[str, Any]]) -> str:
    return "".join(d.get("content", "") for d in deltas)


def test_name_is_sent_as_soon_as_name_paren_is_read() -> None:
    p = new_parser()
    assert p.feed(f"{S}[get_wea") == []
    assert p.feed("ther") == []
    first = p.feed("(")
    assert first == [
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ]
        }
    ]


def test_string_arguments_stream_as_they_arrive() -> None:
    p = new_parser()
    p.feed(f'{S}[write(path="a", text="Hello')
    assert args_of(p.feed(" wor")) == " wor"
    assert args_of(p.feed('ld\\n"')) == 'ld\\n"'
    rest = p.feed(")]") + p.feed(E) + p.close()
    assert args_of(rest) == "}"


def test_streamed_arguments_are_json_escaped() -> None:
    p = new_parser()
    deltas = p.feed(f"{S}[f(a='say \"hi\"\t\\'x\\'")
    assert args_of(deltas) == '{"a": "say \\"hi\\"\\t\'x\''
    deltas += p.feed("')]" + E) + p.close()
    assert json.loads(args_of(deltas)) == {"a": "say \"hi\"\t'x'"}


def test_partial_escape_is_held_until_complete() -> None:
    p = new_parser()
    deltas = p.feed(f'{S}[f(a="x\\u00')
    assert args_of(deltas) == '{"a": "x'
    assert args_of(p.feed("e9")) == "é"


def test_marker_prefix_is_held_and_released_when_not_a_marker() -> None:
    p = new_parser()
    assert p.feed("Hi <|tool") == [{"content": "Hi "}]
    assert p.feed("_call") == []
    assert p.feed("_sta") == []
    assert p.feed("rx and more") == [{"content": "<|tool_call_starx and more"}]


def test_marker_split_into_single_characters() -> None:
    p = new_parser()
    deltas: list[dict[str, Any]] = []
    for char in f"ok {S}[f(a=1)]{E} done":
        deltas += p.feed(char)
    deltas += p.close()
    result = check_stream(deltas)
    assert result.content == "ok  done"
    assert calls(result) == [("f", {"a": 1})]


def test_held_marker_prefix_is_flushed_as_content_at_close() -> None:
    p = new_parser()
    assert p.feed("The end <|tool_call_e") == [{"content": "The end "}]
    assert p.close() == [{"content": "<|tool_call_e"}]


def test_lone_markers_never_reach_content() -> None:
    result = assert_chunking_invariant(f"a{E}b{E}")
    assert result.content == "ab" and result.outcomes == []


def test_marker_split_into_characters_never_leaks() -> None:
    for text in (f"a{S}[f()]{E}b", f"x{S}", f"{E}y", f"{S}{E}"):
        for size in (1, 2, 3):
            result, _ = stream_chunks(split_every(text, size))
            assert S not in (result.content or "") and E not in (result.content or "")


def test_text_around_a_removed_marker_is_kept_as_written() -> None:
    # Garbage in, garbage out: the two halves are not a marker, the middle one is.
    result = assert_chunking_invariant(f"<|tool_call_en{E}d|>")
    assert result.content == "<|tool_call_end|>" and result.outcomes == []


def test_several_tokens_in_one_delta() -> None:
    text = f'Sure.{S}[get_weather(city="Paris"), get_time()]{E}Done.'
    result, _ = stream_chunks([text[:10], text[10:60], text[60:]])
    assert result.content == "Sure.Done."
    assert calls(result) == [("get_weather", {"city": "Paris"}), ("get_time", {})]


def test_outcomes_are_exposed_on_the_parser() -> None:
    p = new_parser(WEATHER_TOOLS)
    p.feed(f'{S}[get_weather(city="Paris", days="3"), other()]{E}')
    p.close()
    assert p.outcomes == [CallOutcome("get_weather", "repaired"), CallOutcome("other", "unknown_tool")]


def test_feed_after_close_is_an_error() -> None:
    p = new_parser()
    p.close()
    assert p.close() == []
    with pytest.raises(RuntimeError):
        p.feed("x")


# ------------------------------------------------------------- end of output


def test_missing_end_marker_complete_list_is_parsed_at_close() -> None:
    p = new_parser()
    deltas = p.feed(f'{S}[get_weather(city="Paris")]')
    deltas += p.close()
    result = check_stream(deltas)
    assert calls(result) == [("get_weather", {"city": "Paris"})]
    assert result.content is None
    assert p.outcomes == [CallOutcome("get_weather", "parsed")]


def test_missing_closing_bracket_with_complete_calls_is_parsed() -> None:
    result = assert_chunking_invariant(f"{S}[f(a=1), g(b=2)")
    assert calls(result) == [("f", {"a": 1}), ("g", {"b": 2})]


@pytest.mark.parametrize(
    "tail",
    ['[f(a="Par', "[f(a=[1, {'k': 'v", "[f(a=12", "[f(a=Tru", "[f(a=", "[f(", "[f", "[", "[f(a=1, b=(1,"],
)
def test_unfinished_call_at_close_becomes_content(tail: str) -> None:
    result = assert_chunking_invariant(f"Text {S}{tail}")
    assert result.tool_calls == []
    assert result.content == f"Text {tail}"
    assert [o.outcome for o in result.outcomes] == ["failed"]


def test_unfinished_call_streamed_fragments_are_closed_into_json() -> None:
    p = new_parser()
    deltas = p.feed(f'{S}[f(a="Par')
    deltas += p.close()
    assert json.loads(args_of(deltas)) == {"a": "Par"}
    assert content_of(deltas) == '[f(a="Par'
    assert p.outcomes == [CallOutcome("f", "failed")]
    assert p.failed_indices == [0]
    assert check_stream(deltas, p.failed_indices).tool_calls == []


def test_failed_call_keeps_index_and_next_call_follows() -> None:
    p = new_parser()
    deltas = p.feed(f'{S}[f(a="x" + "y")]{E}{S}[g()]{E}') + p.close()
    result = check_stream(deltas, p.failed_indices)
    assert p.failed_indices == [0]
    assert [c["function"]["name"] for c in result.tool_calls] == ["g"]
    assert result.tool_calls[0]["id"] == "call_1"


def test_start_marker_inside_an_unfinished_block() -> None:
    result = assert_chunking_invariant(f'{S}[f(a="x{S}[g()]{E}')
    assert calls(result) == [("g", {})]
    assert result.content == '[f(a="x'
    assert outcomes(result) == [("f", "failed"), ("g", "parsed")]


# ----------------------------------------------------------------------- echo


def test_echo_after_end_marker_is_dropped() -> None:
    text = f'{S}[get_weather(city="Paris")]{E}[get_weather(city="Paris")]{E}'
    result = assert_chunking_invariant(text)
    assert calls(result) == [("get_weather", {"city": "Paris"})]
    assert result.content is None
    assert outcomes(result) == [("get_weather", "parsed")]


def test_echo_with_whitespace_and_text_after() -> None:
    text = f"Checking.{S}[a(x=1), b()]{E}\n[a(x=1), b()]\n{E}\nIt is sunny."
    result = assert_chunking_invariant(text)
    assert calls(result) == [("a", {"x": 1}), ("b", {})]
    assert result.content == "Checking.\nIt is sunny."


def test_echo_without_second_end_marker_is_dropped() -> None:
    result = assert_chunking_invariant(f"{S}[a(x=1)]{E} [a(x=1)]")
    assert calls(result) == [("a", {"x": 1})] and result.content is None


def test_echo_written_differently_but_equal_is_dropped() -> None:
    result = assert_chunking_invariant(f"{S}[a(x='1', y=[1,2])]{E}[a(x=\"1\", y=(1, 2))]{E}")
    assert calls(result) == [("a", {"x": "1", "y": [1, 2]})] and result.content is None


def test_text_in_brackets_after_a_block_is_content() -> None:
    result = assert_chunking_invariant(f"{S}[a()]{E}[1] See the reference.")
    assert result.content == "[1] See the reference."


def test_different_list_after_a_block_is_content_without_tools() -> None:
    result = assert_chunking_invariant(f"{S}[a(x=1)]{E}[a(x=2)]{E}")
    assert calls(result) == [("a", {"x": 1})]
    assert result.content == "[a(x=2)]"


def test_different_list_of_offered_tools_after_a_block_is_a_call() -> None:
    text = f'{S}[get_weather(city="Paris")]{E}[get_weather(city="Rome")]{E}'
    result = assert_chunking_invariant(text, WEATHER_TOOLS)
    assert calls(result) == [("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Rome"})]
    assert result.content is None


def test_unfinished_echo_at_close_is_content() -> None:
    result = assert_chunking_invariant(f"{S}[a(x=1)]{E}[a(x=")
    assert calls(result) == [("a", {"x": 1})]
    assert result.content == "[a(x="


# ----------------------------------------------------------------- bare lists


def test_bare_call_list_of_offered_tools_is_a_call() -> None:
    result = assert_chunking_invariant('[get_weather(city="Paris", days=2)]', WEATHER_TOOLS)
    assert calls(result) == [("get_weather", {"city": "Paris", "days": 2})]
    assert result.content is None


def test_bare_call_list_followed_by_text() -> None:
    result = assert_chunking_invariant('  [get_weather(city="Paris")]\nLet me check.', WEATHER_TOOLS)
    assert calls(result) == [("get_weather", {"city": "Paris"})]
    assert result.content == "\nLet me check."


def test_bare_json_call_list_of_offered_tools_is_a_call() -> None:
    result = assert_chunking_invariant('[{"name": "get_weather", "arguments": {"city": "Oslo"}}]', WEATHER_TOOLS)
    assert calls(result) == [("get_weather", {"city": "Oslo"})]


@pytest.mark.parametrize(
    "text",
    [
        '[get_weather(city="Paris"), other()]',
        '[other(city="Paris")]',
        "[1, 2, 3] are numbers",
        "[]",
        '[get_weather(city="Par',
        'Sure: [get_weather(city="Paris")]',
    ],
)
def test_bare_list_that_is_not_all_offered_tools_is_content(text: str) -> None:
    result = assert_chunking_invariant(text, WEATHER_TOOLS)
    assert result.tool_calls == [] and result.content == text and result.outcomes == []


def test_bare_call_list_without_tools_is_content() -> None:
    text = '[get_weather(city="Paris")]'
    assert assert_chunking_invariant(text).content == text


# -------------------------------------------------------------- invariance


CORPUS = [
    f'Let me look that up.\n{S}[get_weather(city="Paris", unit="celsius"), get_time(tz=\'Europe/Paris\')]{E}',
    f"{S}[f(a='x\\'y\\n', b=[1, 2.5, -3e2, None, True], c={{'k': (1,)}})]{E} after <| text",
    f"{S}[grocery.order(items=['milk', 'eggs'], from='store', count=07)]{E}"
    f"[grocery.order(items=['milk', 'eggs'], from='store', count=07)]{E}Ordered.",
    f'{S}[{{"name": "f", "arguments": {{"a": "b<|c"}}}}]{E}',
    f'{S}[f(a="unterminated',
    f"{S}[f(a=1), g(b=2 + 3)]{E} tail {S}[h()]{E}",
    f"<|tool_call_sta <|tool_call_end {S}{E} <|",
    "plain text only, with < and | and <|im_end|>",
    f"{S}[f(text='''triple''')]{E}",
    f"{S}[f(a='\\N{{BULLET}}\\x41\\101\\0')]{E}",
]


@pytest.mark.parametrize("text", CORPUS)
@pytest.mark.parametrize("tools", [None, WEATHER_TOOLS])
def test_every_split_gives_the_same_result(text: str, tools: Any) -> None:
    assert_chunking_invariant(text, tools, seeds=10)


def test_char_by_char_equals_parse_for_the_corpus() -> None:
    for text in CORPUS:
        char_result, _ = stream_chunks(split_every(text, 1))
        whole_result, _ = stream_chunks([text])
        assert char_result == whole_result


def test_echo_without_brackets_is_dropped() -> None:
    result = assert_chunking_invariant(f'{S}[get_weather(city="Paris")]{E}get_weather(city="Paris"){E} ok')
    assert calls(result) == [("get_weather", {"city": "Paris"})]
    assert result.content == " ok"


def test_bare_call_without_brackets_of_an_offered_tool() -> None:
    result = assert_chunking_invariant('get_weather(city="Paris")', WEATHER_TOOLS)
    assert calls(result) == [("get_weather", {"city": "Paris"})]


@pytest.mark.parametrize(
    "text",
    [
        "Sure (I can help) with that.",
        'get_weather(city="Paris") is what I would call.',
        "Hello world",
        "I",
        '{"name": "other", "arguments": {}}',
        '{"answer": 42}',
    ],
)
def test_prose_with_tools_offered_is_content(text: str) -> None:
    result = assert_chunking_invariant(text, WEATHER_TOOLS)
    assert result.content == text and result.tool_calls == []


def test_prose_is_held_at_most_until_the_first_word_ends() -> None:
    p = new_parser(WEATHER_TOOLS)
    assert p.feed("Hello") == []
    assert p.feed(" wo") == [{"content": "Hello wo"}]
    assert p.feed("rld") == [{"content": "rld"}]


def test_bare_json_object_of_an_offered_tool() -> None:
    result = assert_chunking_invariant('{"name": "get_weather", "arguments": {"city": "Oslo"}}', WEATHER_TOOLS)
    assert calls(result) == [("get_weather", {"city": "Oslo"})]
