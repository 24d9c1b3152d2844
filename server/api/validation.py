"""pydantic's complaints about a request body as one OpenAI-shaped 400."""

from __future__ import annotations

from typing import Any

from server.errors import InvalidRequest
from server.wire.protocol import ParamError

# Segments pydantic puts in a location for the member of a union it tried (`str`, `list[...]`, a model's
# class name); they are not field names.
_UNION_MEMBERS = frozenset({"str", "int", "float", "bool", "dict", "list", "none"})


def validation_error(errors: Any) -> InvalidRequest:
    """One of pydantic's complaints as one OpenAI error, naming the field. An unknown field is named
    first; otherwise the complaint that reaches deepest into the body, because in a union
    (`input: str | list[item]`) pydantic also lists what the other members would have needed."""
    errors = list(errors)
    unknown = [e for e in errors if e.get("type") == "extra_forbidden"]
    first: dict[str, Any] = unknown[0] if unknown else max(errors, key=lambda e: len(_loc(e)), default={})
    if first.get("type") == "json_invalid":
        return InvalidRequest("The request body is not valid JSON.", code="invalid_json")
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, ParamError):  # a validator that names the parameter itself
        return InvalidRequest(str(cause), param=cause.param, code=cause.code)
    loc = _loc(first)
    where = ".".join(loc)
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")  # pydantic prefixes our validators
    if first.get("type") == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {loc[-1] if loc else where}"
    elif where:
        message = f"{where}: {message}"
    return InvalidRequest(message, param=where or None)


def _loc(error: dict[str, Any]) -> list[str]:
    return [str(p) for p in error.get("loc", ())
            if p != "body" and "[" not in str(p) and p not in _UNION_MEMBERS and not str(p)[:1].isupper()]
