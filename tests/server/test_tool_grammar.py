"""The forced call block: LFM2's syntax, the offered tools only, and a random walk always finishes
with a call that `tool_parser` reads and that validates against the schema."""

from __future__ import annotations

import json
import random
import string

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tool_parser
from server.grammar.tool_grammar import at_most_one_block, call_list_grammar, forced_block
from tests.server.grammar_walk import MARKERS, accepts, compile_tag, walk

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object",
    "properties": {
        "city": {"type": "string", "enum": ["Paris", "Tokyo"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "note": {"type": "string", "maxLength": 12},
    },
    "required": ["city"],
}}}
TIME = {"type": "function", "function": {"name": "get_time"}}
ODD = {"type": "function", "function": {"name": "2fa", "parameters": {
    "type": "object", "properties": {"code": {"type": "integer", "minimum": 0, "maximum": 9}}, "required": ["code"]}}}
TOOLS = [WEATHER, TIME]
MARKER_IDS = (1, 2)  # grammar_walk's vocabulary


def test_calls_in_lfm2_syntax():
    grammar = call_list_grammar(TOOLS)
    for text in ['[get_weather(city="Paris")]', '[get_time()]',
                 '[get_weather(city="Tokyo", days=3, unit="celsius", note="x"), get_time()]',
                 '[get_weather(city="Paris", note="")]']:
        assert accepts(grammar, text), text
    for text in ['[get_weather(city="Rome")]', '[get_weather(days=3)]', '[get_weather(days=3, city="Paris")]',
                 "[get_weather(city='Paris')]", '[get_weather(city="Paris", days=0)]', '[get_weather( city="Paris")]',
                 '[get_time(x=1)]', '[launch()]', "[]", 'get_time()', '[get_time()]\n']:
        assert not accepts(grammar, text), text


def test_single_and_named():
    assert not accepts(call_list_grammar(TOOLS, single=True), "[get_time(), get_time()]")
    named = call_list_grammar(TOOLS, only="get_time", single=True)
    assert accepts(named, "[get_time()]")
    assert not accepts(named, '[get_weather(city="Paris")]')


def test_names_the_parser_cannot_read_as_a_call_are_json_objects():
    grammar = call_list_grammar([ODD])
    text = '[{"name": "2fa", "arguments": {"code": 7}}]'
    assert accepts(grammar, text)
    assert tool_parser.parse(text, [ODD]).tool_calls[0]["function"] == {"name": "2fa", "arguments": '{"code": 7}'}


def test_free_keyword_arguments_when_the_schema_names_none():
    tool = {"function": {"name": "log", "parameters": {"type": "object"}}}
    assert accepts(call_list_grammar([tool]), '[log(level="info", n=3)]')
    assert accepts(call_list_grammar([TIME]), "[get_time()]")


def test_structural_tags_use_marker_tokens():
    tag = forced_block(TOOLS, (10, 11), single=True)
    assert tag["format"]["begin"] == {"type": "token", "token": 10}
    assert tag["format"]["end"] == {"type": "token", "token": 11}
    text_tag = forced_block(TOOLS, MARKERS)
    assert text_tag["format"]["begin"] == MARKERS[0]
    free = at_most_one_block(TOOLS, (10, 11))["format"]
    assert free["type"] == "token_triggered_tags" and free["trigger_tokens"] == [10] and free["stop_after_first"]


def parsed_calls(text, tools):
    result = tool_parser.parse(text, tools)
    assert not result.content, text
    assert all(o.outcome == "parsed" for o in result.outcomes), (text, result.outcomes)
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in result.tool_calls]


def test_random_walks_finish_with_valid_calls():
    compiled = compile_tag(forced_block(TOOLS, MARKER_IDS))
    rng = random.Random(7)
    for _ in range(20):
        text = walk(compiled, rng, max_tokens=2000)
        assert text is not None, "a bounded schema must finish"
        assert text.startswith(MARKERS[0]) and text.endswith(MARKERS[1])
        for name, arguments in parsed_calls(text, TOOLS):
            schema = {t["function"]["name"]: t["function"].get("parameters", {}) for t in TOOLS}[name]
            jsonschema.validate(arguments, schema)


