"""CallLexer: the events it reports, where it stops, what it keeps."""

from __future__ import annotations

from typing import Any

import pytest

from tool_parser._events import LexState, ValueKind
from tool_parser._lexer import CallLexer


class Recorder:
    def __init__(self, accept_names: bool = True, accept_args: bool = True) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.accept_names = accept_names
        self.accept_args = accept_args

    def call_begin(self, name: str) -> bool:
        self.events.append(("call", name))
        return self.accept_names

    def arg_begin(self, key: str | None, kind: ValueKind) -> bool:
        self.events.append(("arg", key, kind))
        return self.accept_args

    def arg_text(self, text: str) -> None:
        if self.events and self.events[-1][0] == "text":
            self.events[-1] = ("text", self.events[-1][1] + text)
        else:
            self.events.append(("text", text))

    def arg_end(self, raw_number: str | None) -> None:
        self.events.append(("end", raw_number))

    def call_end(self) -> None:
        self.events.append(("call_end",))

    def json_call(self, name: str, arguments: dict[str, Any]) -> bool:
        self.events.append(("json", name, arguments))
        return self.accept_names


def lex(text: str, **options: Any) -> tuple[CallLexer, Recorder, int]:
    sink = Recorder(**options)
    lexer = CallLexer(sink)
    return lexer, sink, lexer.feed(text)


def test_events_for_a_call() -> None:
    lexer, sink, pos = lex("[f(a='x', b=[1, {'k': None}], c=07), g()] tail")
    assert sink.events == [
        ("call", "f"),
        ("arg", "a", ValueKind.STRING),
        ("text", '"x"'),
        ("end", None),
        ("arg", "b", ValueKind.ARRAY),
        ("text", '[1, {"k": null}]'),
        ("end", None),
        ("arg", "c", ValueKind.NUMBER),
        ("text", "7"),
        ("end", "07"),
        ("call_end",),
        ("call", "g"),
        ("call_end",),
    ]
    assert lexer.state is LexState.DONE
    assert pos == len("[f(a='x', b=[1, {'k': None}], c=07), g()]")


def test_positional_values_and_constants() -> None:
    _, sink, _ = lex("[f(1, True, 'x')]")
    assert [e for e in sink.events if e[0] == "arg"] == [
        ("arg", None, ValueKind.NUMBER),
        ("arg", None, ValueKind.CONSTANT),
        ("arg", None, ValueKind.STRING),
    ]


def test_stops_at_the_first_bad_character() -> None:
    lexer, _, pos = lex('[f(a="x" + "y")]')
    assert lexer.state is LexState.FAILED
    assert pos == len('[f(a="x" ')
    assert lexer.raw_text() == '[f(a="x" '


def test_rejections_fail_the_lexer() -> None:
    assert lex("[f()]", accept_names=False)[0].state is LexState.FAILED
    assert lex("[f(1)]", accept_args=False)[0].state is LexState.FAILED
    assert lex('[{"name": "f"}]', accept_names=False)[0].state is LexState.FAILED


def test_raw_text_restarts_at_each_call_unless_kept() -> None:
    lexer, _, _ = lex("[f(a=1), g(b=")
    assert lexer.raw_text() == "g(b="
    kept = CallLexer(Recorder(), keep_raw=True)
    kept.feed("[f(a=1), g(b=")
    assert kept.raw_text() == "[f(a=1), g(b="


@pytest.mark.parametrize(
    ("text", "complete"),
    [
        ("", True),
        ("  ", True),
        ("[", False),
        ("[f()", True),
        ("[f(),", True),
        ("[f()]", True),
        ("f(), g()", True),
        ("[f(a=1", False),
        ("[f", False),
    ],
)
def test_finish(text: str, complete: bool) -> None:
    lexer, _, _ = lex(text)
    assert lexer.finish() is complete


@pytest.mark.parametrize(
    ("text", "suffix"),
    [
        ('[f(a="x', '"'),
        ("[f(a=[1, 'x", '"]'),
        ("[f(a={'k': (1, {'n': 'v", '"}]}'),
        ("[f(a=[1, 2", "]"),
        ("[f(a={'k", ""),  # nothing sent yet: a dict or a set?
        ("[f(a={'k': 1, 'j", "}"),
        ("[f(a={'k', 'j", '"]'),
        ("[f(a={1, (2, 'x", '"]]'),
        ('[f(a="x" ', '"'),
        ('[f(a="""x"', '"'),
        ("[f(a=r'\\", '"'),
        ('[f(a="x\\u00', '"'),
    ],
)
def test_open_suffix_closes_what_was_emitted(text: str, suffix: str) -> None:
    import json

    lexer, sink, _ = lex(text)
    assert lexer.open_suffix() == suffix
    emitted = "".join(e[1] for e in sink.events if e[0] == "text")
    if emitted or suffix:
        json.loads(emitted + suffix)


def test_open_suffix_after_failure_uses_the_failing_state() -> None:
    import json

    lexer, sink, _ = lex("[f(a=['x\\q', 'y\\xZZ")
    assert lexer.state is LexState.FAILED
    emitted = "".join(e[1] for e in sink.events if e[0] == "text")
    assert json.loads(emitted + lexer.open_suffix()) == ["x\\q", "y"]


def test_one_character_at_a_time() -> None:
    sink = Recorder()
    lexer = CallLexer(sink)
    text = "[f(a='h\\u00e9llo', b=-1.5e3, c=None)]"
    for char in text:
        assert lexer.feed(char) == 1
    assert lexer.state is LexState.DONE
    assert ("text", '"héllo"') in sink.events and ("text", "-1500.0") in sink.events


def test_kind_is_reported_once_known() -> None:
    """A word is a constant or a string prefix, a '(' a tuple or parentheses: the
    argument is reported when that is decided, with the kind it turned out to be."""
    _, sink, _ = lex("[f(a=(1), b=r'x', c=True, d={1}, e=('s',), g=(['x']))]")
    assert [e for e in sink.events if e[0] == "arg"] == [
        ("arg", "a", ValueKind.NUMBER),
        ("arg", "b", ValueKind.STRING),
        ("arg", "c", ValueKind.CONSTANT),
        ("arg", "d", ValueKind.OBJECT),
        ("arg", "e", ValueKind.ARRAY),
        ("arg", "g", ValueKind.ARRAY),
    ]
    assert [e[1] for e in sink.events if e[0] == "text"] == ["1", '"x"', "true", "[1]", '["s"]', '["x"]']


def test_parenthesized_value_is_held_until_decided() -> None:
    sink = Recorder()
    lexer = CallLexer(sink)
    lexer.feed("[f(a=('one ' 'two'")
    assert [e for e in sink.events if e[0] in ("arg", "text")] == []
    lexer.feed(")")
    assert sink.events[-3:] == [("arg", "a", ValueKind.STRING), ("text", '"one two"'), ("end", None)]
