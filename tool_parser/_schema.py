"""The request's `tools`, reduced to what argument coercion needs.

Coercion converts a value only between JSON types the schema allows, at every
depth the schema describes (`items`, `properties`, also inside `anyOf`/`oneOf`
members): a quoted number for an `integer`, "true" for a `boolean`, a number
or boolean for a `string`, a string holding a JSON or Python literal for an
`array`/`object` (`"['a', 'b']"` -> ["a", "b"]; read, never evaluated). A
value outside an `enum` becomes the one member that spells it the same,
ignoring case and JSON type (True -> "True", "Celsius" -> "celsius", "2" -> 2).
Anything else passes through unchanged: the call is reported as written and
the tool's own validation answers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._literal_reader import NOT_A_LITERAL, read_literal

Types = frozenset[str]

_INT_TEXT = re.compile(r"\s*[-+]?\d+\s*")
_NO_CHANGE: Any = object()
_MAX_SCHEMA_DEPTH = 32  # schemas are not resolved through $ref; this bounds a cyclic mapping


@dataclass(frozen=True)
class ValueSchema:
    """What coercion knows of one value: its JSON types (None: any), its enum,
    the schemas of its items and properties, and whether it can change anything."""

    types: Types | None = None
    enum: tuple[Any, ...] | None = None
    items: ValueSchema | None = None
    properties: Mapping[str, ValueSchema] = field(default_factory=dict)
    passive: bool = True  # coercion never changes a value here or below

    def streams(self, kind: str) -> bool:
        """Whether a value of JSON kind `kind` ("string", "array", "object") may go
        out as it is read: coercion could not change it, whatever it holds."""
        if self.enum is not None or (self.types is not None and kind not in self.types):
            return False
        if kind == "array":
            return self.items is None or self.items.passive
        if kind == "object":
            return all(sub.passive for sub in self.properties.values())
        return True


@dataclass(frozen=True)
class ToolSchema:
    """One offered function: its parameter order and each parameter's schema."""

    name: str
    order: tuple[str, ...]
    params: Mapping[str, ValueSchema | None]

    def param(self, key: str) -> ValueSchema | None:
        return self.params.get(key)

    def types_of(self, key: str) -> Types | None:
        param = self.params.get(key)
        return param.types if param else None


def _schema_types(schema: Mapping[Any, Any]) -> Types | None:
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(t for t in declared if isinstance(t, str))
    found: set[str] = set()
    for member in _members(schema):
        if not isinstance(member, Mapping):
            return None
        member_types = _schema_types(member)
        if member_types is None:
            return None
        found |= member_types
    return frozenset(found) or None


def _members(schema: Mapping[Any, Any]) -> list[object]:
    members: list[object] = []
    for key in ("anyOf", "oneOf"):
        listed = schema.get(key)
        if isinstance(listed, list):
            members += listed
    return members


def value_schema(schema: object, depth: int = 0) -> ValueSchema | None:
    if not isinstance(schema, Mapping) or depth > _MAX_SCHEMA_DEPTH:
        return None
    types = _schema_types(schema)
    enum = schema.get("enum")
    members = [value_schema(m, depth + 1) for m in _members(schema)]
    items = value_schema(schema["items"], depth + 1) if "items" in schema else _items_of(members)
    listed = schema.get("properties")
    properties: dict[str, ValueSchema] = {}
    if isinstance(listed, Mapping):
        for key, sub in listed.items():
            sub_schema = value_schema(sub, depth + 1)
            if sub_schema is not None:
                properties[str(key)] = sub_schema
    else:
        properties = _properties_of(members)
    return _value_schema(types, tuple(enum) if isinstance(enum, list) else None, items, properties)


def _value_schema(types: Types | None, enum: tuple[Any, ...] | None, items: ValueSchema | None,
                  properties: dict[str, ValueSchema]) -> ValueSchema:
    passive = (
        types is None
        and enum is None
        and (items is None or items.passive)
        and all(sub.passive for sub in properties.values())
    )
    return ValueSchema(types, enum, items, properties, passive)


# An anyOf/oneOf's items and properties are those of its members, merged: a value is converted only
# when it matches none of the members that could hold it (`[True]` stays a boolean under
# anyOf [array of strings, array of booleans]), and a member that leaves a value free leaves it free.


def _allows(member: ValueSchema | None, kind: str) -> bool:
    return member is None or member.types is None or kind in member.types


def _items_of(members: list[ValueSchema | None]) -> ValueSchema | None:
    arrays = [m for m in members if _allows(m, "array")]
    if not arrays or any(m is None or m.items is None for m in arrays):
        return None
    return _union([m.items for m in arrays if m is not None and m.items is not None])


def _properties_of(members: list[ValueSchema | None]) -> dict[str, ValueSchema]:
    objects = [m for m in members if _allows(m, "object")]
    if not objects or any(m is None for m in objects):
        return {}
    keys = set.intersection(*(set(m.properties) for m in objects if m is not None))
    return {key: _union([m.properties[key] for m in objects if m is not None]) for key in sorted(keys)}


def _union(members: list[ValueSchema]) -> ValueSchema:
    if len(members) == 1:
        return members[0]
    types = None if any(m.types is None for m in members) else frozenset().union(*(m.types or () for m in members))
    # no enum: the members' enums are not merged, so a value under several members is left as written
    return _value_schema(types, None, _items_of(list(members)), _properties_of(list(members)))


