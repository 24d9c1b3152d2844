"""parse(): values, names, several calls and blocks, JSON calls, failures."""

from __future__ import annotations

import pytest
from stream_contract import assert_chunking_invariant, calls, outcomes, parse

from tool_parser import TOOL_CALL_END as E
from tool_parser import TOOL_CALL_START as S


def one_call_args(body: str) -> dict:
    result = assert_chunking_invariant(f"{S}[f({body})]{E}")
    assert len(result.tool_calls) == 1, result
    return calls(result)[0][1]


def test_spec_example() -> None:
    result = parse(f'{S}[get_weather(city="Paris", unit="celsius"), get_time()]{E}')
    assert result.content is None
    assert calls(result) == [("get_weather", {"city": "Paris", "unit": "celsius"}), ("get_time", {})]
    assert outcomes(result) == [("get_weather", "parsed"), ("get_time", "parsed")]
    assert [c["id"] for c in result.tool_calls] == ["call_0", "call_1"]
    assert all(c["type"] == "function" for c in result.tool_calls)


def test_plain_text_is_content() -> None:
    result = parse("Hello, world! a < b and <| not a marker")
    assert result.content == "Hello, world! a < b and <| not a marker"
    assert result.tool_calls == [] and result.outcomes == []


def test_empty_output() -> None:
    assert parse("") == parse("  \n") == type(parse(""))(None, [], [])


def test_default_ids_are_random_call_ids() -> None:
    import tool_parser

    first = tool_parser.parse(f"{S}[f()]{E}").tool_calls[0]["id"]
    second = tool_parser.parse(f"{S}[f()]{E}").tool_calls[0]["id"]
    assert first.startswith("call_") and first != second and first[5:].isalnum()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('a="x"', {"a": "x"}),
        ("a='x'", {"a": "x"}),
        ("a='say \"hi\"'", {"a": 'say "hi"'}),
        ('a="it\'s"', {"a": "it's"}),
        (r"a='it\'s'", {"a": "it's"}),
        (r'a="tab\there\nline\\ \"q\""', {"a": 'tab\there\nline\\ "q"'}),
        ('a="raw\nnewline"', {"a": "raw\nnewline"}),
        (r'a="\u00e9\x41\U0001F600\N{BULLET}\0"', {"a": "éA😀•\0"}),
        (r'a="\ud83d\ude00"', {"a": "😀"}),
        (r'a="\d\/"', {"a": "\\d/"}),
        ('a="日本語 ✓"', {"a": "日本語 ✓"}),
        ('a=""', {"a": ""}),
        ("a=7", {"a": 7}),
        ("a=07", {"a": 7}),
        ("month=07, day=0", {"month": 7, "day": 0}),
        ("a=-3", {"a": -3}),
        ("a=+3", {"a": 3}),
        ("a=1_000", {"a": 1000}),
        ("a=0x1F", {"a": 31}),
        ("a=1.5", {"a": 1.5}),
        ("a=.5", {"a": 0.5}),
        ("a=-2.5e-3", {"a": -0.0025}),
        ("a=1e3", {"a": 1000.0}),
        ("a=12345678901234567890", {"a": 12345678901234567890}),
        ("a=True, b=False, c=None", {"a": True, "b": False, "c": None}),
        ("a=true, b=false, c=null", {"a": True, "b": False, "c": None}),
        ("a=[]", {"a": []}),
        ("a=()", {"a": []}),
        ("a={}", {"a": {}}),
        ("a=[1, 'x', None, [True]]", {"a": [1, "x", None, [True]]}),
        ("a=(1, 2,)", {"a": [1, 2]}),
        ("a=[1, 2, ]", {"a": [1, 2]}),
        ("a={'k': [1, {'n': None}], \"q\": (1,)}", {"a": {"k": [1, {"n": None}], "q": [1]}}),
        ("a={1: 'x', 2.5: 'y'}", {"a": {"1": "x", "2.5": "y"}}),
        ("a={'k': 1,}", {"a": {"k": 1}}),
        ("a = 1 , b = 'x' ,", {"a": 1, "b": "x"}),
        ("\n  a=1,\n  b=2\n", {"a": 1, "b": 2}),
        ("from='x', class=1, in=[], if_=2", {"from": "x", "class": 1, "in": [], "if_": 2}),
        # sets are JSON arrays, in the order written
        ("a={1, 2}", {"a": [1, 2]}),
        ("a={'b', 'a',}", {"a": ["b", "a"]}),
        ("a={-1.5}", {"a": [-1.5]}),
        ("a={None, True}", {"a": [None, True]}),
        ("a={(1, 2), (3,)}", {"a": [[1, 2], [3]]}),
        ("a=[{'x'}, {1: {2}}]", {"a": [["x"], {"1": [2]}]}),
        ("a={}", {"a": {}}),
        # parentheses: a tuple needs a comma
        ("a=(1)", {"a": 1}),
        ("a=(None)", {"a": None}),
        ("a=((1, 2))", {"a": [1, 2]}),
        ("a=([1], {'k': (2)})", {"a": [[1], {"k": 2}]}),
        ("a=(('x'),)", {"a": ["x"]}),
        ("a=(\n  'one '\n  'two'\n)", {"a": "one two"}),
        # strings (more in test_string_lexer)
        ('a=r"C:\\new", b="""x"""', {"a": "C:\\new", "b": "x"}),
        ("a='x' \"y\"", {"a": "xy"}),
    ],
)
def test_values(body: str, expected: dict) -> None:
    assert one_call_args(body) == expected


