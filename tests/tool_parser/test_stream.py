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

from tool_parser import DEFAULT_RELEASE_AFTER, CallOutcome, StreamParser
from tool_parser import TOOL_CALL_END as E
from tool_parser import TOOL_CALL_START as S

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


def new_parser(tools: Any = None, release_after: int = DEFAULT_RELEASE_AFTER) -> StreamParser:
    return StreamParser(tools, id_factory=counter_ids(), release_after=release_after)


def legacy_parser(tools: Any = None) -> StreamParser:
    """release_after=0: every call streams from `name(` on (the old behaviour)."""
    return new_parser(tools, release_after=0)


def args_of(deltas: list[dict[str, Any]]) -> str:
    return "".join(entry["function"].get("arguments", "") for d in deltas for entry in d.get("tool_calls", ()))


def content_of(deltas: list[dict[str, Any]]) -> str:
    return "".join(d.get("content", "") for d in deltas)


def header(index: int, name: str, arguments: str) -> dict[str, Any]:
    return {
        "tool_calls": [
            {
                "index": index,
                "id": f"call_{index}",
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
        ]
    }


# ------------------------------------------------------ commit before stream


def test_short_call_is_held_until_it_closes() -> None:
    p = new_parser()
    pieces = [S, "[get", "_weather", "(c", "ity", '="', "Paris", '")', "]", E]
    seen = [p.feed(piece) for piece in pieces]
    assert seen[:6] == [[]] * 6
    assert seen[6] == []  # the whole value is read, the call is not closed yet
    assert seen[7] == [header(0, "get_weather", '{"city": "Paris"}')]
    assert seen[8:] == [[], []] and p.close() == []


def test_malformed_short_call_is_never_streamed() -> None:
    for body in ('get_weather(city=)', 'get_weather(city="Pa" + "ris")', "get_weather(city=Paris)"):
        p = new_parser()
        deltas = [d for char in f"{S}[{body}]{E} after" for d in p.feed(char)] + p.close()
        assert all("tool_calls" not in d for d in deltas), body
        assert content_of(deltas) == f"[{body}] after"
        assert p.outcomes == [CallOutcome("get_weather", "failed")] and p.failed_indices == []


def test_truncated_short_call_is_content_only() -> None:
    p = new_parser()
    deltas = p.feed(f'Let me check. {S}[get_weather(city="Pa') + p.close()
    assert deltas == [{"content": "Let me check. "}, {"content": '[get_weather(city="Pa'}]
    assert p.outcomes == [CallOutcome("get_weather", "failed")] and p.failed_indices == []


def test_failed_held_call_takes_no_index() -> None:
    p = new_parser()
    deltas = p.feed(f'{S}[f(a="x" + "y")]{E}{S}[g()]{E}') + p.close()
    result = check_stream(deltas)  # the client's view: no failed indices to consult
    assert p.failed_indices == []
    assert result.tool_calls == [{"id": "call_0", "type": "function", "function": {"name": "g", "arguments": "{}"}}]
    assert result.content == '[f(a="x" + "y")]'
    assert p.outcomes == [CallOutcome("f", "failed"), CallOutcome("g", "parsed")]


def test_good_call_before_a_failing_one_in_the_same_block_is_sent() -> None:
    p = new_parser()
    assert p.feed(f"{S}[f(a=1), ") == [header(0, "f", '{"a": 1}')]
    assert p.feed("g(b=") == []
    assert p.feed("1 2)]") == [{"content": "g(b=1 2)]"}]
    assert p.failed_indices == []


def test_long_argument_is_released_at_the_threshold_then_streams() -> None:
    p = new_parser(release_after=30)
    assert p.feed(f'{S}[write(path="a.py", text="') == []  # '{"path": "a.py", "text": "': 26 held
    assert p.feed("def") == []  # 29
    assert p.feed(" f():") == [header(0, "write", '{"path": "a.py", "text": "def f():')]
    assert args_of(p.feed(" # x")) == " # x"
    assert args_of(p.feed('\\n    pass")]' + E) + p.close()) == '\\n    pass"}'
    assert p.outcomes == [CallOutcome("write", "parsed")]


def test_long_call_is_released_before_it_closes_at_any_split() -> None:
    code = "x = 1\n" * 60  # 420 characters of JSON text: over the default threshold
    text = f'{S}[write(path="a.py", text="{code}")]{E}'
    for size in (1, 4, 64):
        p = new_parser()
        first = None
        sent = 0
        for i in range(0, len(text), size):
            deltas = p.feed(text[i : i + size])
            if first is None and any("tool_calls" in d for d in deltas):
                first = i + size
            sent += len(args_of(deltas))
        assert first is not None and first < len(text) - 3, size  # before the call closed
        assert sent >= DEFAULT_RELEASE_AFTER


def test_long_call_that_fails_after_release_is_closed_and_listed() -> None:
    p = new_parser(release_after=10)
    deltas = p.feed(f'{S}[f(a="{"y" * 20}", b=)]{E}') + p.close()
    assert json.loads(args_of(deltas)) == {"a": "y" * 20}
    assert content_of(deltas) == f'[f(a="{"y" * 20}", b=)]'
    assert p.failed_indices == [0] and p.outcomes == [CallOutcome("f", "failed")]
    assert check_stream(deltas, p.failed_indices).tool_calls == []


def test_release_after_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="release_after"):
        StreamParser(release_after=-1)


