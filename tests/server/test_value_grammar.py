"""Argument values: each schema keyword the grammar enforces, in LFM2's Python-literal spelling."""

from __future__ import annotations

import pytest

from server.grammar.value_grammar import Rules, ValueGrammar, ebnf_literal
from tests.server.grammar_walk import accepts
from tool_parser import render_value


def grammar(schema, root=None):
    rules = Rules()
    return rules.text(ValueGrammar(rules, root if root is not None else schema).value(schema))


def test_value_spelling_matches_lfm2():
    assert render_value({"a": [1, 2.5, None, True, "x\n"]}) == '{"a": [1, 2.5, None, True, "x\\n"]}'
    assert render_value(float("inf")) == "None"
    assert render_value("é") == '"é"'


def test_ebnf_literal_escapes():
    text = 'say "hi"\\\n\x01'
    assert accepts(f"root ::= {ebnf_literal(text)}", text)


@pytest.mark.parametrize("schema,good,bad", [
    ({"type": "string"}, ['""', '"a b"', '"\\n\\u00e9"', '"中"'], ["'a'", '"a', "a", '"\n"']),
    ({"type": "string", "minLength": 2, "maxLength": 3}, ['"ab"', '"a\\nb"'], ['"a"', '"abcd"']),
    ({"type": "string", "enum": ["red", "green"]}, ['"red"'], ['"blue"', '"re"']),
    ({"enum": [1, "one", None, True]}, ["1", '"one"', "None", "True"], ["2", "true"]),
    ({"const": {"a": 1}}, ['{"a": 1}'], ['{"a": 2}']),
    ({"type": "integer"}, ["0", "-12", "123"], ["1.5", "01", '"1"', "+1"]),
    ({"type": "integer", "minimum": 1, "maximum": 14}, ["1", "14", "9"], ["0", "15", "-1"]),
    ({"type": "number", "exclusiveMinimum": 0, "maximum": 2}, ["1", "2", "0.5", "1.75"], ["0", "2.5", "-1"]),
    ({"type": "boolean"}, ["True", "False"], ["true", "1"]),
    ({"type": "null"}, ["None"], ["null"]),
    ({"type": ["string", "null"]}, ['"x"', "None"], ["1"]),
    ({"type": "string", "nullable": True}, ['"x"'], ["None"]),  # OpenAPI's, not JSON Schema's
    ({"type": "array", "items": {"type": "integer"}}, ["[]", "[1]", "[1, 2, 3]"], ["[1,2]", "[1, ]", '["a"]']),
    ({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 2}, ["[1]", "[1, 2]"],
     ["[]", "[1, 2, 3]"]),
    ({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}, ['[1, "a"]'], ['["a", 1]']),
    ({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}}, "required": ["b"]},
     ['{"b": "x"}', '{"a": 1, "b": "x"}'], ["{}", '{"a": 1}', '{"b": "x", "a": 1}', '{"b":"x"}']),
    ({"type": "object"}, ["{}", '{"k": [1, {"z": None}]}'], ['{k: 1}']),
    ({"type": "object", "additionalProperties": {"type": "integer"}}, ['{"k": 1}'], ['{"k": "v"}']),
    ({"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 1}]}, ["3", '"a"'], ['"ab"']),
    ({"allOf": [{"properties": {"a": {"type": "integer"}}, "required": ["a"]},
                {"properties": {"b": {"type": "boolean"}}}]}, ['{"a": 1}', '{"a": 1, "b": True}'], ["{}"]),
    ({"type": "string", "format": "date"}, ['"2024-02-29"'], ['"2024-13-01"', '"tomorrow"']),
    ({"type": "string", "format": "date-time"}, ['"2024-02-29T10:00:00Z"', '"2024-02-29T10:00:00.5+02:00"'],
     ['"2024-02-29 10:00"']),
    ({"type": "string", "format": "uuid"}, ['"123e4567-e89b-12d3-a456-426614174000"'], ['"123"']),
    ({}, ['"x"', "1", "None", "[True]", '{"a": {}}'], ["null", "x"]),
])
def test_schema_keywords(schema, good, bad):
    text = grammar(schema)
    for value in good:
        assert accepts(text, value), (schema, value)
    for value in bad:
        assert not accepts(text, value), (schema, value)


def test_local_refs_may_recurse():
    root = {
        "type": "object",
        "properties": {"tree": {"$ref": "#/$defs/node"}},
        "$defs": {"node": {"type": "object", "properties": {
            "name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
            "required": ["name"]}},
    }
    text = grammar(root)
    assert accepts(text, '{"tree": {"name": "a", "children": [{"name": "b", "children": []}]}}')
    assert not accepts(text, '{"tree": {"children": []}}')


def test_what_it_cannot_read_allows_any_value():
    for schema in ({"$ref": "https://example.com/s.json"}, {"type": "wizard"}, {"not": {"type": "string"}}, True):
        assert accepts(grammar(schema), '{"a": [1]}')


def test_identical_rules_are_shared():
    rules = Rules()
    values = ValueGrammar(rules, {})
    assert values.value({"type": "string", "maxLength": 3}) == values.value({"type": "string", "maxLength": 3})