@pytest.mark.parametrize("name", ["get_weather", "grocery.order", "get-weather", "a.b-c_d2", "_private", "café"])
def test_function_names(name: str) -> None:
    result = assert_chunking_invariant(f"{S}[{name}(x=1)]{E}")
    assert calls(result) == [(name, {"x": 1})]


def test_text_around_and_between_blocks() -> None:
    text = f"Let me check.\n{S}[a(x=1)]{E}\nThen:{S}[b(), c(y='z')]{E} Done."
    result = assert_chunking_invariant(text)
    assert result.content == "Let me check.\n\nThen: Done."
    assert calls(result) == [("a", {"x": 1}), ("b", {}), ("c", {"y": "z"})]
    assert outcomes(result) == [("a", "parsed"), ("b", "parsed"), ("c", "parsed")]


def test_whitespace_around_the_list_and_after_the_block() -> None:
    result = assert_chunking_invariant(f"{S}\n [ f(a=1) ] \n{E}\n\n")
    assert result.content is None
    assert calls(result) == [("f", {"a": 1})]


def test_missing_brackets_inside_markers() -> None:
    result = assert_chunking_invariant(f"{S}f(a=1), g(){E}")
    assert calls(result) == [("f", {"a": 1}), ("g", {})]


def test_empty_list_is_nothing() -> None:
    result = assert_chunking_invariant(f"x{S}[]{E}y")
    assert result.content == "xy" and result.tool_calls == [] and result.outcomes == []


def test_json_calls_inside_markers() -> None:
    text = (
        f'{S}[{{"name": "f", "arguments": {{"a": 1, "b": [true, null]}}}}, '
        f'{{"name": "g", "arguments": "{{\\"x\\": \\"y\\"}}"}}, '
        f'{{"type": "function", "function": {{"name": "h", "parameters": {{}}}}}}]{E}'
    )
    result = assert_chunking_invariant(text)
    assert calls(result) == [("f", {"a": 1, "b": [True, None]}), ("g", {"x": "y"}), ("h", {})]


def test_single_json_call_without_list() -> None:
    result = assert_chunking_invariant(f'{S}{{"name": "f", "arguments": {{"a": "b"}}}}{E}')
    assert calls(result) == [("f", {"a": "b"})]


