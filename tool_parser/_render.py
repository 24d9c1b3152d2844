"""OpenAI assistant `tool_calls` -> the LFM2 call markup, for prompts.

`parse(render(calls))` gives back the same names and arguments: strings are
double-quoted with JSON escapes (which Python reads the same way), constants
are Python's `True/False/None`, containers are JSON-like with those constants.
A call whose name or argument names cannot be written as Python identifiers
is written as a JSON call object inside the same list, which the parser also
reads. Special-token text inside values is escaped (`\\u003c|`).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from ._types import TOOL_CALL_END, TOOL_CALL_START

_NAME = re.compile(r"[^\W\d][\w.\-]*")


def render(tool_calls: list[dict[str, Any]]) -> str:
    """`<|tool_call_start|>[name(arg="value", n=1)]<|tool_call_end|>` for the calls
    ("" for no calls)."""
    if not tool_calls:
        return ""
    calls = ", ".join(_render_call(call) for call in tool_calls)
    # `<` only occurs inside string literals here; escaping "<|" keeps special-token
    # text in a value (a marker, `<|im_end|>`) from reading as markup.
    return TOOL_CALL_START + "[" + calls.replace("<|", "\\u003c|") + "]" + TOOL_CALL_END


def _render_call(call: Mapping[str, Any]) -> str:
    function = call.get("function", call)
    name = str(function.get("name", ""))
    arguments: Any = function.get("arguments")
    if isinstance(arguments, str):
        with contextlib.suppress(ValueError):
            arguments = json.loads(arguments) if arguments.strip() else {}
    if arguments is None:
        arguments = {}
    pythonic = (
        isinstance(arguments, dict)
        and _NAME.fullmatch(name) is not None
        and all(isinstance(key, str) and _NAME.fullmatch(key) for key in arguments)
    )
    if not pythonic:
        return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
    args = ", ".join(f"{key}={render_value(value)}" for key, value in arguments.items())
    return f"{name}({args})"


def render_value(value: Any) -> str:
    """One JSON value as LFM2 writes it inside a call: Python literals (`None`, `True`), JSON strings."""
    if value is None or value is True or value is False:
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "None"
    if isinstance(value, Mapping):
        items = ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {render_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