# ------------------------------------------- release_after=0: the old stream


def test_legacy_name_is_sent_as_soon_as_name_paren_is_read() -> None:
    p = legacy_parser()
    assert p.feed(f"{S}[get_wea") == []
    assert p.feed("ther") == []
    assert p.feed("(") == [header(0, "get_weather", "")]


def test_legacy_string_arguments_stream_as_they_arrive() -> None:
    p = legacy_parser()
    p.feed(f'{S}[write(path="a", text="Hello')
    assert args_of(p.feed(" wor")) == " wor"
    assert args_of(p.feed('ld\\n"')) == "ld\\n"  # the closing quote waits: "a" "b" is one string
    rest = p.feed(")]") + p.feed(E) + p.close()
    assert args_of(rest) == '"}'


def test_legacy_streamed_arguments_are_json_escaped() -> None:
    p = legacy_parser()
    deltas = p.feed(f"{S}[f(a='say \"hi\"\t\\'x\\'")
    assert args_of(deltas) == '{"a": "say \\"hi\\"\\t\'x\''
    deltas += p.feed("')]" + E) + p.close()
    assert json.loads(args_of(deltas)) == {"a": "say \"hi\"\t'x'"}


def test_legacy_partial_escape_is_held_until_complete() -> None:
    p = legacy_parser()
    deltas = p.feed(f'{S}[f(a="x\\u00')
    assert args_of(deltas) == '{"a": "x'
    assert args_of(p.feed("e9")) == "é"


def test_legacy_unfinished_call_streamed_fragments_are_closed_into_json() -> None:
    p = legacy_parser()
    deltas = p.feed(f'{S}[f(a="Par')
    deltas += p.close()
    assert json.loads(args_of(deltas)) == {"a": "Par"}
    assert content_of(deltas) == '[f(a="Par'
    assert p.outcomes == [CallOutcome("f", "failed")]
    assert p.failed_indices == [0]
    assert check_stream(deltas, p.failed_indices).tool_calls == []


def test_legacy_failed_call_keeps_index_and_next_call_follows() -> None:
    p = legacy_parser()
    deltas = p.feed(f'{S}[f(a="x" + "y")]{E}{S}[g()]{E}') + p.close()
    result = check_stream(deltas, p.failed_indices)
    assert p.failed_indices == [0]
    assert [c["function"]["name"] for c in result.tool_calls] == ["g"]
    assert result.tool_calls[0]["id"] == "call_1"


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