def test_mixed_pythonic_and_json_calls() -> None:
    result = assert_chunking_invariant(f'{S}[f(a=1), {{"name": "g", "arguments": {{}}}}]{E}')
    assert calls(result) == [("f", {"a": 1}), ("g", {})]


@pytest.mark.parametrize(
    "body",
    [
        'f(a="x" + "y")',
        "f(a=b)",
        "f(a=1 2)",
        "f(a=[1 2])",
        "f(a=1-2)",
        "f(a=nan)",
        "f(a=1e999)",
        "f(a={[1], 2})",
        "f(a={1, [2]})",
        "f(a={1, {2: 3}})",
        "f(a={1: 2, 3})",
        "f(a={1, 2: 3})",
        "f(a={True: 1})",
        "f(a={(1, 2): 3})",
        "f(a={, })",
        "f(a=(, ))",
        "f(a=(1 2))",
        'f(a=f"x")',
        'f(a=b"x")',
        'f(a="x" y)',
        "f(a==1)",
        "f(**kw)",
        "f x",
        "1",
        '{"name": 1}',
        '{"arguments": {}}',
        "f(a='\\xZZ')",
        "f(a=1, 'positional after keyword')",
        "f('positional without schema')",
        "f(x)",
    ],
)
def test_malformed_call_text_is_content(body: str) -> None:
    text = f"before {S}[{body}]{E} after"
    result = assert_chunking_invariant(text)
    assert result.tool_calls == []
    assert result.content == f"before [{body}] after"
    assert [o.outcome for o in result.outcomes] == ["failed"]


def test_failure_after_a_good_call_keeps_the_good_call() -> None:
    result = assert_chunking_invariant(f'{S}[f(a=1), g(b="x" + "y"), h()]{E}')
    assert calls(result) == [("f", {"a": 1})]
    assert result.content == 'g(b="x" + "y"), h()]'
    assert outcomes(result) == [("f", "parsed"), ("g", "failed")]


@pytest.mark.parametrize(("body", "rest"), [("f(a=1)(b=2)", "(b=2)]"), ("f(a=1) g()", " g()]")])
def test_garbage_after_a_complete_call(body: str, rest: str) -> None:
    result = assert_chunking_invariant(f"{S}[{body}]{E}")
    assert calls(result) == [("f", {"a": 1})]
    assert result.content == rest
    assert outcomes(result) == [("f", "parsed"), (None, "failed")]


def test_trailing_text_inside_the_block_is_content() -> None:
    result = assert_chunking_invariant(f"{S}[f(a=1)] note {E} after")
    assert calls(result) == [("f", {"a": 1})]
    assert result.content == " note after"
    assert outcomes(result) == [("f", "parsed")]


def test_several_blocks_indices_are_dense() -> None:
    result = assert_chunking_invariant(f"{S}[a()]{E}{S}[b(), c()]{E}{S}[d()]{E}")
    assert [c["function"]["name"] for c in result.tool_calls] == ["a", "b", "c", "d"]
    assert [c["id"] for c in result.tool_calls] == ["call_0", "call_1", "call_2", "call_3"]


def test_nesting_deeper_than_the_limit_fails_cleanly() -> None:
    from tool_parser._value_lexer import MAX_DEPTH

    ok = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert len(calls(parse(f"{S}[f(a={ok})]{E}"))) == 1
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    result = parse(f"{S}[f(a={deep})]{E}")
    assert result.tool_calls == [] and outcomes(result) == [("f", "failed")]
    huge = "[" * 100_000
    assert outcomes(parse(f"{S}[f(a={huge}")) == [("f", "failed")]


def test_pathological_values_never_raise() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"properties": {"i": {"type": "integer"}}}}}]
    deep_json = "[" * 100_000 + "]" * 100_000
    for body in (f'i="{"9" * 5000}"', f"i='{deep_json}'", f"i={'9' * 5000}"):
        parse(f"{S}[f({body})]{E}", tools)
    parse(f'{S}[{{"name": "f", "arguments": "{deep_json}"}}]{E}', tools)
