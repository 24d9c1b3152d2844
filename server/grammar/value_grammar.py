"""JSON Schema -> xgrammar EBNF for one argument value, spelled the way LFM2 writes its calls.

LFM2 writes argument values as Python literals: strings in double quotes with JSON escapes,
`True` / `False` / `None`, lists `[a, b]`, dicts `{"k": v}`. This module turns a function's
parameter schemas into grammar rules for exactly that spelling, with one separator between items
(`, ` and `: `) and no other whitespace, so even a weak model cannot wander off into blank space.

Enforced by the grammar: `type` (and type lists), `enum`, `const`, `anyOf` / `oneOf`, `allOf`
(merged), local `$ref`; object `properties` with `required` ones present and optional ones
skippable, in the schema's order; arrays with `items` / `prefixItems`, `minItems`, `maxItems`;
strings with `minLength`, `maxLength` and the formats `date`, `time`, `date-time`, `uuid`; integer
and number `minimum` / `maximum` (exclusive too). A number range offers whole numbers in range and
fractions only inside whole unit intervals that lie in range; a range holding no whole number
(`[0.1, 0.9]`) is not narrowed. Unbounded integers have at most 18 digits, fractions 15.
Left to validation after the call (`tool_validation.py`): `pattern`, other formats, `multipleOf`,
`uniqueItems`, `minProperties`, `not`, conditionals, remote `$ref`. A schema this module cannot read
allows any value, never an error.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from server.grammar.number_ranges import int_range, number_range
from tool_parser import render_value

BASE_RULES = {
    "str_char": r'[^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})',
    "string": r'"\"" str_char* "\""',
    "integer": r'"-"? ("0" | [1-9] [0-9]{0,17})',
    "number": r'integer ("." [0-9]{0,14} [1-9])?',
    "boolean": r'"True" | "False"',
    "null": r'"None"',
    "any": "string | number | boolean | null | any_array | any_object",
    "any_array": r'"[" (any (", " any)*)? "]"',
    "any_object": r'"{" (string ": " any (", " string ": " any)*)? "}"',
    "ident": "[a-zA-Z_] [a-zA-Z0-9_]{0,63}",  # a keyword argument's name, when the schema names none
}
_DATE = r'[0-9]{4} "-" ("0" [1-9] | "1" [0-2]) "-" ("0" [1-9] | [12] [0-9] | "3" [01])'
_TIME = (r'([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? '
         r'("Z" | [+\-] [0-9]{2} ":" [0-9]{2})?')
_UUID = r'[0-9a-fA-F]{8} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{4} "-" [0-9a-fA-F]{12}'
_FORMATS = {name: rf'"\"" {body} "\""' for name, body in
            {"date": _DATE, "time": _TIME, "date-time": f'{_DATE} "T" {_TIME}', "uuid": _UUID}.items()}
_LITERALS = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]|\{[0-9,]*\}')
_NAME_REF = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPE_KEYS = (("properties", "object"), ("items", "array"), ("prefixItems", "array"),
              ("minLength", "string"), ("maxLength", "string"), ("minimum", "number"), ("maximum", "number"))


def ebnf_literal(text: str) -> str:
    """`text` as an EBNF string literal."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


class Rules:
    """Named EBNF rules; identical bodies share one name."""

    def __init__(self) -> None:
        self.bodies: dict[str, str] = dict(BASE_RULES)
        self._names: dict[str, str] = {}

    def add(self, body: str) -> str:
        name = self._names.get(body)
        if name is None:
            name = f"r{len(self._names)}"
            self._names[body] = name
            self.bodies[name] = body
        return name

    def reserve(self) -> str:
        name = f"r{len(self._names)}"
        self._names[f"\0{name}"] = name
        return name

    def text(self, root: str) -> str:
        """The grammar from `root`, with only the rules it reaches."""
        reached, todo = [], [root]
        seen = {"root"}
        while todo:
            for word in _NAME_REF.findall(_LITERALS.sub(" ", todo.pop())):
                if word in self.bodies and word not in seen:
                    seen.add(word)
                    reached.append(word)
                    todo.append(self.bodies[word])
        lines = [f"root ::= {root}"] + [f"{name} ::= {self.bodies[name]}" for name in reached]
        return "\n".join(lines) + "\n"


