"""The request's `tools`, reduced to what argument coercion needs.

Coercion is deliberately shallow: only a top-level argument is converted, and
only between JSON types the schema allows (a quoted number for an `integer`
parameter, "true" for a `boolean`, a number for a `string`, a JSON string for
an `array`/`object`). Anything else passes through unchanged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Types = frozenset[str]

_INT_TEXT = re.compile(r"\s*[-+]?\d+\s*")
_NO_CHANGE: Any = object()


@dataclass(frozen=True)
class ToolSchema:
    """One offered function: its parameter order and each parameter's JSON types."""

    name: str
    order: tuple[str, ...]
    types: Mapping[str, Types | None]

    def types_of(self, key: str) -> Types | None:
        return self.types.get(key)


def _schema_types(schema: object) -> Types | None:
    if not isinstance(schema, Mapping):
        return None
    declared = schema.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(t for t in declared if isinstance(t, str))
    found: set[str] = set()
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        for member in members if isinstance(members, list) else ():
            member_types = _schema_types(member)
            if member_types is None:
                return None
            found |= member_types
    return frozenset(found) or None


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
    types = {str(key): _schema_types(value) for key, value in properties.items()}
    return ToolSchema(function["name"], tuple(types), types)


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


def _to_json_container(kind: type) -> Callable[[object, str | None], Any]:
    def convert(value: object, raw: str | None) -> Any:
        if not isinstance(value, str):
            return _NO_CHANGE
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):
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
    ("array", _to_json_container(list)),
    ("object", _to_json_container(dict)),
    ("string", _to_string),
)


def coerce(value: object, types: Types, raw_number: str | None = None) -> tuple[Any, bool]:
    """Convert `value` to a type the schema allows; (value, whether it changed)."""
    if _matches(value, types):
        return value, False
    for type_name, convert in _CONVERTERS:
        if type_name in types:
            converted = convert(value, raw_number)
            if converted is not _NO_CHANGE:
                return converted, True
    return value, False
