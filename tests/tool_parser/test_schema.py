"""Schema coercion with the request's tools: values, positional args, outcomes."""

from __future__ import annotations

from typing import Any

import pytest
from stream_contract import assert_chunking_invariant, calls, outcomes

from tool_parser import TOOL_CALL_END as E
from tool_parser import TOOL_CALL_START as S
from tool_parser import StreamParser
from tool_parser._schema import ToolIndex, ValueSchema, coerce, value_schema


def tool(name: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {"name": name, "parameters": {"type": "object", "properties": properties}},
    }


TOOLS = [
    tool(
        "f",
        i={"type": "integer"},
        n={"type": "number"},
        b={"type": "boolean"},
        s={"type": "string"},
        a={"type": "array", "items": {"type": "integer"}},
        o={"type": "object"},
        u={"type": ["integer", "null"]},
        any_of={"anyOf": [{"type": "string"}, {"type": "integer"}]},
        free={},
    )
]


def call_f(body: str) -> tuple[dict[str, Any], str]:
    result = assert_chunking_invariant(f"{S}[f({body})]{E}", TOOLS)
    [(_, arguments)] = calls(result)
    [(_, outcome)] = outcomes(result)
    return arguments, outcome


@pytest.mark.parametrize(
    ("body", "expected", "outcome"),
    [
        ('i="5"', {"i": 5}, "repaired"),
        ('i=" 07 "', {"i": 7}, "repaired"),
        ("i=5", {"i": 5}, "parsed"),
        ("i=5.0", {"i": 5}, "repaired"),
        ('i="5.0"', {"i": 5}, "repaired"),
        ('i="five"', {"i": "five"}, "parsed"),
        ('n="2.5"', {"n": 2.5}, "repaired"),
        ('n="-3"', {"n": -3}, "repaired"),
        ("n=3", {"n": 3}, "parsed"),
        ('b="true"', {"b": True}, "repaired"),
        ('b="False"', {"b": False}, "repaired"),
        ("b=True", {"b": True}, "parsed"),
        ("s=7", {"s": "7"}, "repaired"),
        ("s=07", {"s": "07"}, "repaired"),
        ("s=1.50", {"s": "1.50"}, "repaired"),
        ("s=True", {"s": "true"}, "repaired"),
        ('s="x"', {"s": "x"}, "parsed"),
        ("s=None", {"s": None}, "parsed"),
        ('a="[1, 2]"', {"a": [1, 2]}, "repaired"),
        ("a=(1, 2)", {"a": [1, 2]}, "parsed"),
        ("o='{\"k\": 1}'", {"o": {"k": 1}}, "repaired"),
        ('o="not json"', {"o": "not json"}, "parsed"),
        ('u="null"', {"u": None}, "repaired"),
        ('u="3"', {"u": 3}, "repaired"),
        ('any_of="3"', {"any_of": "3"}, "parsed"),
        ('free="3"', {"free": "3"}, "parsed"),
        ('unknown_param="3"', {"unknown_param": "3"}, "parsed"),
    ],
)
def test_coercion(body: str, expected: dict[str, Any], outcome: str) -> None:
    assert call_f(body) == (expected, outcome)


def test_positional_arguments_map_to_properties_in_order() -> None:
    assert call_f('"3", 2.5, "true"') == ({"i": 3, "n": 2.5, "b": True}, "repaired")


def test_positional_then_keyword() -> None:
    assert call_f('1, s="x"') == ({"i": 1, "s": "x"}, "repaired")


def test_too_many_positional_arguments_fail() -> None:
    result = assert_chunking_invariant(f"{S}[g(1, 2)]{E}", [tool("g", x={"type": "integer"})])
    assert outcomes(result) == [("g", "failed")]
    assert result.content == "[g(1, 2)]" and result.tool_calls == []


def test_positional_constant() -> None:
    result = assert_chunking_invariant(f"{S}[g(True)]{E}", [tool("g", flag={"type": "boolean"})])
    assert calls(result) == [("g", {"flag": True})]


def test_unknown_tool_is_reported_as_written() -> None:
    result = assert_chunking_invariant(f'{S}[other(i="5")]{E}', TOOLS)
    assert calls(result) == [("other", {"i": "5"})]
    assert outcomes(result) == [("other", "unknown_tool")]


def test_without_tools_values_pass_through() -> None:
    result = assert_chunking_invariant(f'{S}[f(i="5", b="true")]{E}')
    assert calls(result) == [("f", {"i": "5", "b": "true"})]
    assert outcomes(result) == [("f", "parsed")]


def test_json_call_is_coerced() -> None:
    result = assert_chunking_invariant(f'{S}[{{"name": "f", "arguments": {{"i": "4"}}}}]{E}', TOOLS)
    assert calls(result) == [("f", {"i": 4})]
    assert outcomes(result) == [("f", "repaired")]