def _tool_schema(tool: object) -> ToolSchema | None:
    if not isinstance(tool, Mapping):
        return None
    function = tool.get("function", tool)
    if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
        return None
    parameters = function.get("parameters")
    properties = parameters.get("properties") if isinstance(parameters, Mapping) else None
    if not isinstance(properties, Mapping):
        properties = {}
    params = {str(key): value_schema(value) for key, value in properties.items()}
    return ToolSchema(function["name"], tuple(params), params)


class ToolIndex:
    """Offered tools by name. Empty when the request offered none."""

    def __init__(self, tools: Iterable[object] | None) -> None:
        self._by_name: dict[str, ToolSchema] = {}
        for tool in tools or ():
            schema = _tool_schema(tool)
            if schema is not None:
                self._by_name.setdefault(schema.name, schema)

    def __bool__(self) -> bool:
        return bool(self._by_name)

    def get(self, name: str) -> ToolSchema | None:
        return self._by_name.get(name)


# ------------------------------------------------------------------ types


def _matches(value: object, types: Types) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return "integer" in types or "number" in types
    if isinstance(value, float):
        return "number" in types
    if isinstance(value, str):
        return "string" in types
    if value is None:
        return "null" in types
    if isinstance(value, list):
        return "array" in types
    return isinstance(value, dict) and "object" in types


def _int(text: str) -> Any:
    try:
        return int(text)
    except ValueError:  # more digits than int() converts
        return _NO_CHANGE


def _to_integer(value: object, raw: str | None) -> Any:
    if isinstance(value, str) and _INT_TEXT.fullmatch(value):
        return _int(value)
    number = _to_number(value, raw) if isinstance(value, str) else value
    if isinstance(number, float) and number.is_integer():
        return int(number)
    return _NO_CHANGE


def _to_number(value: object, raw: str | None) -> Any:
    if not isinstance(value, str):
        return _NO_CHANGE
    if _INT_TEXT.fullmatch(value):
        return _int(value)
    try:
        number = float(value)
    except ValueError:
        return _NO_CHANGE
    return number if math.isfinite(number) else _NO_CHANGE


def _to_boolean(value: object, raw: str | None) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return _NO_CHANGE


def _to_null(value: object, raw: str | None) -> Any:
    if isinstance(value, str) and value.strip() in ("null", "None"):
        return None
    return _NO_CHANGE


def _to_container(kind: type) -> Callable[[object, str | None], Any]:
    """A string holding a JSON or Python literal of `kind` -> that value."""

    def convert(value: object, raw: str | None) -> Any:
        if not isinstance(value, str):
            return _NO_CHANGE
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
            decoded = read_literal(value)
            if decoded is NOT_A_LITERAL:
                return _NO_CHANGE
        return decoded if isinstance(decoded, kind) else _NO_CHANGE

    return convert


def _to_string(value: object, raw: str | None) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return raw if raw is not None else json.dumps(value)
    return _NO_CHANGE


_CONVERTERS: tuple[tuple[str, Callable[[object, str | None], Any]], ...] = (
    ("integer", _to_integer),
    ("number", _to_number),
    ("boolean", _to_boolean),
    ("null", _to_null),
    ("array", _to_container(list)),
    ("object", _to_container(dict)),
    ("string", _to_string),
)


def _convert(value: object, types: Types, raw_number: str | None) -> tuple[Any, bool]:
    for type_name, convert in _CONVERTERS:
        if type_name in types:
            converted = convert(value, raw_number)
            if converted is not _NO_CHANGE:
                return converted, True
    return value, False


# ------------------------------------------------------------------- enum


def _same(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _spelling(value: object) -> str | None:
    """How a scalar reads, ignoring case and JSON type; None for containers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if not isinstance(value, str):
        return None
    text = value.strip().casefold()
    if text == "null":
        return "none"
    number = _to_number(text, None)
    return text if number is _NO_CHANGE else _spelling(number)


def _enum_member(value: object, enum: tuple[Any, ...]) -> Any:
    if any(_same(value, member) for member in enum):
        return _NO_CHANGE
    spelling = _spelling(value)
    if spelling is None:
        return _NO_CHANGE
    matches = [member for member in enum if _spelling(member) == spelling]
    return matches[0] if len(matches) == 1 else _NO_CHANGE


# --------------------------------------------------------------- coercion


def coerce(value: object, schema: ValueSchema, raw_number: str | None = None) -> tuple[Any, bool]:
    """Convert `value` to what `schema` allows, at every depth; (value, whether it changed)."""
    changed = False
    if schema.types is not None and not _matches(value, schema.types):
        value, changed = _convert(value, schema.types, raw_number)
    if isinstance(value, list) and schema.items is not None and not schema.items.passive:
        items = [coerce(item, schema.items) for item in value]
        if any(item_changed for _, item_changed in items):
            value, changed = [item for item, _ in items], True
    elif isinstance(value, dict) and schema.properties:
        updated: dict[str, Any] | None = None
        for key, sub in schema.properties.items():
            if key in value and not sub.passive:
                new, sub_changed = coerce(value[key], sub)
                if sub_changed:
                    updated = updated if updated is not None else dict(value)
                    updated[key] = new
        if updated is not None:
            value, changed = updated, True
    if schema.enum is not None:
        member = _enum_member(value, schema.enum)
        if member is not _NO_CHANGE:
            value, changed = member, True
    return value, changed
