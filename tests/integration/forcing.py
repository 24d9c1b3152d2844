"""Makes the random-weight tiny model write an exact text, through vLLM structured outputs."""

from __future__ import annotations

import re
from typing import Any


def force(text: str) -> dict[str, Any]:
    """`extra_body` that forces the answer to be exactly `text`."""
    return {"structured_outputs": {"regex": re.escape(text)}}


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}
