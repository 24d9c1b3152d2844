"""The Vercel AI SDK (`ai` with `@ai-sdk/openai-compatible`, and its default `@ai-sdk/openai` provider on
the Responses API) on Node.js against the gateway.

`tests/clients/js/run.mjs` runs one scenario and prints what the SDK returned; the SSE bodies it read
come back too and go through the suite's stream contract check. The pinned packages are installed
from package-lock.json by `tests/clients/js/install.sh` (npm ci, only when needed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.clients import stream_recorder

pytestmark = pytest.mark.engine

JS = Path(__file__).parent / "js"
EXPECTED = [{"name": "get_weather", "input": {"city": "Paris", "days": 3}}, {"name": "get_time", "input": {}}]


@pytest.fixture(scope="module")
def node() -> str:
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed for the Vercel AI SDK tests")
    subprocess.run(["bash", str(JS / "install.sh")], check=True, timeout=600)
    return node


def run(node, gateway, scenario):
    done = subprocess.run([node, str(JS / "run.mjs"), scenario], cwd=JS, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "LFM2_BASE_URL": gateway.api})
    assert done.returncode == 0, done.stderr[-3000:]
    output = json.loads(done.stdout)
    for stream in output.pop("streams"):
        stream_recorder.record(stream["request"], stream["body"])
    return output


def names_and_inputs(calls):
    return [{"name": c["name"], "input": c["input"]} for c in calls]


@pytest.mark.parametrize("scenario", ["generate", "responses-generate"])  # chat completions, then Responses
def test_generate_text(node, gateway, scenario):
    out = run(node, gateway, scenario)
    assert names_and_inputs(out["calls"]) == EXPECTED
    assert all(c["id"].startswith("call_") for c in out["calls"])
    assert out["finishReason"] == "tool-calls"


@pytest.mark.parametrize("scenario", ["stream", "responses-stream"])
def test_stream_text(node, gateway, scenario):
    before = stream_recorder.LOG.with_calls
    out = run(node, gateway, scenario)
    assert names_and_inputs(out["calls"]) == EXPECTED
    assert out["text"] == "On it. "
    assert out["finishReason"] == "tool-calls"
    assert stream_recorder.LOG.with_calls == before + 1, "the SDK's stream went through the contract check"


def test_named_tool_choice_through_the_grammar(node, gateway):
    out = run(node, gateway, "named")
    assert [c["name"] for c in out["calls"]] == ["get_weather"]
    jsonschema.validate(out["calls"][0]["input"], {
        "type": "object", "properties": {"city": {"enum": ["Paris", "Lima"]},
                                         "days": {"type": "integer", "minimum": 1, "maximum": 7}},
        "required": ["city"]})
    assert out["finishReason"] == "stop"  # OpenAI's finish_reason for a named tool_choice



def test_responses_tool_loop_with_item_references(node, gateway):
    """The default OpenAI provider (`@ai-sdk/openai`, Responses API) runs two steps: the call, the SDK
    runs the tool and sends its result back (with `store` on, as item references), the answer."""
    out = run(node, gateway, "responses-loop")
    assert out["executed"] == [{"city": "Paris"}]
    assert out["steps"] == 2 and out["text"] == "It is sunny in Paris." and out["finishReason"] == "stop"