def test_flat_tool_shape_and_junk_entries_are_tolerated() -> None:
    tools = [
        {"name": "g", "parameters": {"properties": {"x": {"type": "integer"}}}},
        "junk",
        {"type": "function"},
        {"function": {"name": "h", "parameters": None}},
    ]
    result = assert_chunking_invariant(f'{S}[g(x="1"), h(y=1)]{E}', tools)
    assert calls(result) == [("g", {"x": 1}), ("h", {"y": 1})]
    assert outcomes(result) == [("g", "repaired"), ("h", "parsed")]


def test_string_parameter_streams_but_coerced_one_is_held() -> None:
    p = StreamParser(TOOLS, release_after=0)
    assert "hel" in str(p.feed(f'{S}[f(s="hel'))
    held = p.feed('lo", i="1')
    assert '"i"' not in str(held)
    assert '"i": 1' in str(p.feed('2")]'))


def test_tool_index() -> None:
    index = ToolIndex(TOOLS)
    assert index and not ToolIndex(None) and not ToolIndex([])
    schema = index.get("f")
    assert schema is not None and schema.order[:3] == ("i", "n", "b")
    assert schema.types_of("u") == frozenset({"integer", "null"})
    assert schema.types_of("free") is None


@pytest.mark.parametrize(
    ("value", "types", "expected"),
    [
        ("1e3", {"number"}, (1000.0, True)),
        ("inf", {"number"}, ("inf", False)),
        ([1], {"string"}, ([1], False)),
        (1.5, {"integer"}, (1.5, False)),
        (None, {"string"}, (None, False)),
        ("[1]", {"object"}, ("[1]", False)),
    ],
)
def test_coerce_edges(value: Any, types: set[str], expected: tuple[Any, bool]) -> None:
    assert coerce(value, ValueSchema(frozenset(types))) == expected


@pytest.mark.parametrize(
    "parameters",
    [
        {"properties": {"x": {"anyOf": 3}}},
        {"properties": {"x": {"type": 3}}},
        {"properties": {"x": None, 1: {"type": "integer"}}},
        {"properties": []},
        {"properties": {"x": {"oneOf": [{"type": "integer"}, "junk"]}}},
        "junk",
    ],
)
def test_malformed_schemas_are_tolerated(parameters: Any) -> None:
    tools = [{"type": "function", "function": {"name": "g", "parameters": parameters}}]
    result = assert_chunking_invariant(f'{S}[g(x="1")]{E}', tools)
    assert [name for name, _ in calls(result)] == ["g"]


# ------------------------------------------------ literals, enums, nesting