def ordered_members(rules: Rules, members: list[tuple[str, str, bool]]) -> str:
    """Members (EBNF prefix, value expression, required) in order, joined by `, `; optional ones may
    be left out. Returns an expression for the whole list (possibly empty)."""
    first, after = '""', '""'
    for prefix, value, required in reversed(members):
        item = f"{prefix} {value}"
        if required:
            first = rules.add(f"{item} {after}")
            after = rules.add(f'", " {item} {after}')
        else:
            first = rules.add(f"{item} {after} | {first}")
            after = rules.add(f'", " {item} {after} | {after}')
    return first


class ValueGrammar:
    """Builds value rules for the schemas of one function's parameters (`root` resolves `$ref`)."""

    def __init__(self, rules: Rules, root: Any) -> None:
        self.rules = rules
        self.root = root
        self._refs: dict[str, str] = {}

    def value(self, schema: Any) -> str:
        if not isinstance(schema, Mapping) or not schema:
            return "any"
        if isinstance(schema.get("$ref"), str):
            return self._ref(schema["$ref"])
        if "const" in schema:
            return ebnf_literal(render_value(schema["const"]))
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self._alternatives([ebnf_literal(render_value(v)) for v in schema["enum"]])
        if isinstance(schema.get("allOf"), list):
            return self.value(_merge_all_of(schema))
        for key in ("anyOf", "oneOf"):
            members = schema.get(key)
            if isinstance(members, list) and members:
                base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
                return self._alternatives([self.value({**base, **m} if isinstance(m, Mapping) else m)
                                           for m in members])
        types = _types(schema)
        if not types:
            return "any"
        return self._alternatives([self._typed(t, schema) for t in types])

    def object_members(self, schema: Mapping[str, Any], key_prefix: Any) -> str:
        """The members of an object schema, each written `key_prefix(name) value`."""
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return '""'
        required = schema.get("required")
        required = required if isinstance(required, list) else []
        members = [(key_prefix(str(k)), self.value(v), k in required)
                   for k, v in properties.items() if v is not False]
        return ordered_members(self.rules, members)

    def free_members(self, schema: Mapping[str, Any], key: str, sep: str) -> str | None:
        """Members of an object without `properties`: any keys, values per `additionalProperties`.
        None when the schema allows no members."""
        extra = schema.get("additionalProperties", True)
        if extra is False or isinstance(schema.get("properties"), Mapping):
            return None
        value = "any" if extra is True else self.value(extra)
        pair = f'{key} {ebnf_literal(sep)} {value}'
        return self.rules.add(f'({pair} (", " {pair})*)?')

    # ----------------------------------------------------------------- types

    def _typed(self, kind: str, schema: Mapping[str, Any]) -> str:
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            return self._bounded(schema, integer=True)
        if kind == "number":
            return self._bounded(schema, integer=False)
        if kind == "boolean":
            return "boolean"
        if kind == "null":
            return "null"
        if kind == "array":
            return self._array(schema)
        if kind == "object":
            return self._object(schema)
        return "any"

    def _string(self, schema: Mapping[str, Any]) -> str:
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            return self.rules.add(_FORMATS[fmt])
        low, high = _count(schema.get("minLength")) or 0, _count(schema.get("maxLength"))
        if low == 0 and high is None:
            return "string"
        if high is not None and high < low:
            high = low
        return self.rules.add(f'"\\"" str_char{_repeat(low, high)} "\\""')

    def _bounded(self, schema: Mapping[str, Any], *, integer: bool) -> str:
        low, high, low_open, high_open = _bounds(schema)
        if low is None and high is None:
            return "integer" if integer else "number"
        expr = int_range(low, high, low_open, high_open) if integer else number_range(low, high, low_open,
                                                                                          high_open)
        if expr is None:
            return "integer" if integer else "number"
        return self.rules.add(expr)

    def _array(self, schema: Mapping[str, Any]) -> str:
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(items, list):  # draft 4 tuples
            prefix, items = items, schema.get("additionalItems", False)
        if isinstance(prefix, list) and prefix:
            parts = ' ", " '.join(self.value(s) for s in prefix)
            return self.rules.add(f'"[" {parts} "]"')
        item = self.value(items) if items is not None and items is not True else "any"
        low, high = _count(schema.get("minItems")) or 0, _count(schema.get("maxItems"))
        if high is not None and high < low:
            high = low
        if high == 0:
            return '"[]"'
        if low == 0:
            rest = _repeat(0, None if high is None else high - 1)
            return self.rules.add(f'"[" ({item} (", " {item}){rest})? "]"')
        rest = _repeat(low - 1, None if high is None else high - 1)
        return self.rules.add(f'"[" {item} (", " {item}){rest} "]"')

    def _object(self, schema: Mapping[str, Any]) -> str:
        free = self.free_members(schema, "string", ": ")
        members = free if free is not None else self.object_members(
            schema, lambda k: ebnf_literal(json.dumps(k, ensure_ascii=False) + ": "))
        return self.rules.add(f'"{{" {members} "}}"')

    # --------------------------------------------------------------- helpers

    def _alternatives(self, exprs: list[str]) -> str:
        unique = list(dict.fromkeys(exprs))
        return unique[0] if len(unique) == 1 else self.rules.add(" | ".join(unique))

    def _ref(self, ref: str) -> str:
        name = self._refs.get(ref)
        if name is not None:
            return name
        target = _resolve(self.root, ref)
        if target is None:
            return "any"
        name = self._refs[ref] = self.rules.reserve()
        self.rules.bodies[name] = self.value(target)
        return name


