"""Property tests: rendered random calls survive any split; random text never breaks."""

from __future__ import annotations

import itertools
import json
import keyword
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_contract import calls, client_view, parse, stream_chunks

from tool_parser import DEFAULT_RELEASE_AFTER, TOOL_CALL_END, TOOL_CALL_START, render

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
names = st.one_of(identifiers, st.from_regex(r"[a-z]{1,6}([.\-][a-z]{1,6}){1,2}", fullmatch=True))
keys = st.one_of(identifiers, st.sampled_from(keyword.kwlist))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
arguments = st.dictionaries(keys, values, max_size=5)
call_lists = st.lists(st.tuples(names, arguments), min_size=1, max_size=3)
# Text around the calls: no markers, and what follows a block must not start
# with '[' (that is the echo rule's territory, tested separately).
prose = st.text(max_size=30).filter(lambda s: "<|tool_call_" not in s and not s.lstrip().startswith("["))


def split_points(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def openai_calls(pairs: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": n, "arguments": json.dumps(a)}} for n, a in pairs]


@PROPERTY_SETTINGS
@given(
    blocks=st.lists(call_lists, min_size=1, max_size=3),
    texts=st.lists(prose, min_size=4, max_size=4),
    data=st.data(),
)
def test_rendered_calls_survive_any_split(
    blocks: list[list[tuple[str, dict[str, Any]]]], texts: list[str], data: st.DataObject
) -> None:
    text = texts[0] + "".join(render(openai_calls(block)) + texts[i + 1] for i, block in enumerate(blocks))
    expected_calls = [pair for block in blocks for pair in block]
    whole = parse(text)
    assert calls(whole) == expected_calls
    assert all(o.outcome == "parsed" for o in whole.outcomes)
    chunks = split_points(data.draw, text)
    streamed, _ = stream_chunks(chunks)
    assert streamed == whole


@PROPERTY_SETTINGS
@given(pairs=call_lists, data=st.data())
def test_every_prefix_is_safe(pairs: list[tuple[str, dict[str, Any]]], data: st.DataObject) -> None:
    text = render(openai_calls(pairs))
    cut = data.draw(st.integers(0, len(text)))
    prefix = text[:cut]
    result = parse(prefix)
    chunks = split_points(data.draw, prefix)
    streamed, parser = stream_chunks(chunks)
    assert streamed == result
    # Nothing invented: every reported call is one of the rendered ones.
    for pair in calls(result):
        assert pair in pairs
    # Commit before you stream: a call under the threshold that the cut broke was
    # never sent, so a client reading only the stream sees exactly parse()'s calls.
    whole = parse(text)
    if all(len(call["function"]["arguments"]) < DEFAULT_RELEASE_AFTER for call in whole.tool_calls):
        assert parser.failed_indices == []
        assert client_view(chunks).tool_calls == result.tool_calls


@PROPERTY_SETTINGS
@given(pairs=call_lists, release_after=st.integers(0, 80), data=st.data())
def test_any_threshold_any_split_folds_to_parse(
    pairs: list[tuple[str, dict[str, Any]]], release_after: int, data: st.DataObject
) -> None:
    """Whether a long call is released before it breaks does not depend on the split."""
    text = render(openai_calls(pairs))
    prefix = text[: data.draw(st.integers(0, len(text)))]
    streamed, _ = stream_chunks(split_points(data.draw, prefix), release_after=release_after)
    assert streamed == parse(prefix, release_after=release_after)
    held = parse(prefix)
    assert [c["function"] for c in streamed.tool_calls] == [c["function"] for c in held.tool_calls]


fragments = st.one_of(
    st.sampled_from(
        [
            TOOL_CALL_START,
            TOOL_CALL_END,
            TOOL_CALL_START[:7],
            TOOL_CALL_END[:-3],
            "<",
            "<|",
            "[",
            "]",
            "(",
            ")",
            "{",
            "}",
            "f",
            "get.x-y",
            "=",
            "a=",
            '"',
            "'",
            "\\",
            "\\u12",
            "\\N{",
            ",",
            ":",
            " ",
            "\n",
            "1",
            "-0.5e",
            "07",
            "True",
            "null",
            "+",
            '"""',
            "'''",
            "r'",
            'u"',
            'f"',
            "\\'",
            "{1, 2}",
            "('a' 'b')",
            "(1,)",
        ]
    ),
    st.text(max_size=5),
)


@PROPERTY_SETTINGS
@given(pieces=st.lists(fragments, max_size=40), data=st.data())
def test_random_text_never_raises_and_is_split_invariant(pieces: list[str], data: st.DataObject) -> None:
    text = "".join(pieces)
    tools = data.draw(st.sampled_from([None, [{"type": "function", "function": {"name": "f"}}]]))
    result = parse(text, tools)
    streamed, _ = stream_chunks(split_points(data.draw, text), tools)
    assert streamed == result
    if TOOL_CALL_START not in text and not text.lstrip().startswith("["):
        assert result.tool_calls == []
        if tools is None:  # nothing dropped but the stray end markers
            stripped = text.replace(TOOL_CALL_END, "")
            assert result.content == (stripped if stripped.strip() else None)
