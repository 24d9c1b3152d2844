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
@pytest.mark.parametrize("usage_null", [False, True])
def test_delta_matches_choices(delta, index, usage_null):
    framer = ChunkFramer("chatcmpl-x", "chat.completion.chunk", 1700000000, "lfm2", HEAD, usage_null=usage_null)
    general = framer.choices([{"index": index, "delta": delta, "logprobs": None, "finish_reason": None}])
    assert framer.delta(index, delta) == general
    event = orjson.loads(general.removeprefix(b"data: "))
    assert event["choices"][0]["delta"] == delta
    assert {k: event[k] for k in HEAD} == HEAD
    assert ("usage" in event) is usage_null and event.get("usage") is None


HEAD = {"service_tier": "default", "system_fingerprint": "fp_0123456789"}


@pytest.mark.parametrize("usage_null", [False, True])
def test_usage_chunk_carries_the_usage_once(usage_null):
    framer = ChunkFramer("chatcmpl-x", "chat.completion.chunk", 1700000000, "lfm2", HEAD, usage_null=usage_null)
    frame = framer.usage({"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3})
    assert frame.count(b'"usage"') == 1
    event = orjson.loads(frame.removeprefix(b"data: "))
    assert event["choices"] == [] and event["usage"]["total_tokens"] == 3
    assert event["system_fingerprint"] == HEAD["system_fingerprint"]