def _types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        types = [declared]
    elif isinstance(declared, list):
        types = [t for t in declared if isinstance(t, str)]
    else:
        types = list(dict.fromkeys(kind for key, kind in _TYPE_KEYS if key in schema))[:1]
    return types


def _merge_all_of(schema: Mapping[str, Any]) -> dict[str, Any]:
    merged = {k: v for k, v in schema.items() if k != "allOf"}
    for member in schema["allOf"]:
        if not isinstance(member, Mapping):
            continue
        for key, value in member.items():
            if key == "properties" and isinstance(value, Mapping):
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required" and isinstance(value, list):
                merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
            else:
                merged.setdefault(key, value)
    return merged


def _resolve(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        return None
    node = root
    for part in ref[1:].split("/")[1:] if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def _repeat(low: int | None, high: int | None) -> str:
    low = low or 0
    if high is None:
        return "*" if low == 0 else ("+" if low == 1 else f"{{{low},}}")
    return f"{{{low},{high}}}"


def _bounds(schema: Mapping[str, Any]) -> tuple[float | None, float | None, bool, bool]:
    """(low, high, low exclusive, high exclusive) from draft 4 and draft 6+ keywords."""
    low, high = _finite(schema.get("minimum")), _finite(schema.get("maximum"))
    low_open = schema.get("exclusiveMinimum") is True and low is not None
    high_open = schema.get("exclusiveMaximum") is True and high is not None
    exclusive_low, exclusive_high = _finite(schema.get("exclusiveMinimum")), _finite(schema.get("exclusiveMaximum"))
    if exclusive_low is not None and (low is None or exclusive_low >= low):
        low, low_open = exclusive_low, True
    if exclusive_high is not None and (high is None or exclusive_high <= high):
        high, high_open = exclusive_high, True
    return low, high, low_open, high_open


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value
