"""Checks a call's arguments against its function's `parameters` JSON schema.

The parser already applied the unambiguous repairs (a quoted number for an integer, positional
arguments mapped to names); this is the check after them. What a failed check means is decided by
`call_gate`: a `strict: true` function's call is withheld, any other call is reported and counted.
A schema that is not itself valid JSON Schema is not checked (the call passes), so a client's
sloppy schema never turns into rejected calls.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import exceptions, validators


@dataclass(frozen=True, slots=True)
class FunctionRules:
    strict: bool
    schema_json: str | None  # None: nothing to check against


class ArgumentValidator:
    """The offered functions by name, each with its schema and `strict` flag."""

    def __init__(self, tools: Sequence[Mapping[str, Any]] | None) -> None:
        self._functions: dict[str, FunctionRules] = {}
        for tool in tools or ():
            function = tool.get("function", tool)
            parameters = function.get("parameters")
            schema = json.dumps(parameters) if isinstance(parameters, Mapping) else None
            self._functions.setdefault(str(function.get("name")), FunctionRules(function.get("strict") is True,
                                                                                 schema))

    def strict(self, name: str) -> bool:
        rules = self._functions.get(name)
        return rules is not None and rules.strict

    def valid(self, name: str, arguments: str) -> bool:
        """Whether `arguments` (JSON text) satisfy the function's schema; True when there is none."""
        rules = self._functions.get(name)
        if rules is None or rules.schema_json is None:
            return True
        try:
            value = json.loads(arguments)
        except ValueError:
            return False
        validator = _validator(rules.schema_json)
        return validator is None or validator.is_valid(value)


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError:
        return None
    return cls(schema)
