"""String literals as Python reads them: raw, triple-quoted, prefixed, concatenated.

Each case is checked against `ast.literal_eval` of the same text, at every split.
"""

from __future__ import annotations

import ast
from typing import Any

import pytest
from stream_contract import assert_chunking_invariant, calls, outcomes

from tool_parser import TOOL_CALL_END as E
from tool_parser import TOOL_CALL_START as S
from tool_parser import StreamParser


def value_of(literal: str) -> Any:
    result = assert_chunking_invariant(f"{S}[f(a={literal})]{E}")
    assert outcomes(result) == [("f", "parsed")], (literal, result)
    return calls(result)[0][1]["a"]


LITERALS = [
    # raw
    r'r"C:\new"',
    r"r'\d+'",
    r'R"\t\\"',
    r'r"a\"b"',
    r"r'\''",
    'r"two\\\nlines"',
    r'r""',
    # the unicode prefix changes nothing
    r'u"caf\xe9"',
    r"U'x'",
    # triple-quoted
    '"""line one\nline two"""',
    "'''it's \"quoted\"'''",
    '"""a "" b"""',
    r'"""ends with a quote\""""',
    r'"""\"\"\""""',
    "''''''",
    '""""""',
    "'''\\n escapes \\t work'''",
    'r"""raw \\d triple"""',
    "'''a'' b'''",
    # empty strings next to others
    '""',
    "''",
    '"" "x"',
    "'' ''",
    # implicit concatenation
    '"a" "b"',
    "\"a\" 'b' r'\\c'",
    '"a"\n    "b"',
    '"a""b"',
    '"""a""" "b"',
    "'a' u'b' R\"\\n\"",
    # parentheses around a string are the string
    '("one " "two")',
    '(\n  "one "\n  "two"\n)',
    "('x')",
]


@pytest.mark.parametrize("literal", LITERALS)
def test_string_literal_reads_as_python_does(literal: str) -> None:
    assert value_of(literal) == ast.literal_eval(f"({literal})")


def test_concatenation_inside_containers_and_keys() -> None:
    assert value_of("['a' 'b', r'\\c' 'd']") == ["ab", "\\cd"]
    assert value_of("{'k' 'ey': 'v' 'al', r'r\\k': 1}") == {"key": "val", "r\\k": 1}
    assert value_of("{'a' 'b', 'c'}") == ["ab", "c"]


@pytest.mark.parametrize(
    "literal",
    [
        'f"x{y}"',
        "F'x'",
        'b"bytes"',
        'rb"x"',
        'br"x"',
        'fr"x"',
        'x"y"',
        '"a" + "b"',
        '"a" if x else "b"',
        '"a" "b" c',
        '"a" r',
        'r "x"',
        '"""unterminated',
        '"""two quotes only""',
        "'''mixed\"\"\"",
        r"r'ends in a backslash\'",
        '"a" f"b"',
    ],
)
def test_not_a_string_literal_fails(literal: str) -> None:
    text = f"{S}[f(a={literal})]{E}"
    result = assert_chunking_invariant(text)
    assert result.tool_calls == [] and outcomes(result) == [("f", "failed")]
    assert result.content == f"[f(a={literal})]"


def test_positional_prefixed_string() -> None:
    tools = [{"type": "function", "function": {"name": "g", "parameters": {"properties": {"p": {"type": "string"}}}}}]
    result = assert_chunking_invariant(f"{S}[g(r'\\d')]{E}", tools)
    assert calls(result) == [("g", {"p": "\\d"})]
    result = assert_chunking_invariant(f"{S}[g(p=1, r'\\d')]{E}", tools)
    assert outcomes(result) == [("g", "failed")]


def test_prefix_named_parameters_are_still_keywords() -> None:
    result = assert_chunking_invariant(f"{S}[f(r='x', u=1, rb=True, f=None)]{E}")
    assert calls(result) == [("f", {"r": "x", "u": 1, "rb": True, "f": None})]


def test_long_triple_quoted_argument_streams_after_release() -> None:
    code = 'def f():\n    """Doc."""\n    return "x"\n' * 20
    text = f"{S}[write(path='a.py', content='''{code}''')]{E}"
    p = StreamParser(release_after=64)
    first_at = None
    pieces = [text[i : i + 4] for i in range(0, len(text), 4)]
    for i, piece in enumerate(pieces):
        if any("tool_calls" in d for d in p.feed(piece)) and first_at is None:
            first_at = i
    p.close()
    assert first_at is not None and first_at < len(pieces) // 4
    result = assert_chunking_invariant(text)
    assert calls(result) == [("write", {"path": "a.py", "content": code})]


def test_string_content_streams_and_the_end_waits_for_what_follows() -> None:
    p = StreamParser(release_after=0)
    p.feed(f'{S}[f(a="""one')
    assert p.feed(' "two" ') == [{"tool_calls": [{"index": 0, "function": {"arguments": ' \\"two\\" '}}]}]
    assert p.feed('"""') == []  # closes the part; "..." may still continue the string
    assert p.feed(' r"\\d"') == [{"tool_calls": [{"index": 0, "function": {"arguments": "\\\\d"}}]}]
    assert p.feed(")") == [{"tool_calls": [{"index": 0, "function": {"arguments": '"}'}}]}]