WEATHER = tool(
    "plan",
    stops={"type": "array", "items": {"type": "string"}},
    route={"type": "object", "properties": {"days": {"type": "integer"}}},
    tags={"type": "array"},
    flag={"type": "string", "enum": ["True", "False"]},
    loose={"enum": ["True", "False"]},
    unit={"type": "string", "enum": ["celsius", "fahrenheit"]},
    level={"type": "integer", "enum": [1, 2, 3]},
    code={"type": "string", "enum": ["07", "08"]},
    legs={
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"mode": {"type": "string", "enum": ["car", "train"]}, "hours": {"type": "number"}},
        },
    },
    maybe={"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}]},
    # unions of containers: a value is converted only when no member could hold it as written
    dates_or_flags={"anyOf": [{"type": "array", "items": {"type": "string"}},
                              {"type": "array", "items": {"type": "boolean"}}]},
    spots={"oneOf": [{"type": "object", "properties": {"n": {"type": "integer"}, "m": {"type": "integer"}}},
                     {"type": "object", "properties": {"n": {"type": "string"}}}]},
    any_list={"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "array"}]},
)


def call_plan(body: str) -> tuple[dict[str, Any], str]:
    result = assert_chunking_invariant(f"{S}[plan({body})]{E}", [WEATHER])
    [(_, arguments)] = calls(result)
    [(_, outcome)] = outcomes(result)
    return arguments, outcome


@pytest.mark.parametrize(
    ("body", "expected", "outcome"),
    [
        # a string holding a Python literal, where an array or object is declared
        ("stops=\"['Santa Barbara', 'Monterey']\"", {"stops": ["Santa Barbara", "Monterey"]}, "repaired"),
        ("stops='(\"a\", \"b\",)'", {"stops": ["a", "b"]}, "repaired"),
        ("stops=\"{'a'}\"", {"stops": ["a"]}, "repaired"),
        ("stops=\"[1, 'x']\"", {"stops": ["1", "x"]}, "repaired"),
        ("route=\"{'days': '3', 'by': None}\"", {"route": {"days": 3, "by": None}}, "repaired"),
        ("route='{\"days\": 2}'", {"route": {"days": 2}}, "repaired"),
        ("tags=\"['x', True, None]\"", {"tags": ["x", True, None]}, "repaired"),
        # not a literal: left as written
        ("stops=\"['a' + 'b']\"", {"stops": "['a' + 'b']"}, "parsed"),
        ("stops=\"[a, b]\"", {"stops": "[a, b]"}, "parsed"),
        ("stops=\"['a'] tail\"", {"stops": "['a'] tail"}, "parsed"),
        ("stops='Monterey'", {"stops": "Monterey"}, "parsed"),
        ("route=\"f'{x}'\"", {"route": "f'{x}'"}, "parsed"),
        # enum spelling
        ("flag=True", {"flag": "True"}, "repaired"),
        ("flag=false", {"flag": "False"}, "repaired"),
        ("flag='true'", {"flag": "True"}, "repaired"),
        ("flag='True'", {"flag": "True"}, "parsed"),
        ("loose=True", {"loose": "True"}, "repaired"),
        ("unit='Celsius'", {"unit": "celsius"}, "repaired"),
        ("unit='kelvin'", {"unit": "kelvin"}, "parsed"),
        ("level='2'", {"level": 2}, "repaired"),
        ("level=2.0", {"level": 2}, "repaired"),
        ("level=5", {"level": 5}, "parsed"),
        ("code=7", {"code": "07"}, "repaired"),
        # nested items and properties, enum at every depth
        ("stops=['a', 2, True]", {"stops": ["a", "2", "true"]}, "repaired"),
        ("stops=('a', 'b')", {"stops": ["a", "b"]}, "parsed"),
        ("route={'days': '4'}", {"route": {"days": 4}}, "repaired"),
        ("route={'days': 4, 'other': '4'}", {"route": {"days": 4, "other": "4"}}, "parsed"),
        (
            "legs=[{'mode': 'Train', 'hours': '2.5'}, {'mode': 'car'}]",
            {"legs": [{"mode": "train", "hours": 2.5}, {"mode": "car"}]},
            "repaired",
        ),
        ("legs=\"[{'mode': 'CAR'}]\"", {"legs": [{"mode": "car"}]}, "repaired"),
        ("maybe=['1', 2]", {"maybe": [1, 2]}, "repaired"),
        ("maybe=None", {"maybe": None}, "parsed"),
        ("dates_or_flags=[True, False]", {"dates_or_flags": [True, False]}, "parsed"),
        ("dates_or_flags=['2026-12-01']", {"dates_or_flags": ["2026-12-01"]}, "parsed"),
        ("dates_or_flags=[3]", {"dates_or_flags": ["3"]}, "repaired"),
        ("spots={'n': 'x', 'm': '2'}", {"spots": {"n": "x", "m": "2"}}, "parsed"),  # m: one member only
        ("spots={'n': 2}", {"spots": {"n": 2}}, "parsed"),
        ("any_list=['1']", {"any_list": ["1"]}, "parsed"),  # the second member takes any items
    ],
)
def test_literal_enum_and_nested_coercion(body: str, expected: dict[str, Any], outcome: str) -> None:
    assert call_plan(body) == (expected, outcome)


def test_json_call_is_coerced_at_every_depth() -> None:
    text = f'{S}[{{"name": "plan", "arguments": {{"legs": [{{"mode": "TRAIN"}}], "flag": true}}}}]{E}'
    result = assert_chunking_invariant(text, [WEATHER])
    assert calls(result) == [("plan", {"legs": [{"mode": "train"}], "flag": "True"})]
    assert outcomes(result) == [("plan", "repaired")]


def test_values_that_coercion_may_change_are_held_others_stream() -> None:
    p = StreamParser([WEATHER], release_after=0)
    p.feed(f"{S}[plan(tags=['x'")
    assert "x" in str(p.feed(", ")), "an array without an items schema streams"
    assert p.feed("], unit='cel") == [{"tool_calls": [{"index": 0, "function": {"arguments": "]"}}]}]
    assert args_of(p.feed("sius', stops=['a'")) == ', "unit": "celsius"', "an enum holds the value"
    assert args_of(p.feed(", 'b'")) == "", "so does an items schema"
    assert args_of(p.feed("])]")) == ', "stops": ["a", "b"]}'


def args_of(deltas: list[dict[str, Any]]) -> str:
    return "".join(e["function"].get("arguments", "") for d in deltas for e in d.get("tool_calls", ()))


def test_enum_match_must_be_unique() -> None:
    schema = ValueSchema(frozenset({"string"}), enum=("a", "A"))
    assert coerce("a", schema) == ("a", False)
    assert coerce(" a ", schema) == (" a ", False)
    assert coerce(True, ValueSchema(enum=(1, True))) == (True, False)
    assert coerce(1, ValueSchema(enum=(True, "1"))) == ("1", True)


def test_cyclic_and_deep_schemas_are_bounded() -> None:
    node: dict[str, Any] = {"type": "array"}
    node["items"] = node
    schema = value_schema(node)
    assert schema is not None
    assert coerce([[["1"]]], schema) == ([[["1"]]], False)
    deep = value_schema({"type": "array", "items": {"type": "array", "items": {"type": "integer"}}})
    assert deep is not None and coerce([["1"]], deep) == ([[1]], True)


def test_pathological_literal_strings_never_raise() -> None:
    tools = [tool("g", a={"type": "array"}, o={"type": "object"})]
    for body in (f"a='{'[' * 100_000}'", f"o='{'{' * 5000}'", f"a='[{'9' * 5000}]'", "a='[1, 2'"):
        result = assert_chunking_invariant(f"{S}[g({body})]{E}", tools, seeds=1)
        assert [name for name, _ in calls(result)] == ["g"]