def test_at_most_one_block_allows_text_then_one_call():
    compiled = compile_tag(at_most_one_block(TOOLS, MARKER_IDS))
    rng = random.Random(3)
    text = walk(compiled, rng, max_tokens=400, prefix=("Sure. ", MARKER_IDS[0]))
    assert text is not None
    result = tool_parser.parse(text, TOOLS)
    assert len(result.tool_calls) == 1 and result.content == "Sure. "


# ---------------------------------------------------------------- property: any schema it enforces

NAMES = st.text(string.ascii_lowercase + "_", min_size=1, max_size=8).filter(lambda s: s[0] != "_")


def leaf_schemas():
    return st.one_of(
        st.just({"type": "boolean"}),
        st.just({"type": "null"}),
        st.builds(lambda v: {"type": "string", "enum": v},
                  st.lists(st.text(string.printable, max_size=6), min_size=1, max_size=3, unique=True)),
        st.builds(lambda lo, n: {"type": "string", "minLength": lo, "maxLength": lo + n},
                  st.integers(0, 3), st.integers(0, 6)),
        st.builds(lambda lo, n: {"type": "integer", "minimum": lo, "maximum": lo + n},
                  st.integers(-1000, 1000), st.integers(0, 5000)),
        st.builds(lambda lo, n, ex: {"type": "number", "minimum": lo, "maximum": lo + n,
                                     **({"exclusiveMaximum": lo + n} if ex else {})},
                  st.integers(-50, 50), st.integers(1, 100), st.booleans()),
        st.builds(lambda v: {"const": v},
                  st.one_of(st.integers(-5, 5), st.text(string.printable, max_size=4), st.booleans())),
        st.just({"type": "string", "format": "date"}),
    )


def schemas():
    def containers(children):
        objects = st.builds(
            lambda props, data: {"type": "object", "properties": props,
                                 "required": data.draw(st.lists(st.sampled_from(sorted(props)), unique=True))
                                 if props else []},
            st.dictionaries(NAMES, children, max_size=3), st.data())
        arrays = st.builds(lambda item, lo, n: {"type": "array", "items": item, "minItems": lo, "maxItems": lo + n},
                           children, st.integers(0, 2), st.integers(0, 2))
        unions = st.builds(lambda a, b: {"anyOf": [a, b]}, children, children)
        return st.one_of(objects, arrays, unions)

    return st.recursive(leaf_schemas(), containers, max_leaves=6)


def tools_strategy():
    params = st.builds(
        lambda props, data: {"type": "object", "properties": props,
                             "required": data.draw(st.lists(st.sampled_from(sorted(props)), unique=True))
                             if props else []},
        st.dictionaries(NAMES, schemas(), max_size=4), st.data())
    return st.lists(st.builds(lambda name, p: {"type": "function", "function": {"name": name, "parameters": p}},
                              NAMES, params), min_size=1, max_size=3, unique_by=lambda t: t["function"]["name"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tools_strategy(), st.integers(0, 2**32), st.booleans())
def test_any_enforced_schema_walks_to_valid_calls(tools, seed, single):
    compiled = compile_tag(forced_block(tools, MARKER_IDS, single=single))
    schemas_by_name = {t["function"]["name"]: t["function"]["parameters"] for t in tools}
    rng = random.Random(seed)
    for _ in range(3):
        text = walk(compiled, rng, max_tokens=3000)
        if text is None:
            continue  # an unbounded list may run long; finishing is tested on bounded schemas above
        calls = parsed_calls(text, tools)
        assert calls and (len(calls) == 1 or not single)
        for name, arguments in calls:
            jsonschema.validate(arguments, schemas_by_name[name])


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_rendered_calls_are_in_the_grammar(data):
    """What `tool_parser.render` writes for schema-conforming arguments (in schema order) is accepted."""
    tools = [WEATHER, TIME]
    city = data.draw(st.sampled_from(["Paris", "Tokyo"]))
    days = data.draw(st.one_of(st.none(), st.integers(1, 14)))
    note = data.draw(st.one_of(st.none(), st.text(max_size=12).filter(lambda s: "<|" not in s)))
    arguments = {"city": city, **({"days": days} if days else {}), **({"note": note} if note is not None else {})}
    text = tool_parser.render([{"function": {"name": "get_weather", "arguments": json.dumps(arguments)}}])
    body = text.removeprefix(MARKERS[0]).removesuffix(MARKERS[1])
    assert accepts(call_list_grammar(tools), body), body
