"""Property tests for Python's literal forms: random values rendered as raw,
triple-quoted, prefixed and concatenated strings, sets, parenthesized values and
Python-literal strings for array/object parameters; split at random points,
stream == parse == the value (and == `ast.literal_eval` of the same text)."""

from __future__ import annotations

import ast
import itertools
import json
import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_contract import calls, client_view, outcomes, parse, stream_chunks

from tool_parser import DEFAULT_RELEASE_AFTER
from tool_parser import TOOL_CALL_END as E
from tool_parser import TOOL_CALL_START as S

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_SPECIAL = [*"\"'\\\n\tab {}()[],:=#rufé😀", '"""', "'''", "\\n", "\\'", "\r", "\x00"]
texts = st.one_of(
    st.lists(st.sampled_from(_SPECIAL), max_size=12).map("".join),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=20),
).filter(lambda s: "<|" not in s)


def _escape_controls(text: str) -> str:
    """Backslashes doubled; control characters other than newline and tab escaped."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char not in "\n\t" and unicodedata.category(char) == "Cc":
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def plain(text: str, quote: str) -> str:
    return json.dumps(text, ensure_ascii=False) if quote == '"' else repr(text)


def raw(text: str, quote: str) -> str | None:
    if quote in text or text.endswith("\\") or any(unicodedata.category(c) == "Cc" for c in text):
        return None
    return f"r{quote}{text}{quote}"


def triple(text: str, quote: str) -> str:
    body = _escape_controls(text)
    out = []
    for i, char in enumerate(body):
        closing_run = char == quote and (i + 1 == len(body) or body[i + 1] == quote)
        out.append("\\" + char if closing_run else char)
    return quote * 3 + "".join(out) + quote * 3


def raw_triple(text: str, quote: str) -> str | None:
    bad = quote * 3 in text or text.endswith((quote, "\\")) or "\r" in text or "\x00" in text
    return None if bad else f"r{quote * 3}{text}{quote * 3}"


FORMS = ("plain", "raw", "triple", "raw_triple", "unicode")


def render_string(text: str, form: str, quote: str) -> str:
    if form == "raw":
        return raw(text, quote) or plain(text, quote)
    if form == "triple":
        return triple(text, quote)
    if form == "raw_triple":
        return raw_triple(text, quote) or triple(text, quote)
    if form == "unicode":
        return "u" + plain(text, quote)
    return plain(text, quote)


def string_source(draw: st.DrawFn, value: str, parens: bool = True) -> str:
    """`value` written as 1-4 concatenated parts of random forms (a dict key is
    never parenthesized: `{("a" "b"): 1}` is Python the parser does not read)."""
    cuts = sorted(draw(st.lists(st.integers(0, len(value)), max_size=3)))
    parts = [value[a:b] for a, b in itertools.pairwise([0, *cuts, len(value)])]
    rendered = [render_string(part, draw(st.sampled_from(FORMS)), draw(st.sampled_from("\"'"))) for part in parts]
    separators = [draw(st.sampled_from([" ", "\n", " \n    "])) for _ in rendered[1:]]
    source = rendered[0] + "".join(sep + part for sep, part in zip(separators, rendered[1:], strict=True))
    if parens and len(parts) > 1 and draw(st.booleans()):
        source = f"({source})"
    return source


@st.composite
def string_literals(draw: st.DrawFn) -> tuple[str, str]:
    """(source, value) for a random string."""
    value = draw(texts)
    return string_source(draw, value), value


def split_points(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    return [text[a:b] for a, b in itertools.pairwise([0, *cuts, len(text)])]


def check_call(text: str, expected: dict[str, Any], draw: st.DrawFn, tools: Any = None) -> None:
    whole = parse(text, tools)
    assert calls(whole) == [("f", expected)], (text, whole)
    chunks = split_points(draw, text)
    streamed, _ = stream_chunks(chunks, tools)
    assert streamed == whole
    if len(whole.tool_calls[0]["function"]["arguments"]) < DEFAULT_RELEASE_AFTER:
        assert client_view(chunks, tools).tool_calls == whole.tool_calls


@SETTINGS
@given(literal=string_literals(), data=st.data())
def test_string_forms_survive_any_split(literal: tuple[str, str], data: st.DataObject) -> None:
    source, value = literal
    assert ast.literal_eval(f"({source})") == value  # the rendering is Python for `value`
    check_call(f"{S}[f(a={source}, b=1)]{E}", {"a": value, "b": 1}, data.draw)


elements = st.one_of(st.integers(-(10**6), 10**6), texts, st.tuples(st.integers(0, 9), texts))


def _element_source(element: Any, draw: st.DrawFn) -> tuple[str, Any]:
    if isinstance(element, str):
        return string_source(draw, element, parens=False), element
    if isinstance(element, tuple):
        inner = [_element_source(item, draw) for item in element]
        return "(" + ", ".join(src for src, _ in inner) + ",)", [value for _, value in inner]
    return str(element), element


@SETTINGS
@given(items=st.lists(elements, min_size=1, max_size=5, unique=True), data=st.data())
def test_sets_are_arrays_in_written_order(items: list[Any], data: st.DataObject) -> None:
    rendered = [_element_source(item, data.draw) for item in items]
    trailing = data.draw(st.sampled_from(["", ",", " ,\n"]))
    source = "{" + ", ".join(src for src, _ in rendered) + trailing + "}"
    assert ast.literal_eval(source) == set(items)
    check_call(f"{S}[f(s={source})]{E}", {"s": [value for _, value in rendered]}, data.draw)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False), texts
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(st.sampled_from(["tuple", "paren"]), st.lists(children, max_size=3)),
        st.dictionaries(texts, children, max_size=3),
    ),
    max_leaves=10,
)


def python_source(value: Any, draw: st.DrawFn) -> tuple[str, Any]:
    """(Python literal source, its JSON value) with random string forms and brackets."""
    if isinstance(value, str):
        return string_source(draw, value), value
    if isinstance(value, tuple):  # ("tuple", items) or ("paren", items): (x) is x
        how, items = value
        inner = [python_source(item, draw) for item in items]
        if how == "paren" and len(inner) == 1:
            return f"({inner[0][0]})", inner[0][1]
        body = ", ".join(src for src, _ in inner) + ("," if len(inner) == 1 else "")
        return f"({body})", [v for _, v in inner]
    if isinstance(value, list):
        inner = [python_source(item, draw) for item in value]
        return "[" + ", ".join(src for src, _ in inner) + "]", [v for _, v in inner]
    if isinstance(value, dict):
        pairs = [(k, string_source(draw, k, parens=False), python_source(item, draw)) for k, item in value.items()]
        body = ", ".join(f"{key_source}: {item[0]}" for _, key_source, item in pairs)
        return "{" + body + "}", {key: item[1] for key, _, item in pairs}
    return repr(value), value


@SETTINGS
@given(value=values, data=st.data())
def test_nested_python_values_survive_any_split(value: Any, data: st.DataObject) -> None:
    source, expected = python_source(value, data.draw)
    check_call(f"{S}[f(v={source})]{E}", {"v": expected}, data.draw)


CONTAINER_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "f",
            "parameters": {"type": "object", "properties": {"v": {"type": ["array", "object"]}}},
        },
    }
]


@SETTINGS
@given(
    value=st.one_of(st.lists(values, max_size=4), st.dictionaries(texts, values, max_size=3)),
    quote=st.sampled_from(["json", "repr", "triple"]),
    data=st.data(),
)
def test_python_literal_strings_become_the_container(value: Any, quote: str, data: st.DataObject) -> None:
    source, expected = python_source(value, data.draw)
    written = {"json": lambda s: plain(s, '"'), "repr": repr, "triple": lambda s: triple(s, '"')}[quote](source)
    assert ast.literal_eval(written) == source
    text = f"{S}[f(v={written})]{E}"
    check_call(text, {"v": expected}, data.draw, CONTAINER_TOOLS)
    assert outcomes(parse(text, CONTAINER_TOOLS)) == [("f", "repaired")]
