"""ChunkFramer: the per-token `delta` path writes exactly what the general `choices` path writes."""

from __future__ import annotations

import orjson
import pytest

from server.api.sse import ChunkFramer


@pytest.mark.parametrize("delta", [
    {"content": "hé \"quoted\"\n"},
    {"reasoning_content": "…"},
    {"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                     "function": {"name": "f", "arguments": ""}}]},
    {},
])
@pytest.mark.parametrize("index", [0, 3, 1])
def test_delta_matches_choices(delta, index):
    framer = ChunkFramer("chatcmpl-x", "chat.completion.chunk", 1700000000, "lfm2")
    general = framer.choices([{"index": index, "delta": delta, "logprobs": None, "finish_reason": None}])
    assert framer.delta(index, delta) == general
    event = orjson.loads(general.removeprefix(b"data: "))
    assert event["choices"][0]["delta"] == delta
