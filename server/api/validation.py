"""pydantic's complaints about a request body as one OpenAI-shaped 400."""

from __future__ import annotations

from typing import Any

from server.errors import InvalidRequest


def validation_error(errors: Any) -> InvalidRequest:
    """pydantic's first complaint as one OpenAI error, naming the field. An unknown field is named first:
    in a union (`tool_choice`) pydantic lists the other members' complaints before it."""
    errors = list(errors)
    first = next((e for e in errors if e.get("type") == "extra_forbidden"), None) or next(iter(errors), None) or {}
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    if first.get("type") == "json_invalid":
        return InvalidRequest("The request body is not valid JSON.", code="invalid_json")
    where = ".".join(loc)
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")  # pydantic prefixes our validators
    if first.get("type") == "extra_forbidden":
        message = f"Unrecognized request argument supplied: {loc[-1] if loc else where}"
    elif where:
        message = f"{where}: {message}"
    return InvalidRequest(message, param=where or None)
