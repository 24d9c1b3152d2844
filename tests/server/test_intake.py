"""intake: a validated wire request becomes the core's plain request, with OpenAI's meanings settled once."""

from __future__ import annotations

import pytest

from server.api import intake
from server.core.requests import ChatRequest, Sampling
from server.errors import InvalidRequest
from server.wire.protocol import ChatCompletionRequest, CompletionRequest

MESSAGES = [{"role": "user", "content": "hi"}]
TOOLS = [{"type": "function", "function": {"name": "get_time"}}]


def chat(**fields) -> ChatRequest:
    return intake.chat_request(ChatCompletionRequest(messages=MESSAGES, **fields))


def test_an_empty_request_is_the_core_defaults():
    req = chat()
    assert req == ChatRequest(messages=MESSAGES)
    assert not req.tools_on and not req.named_choice


@pytest.mark.parametrize(("choice", "kind", "name"), [
    (None, "auto", None),
    ("auto", "auto", None),
    ("none", "none", None),
    ("required", "required", None),
    ({"type": "function", "function": {"name": "get_time"}}, "function", "get_time"),
])
def test_tool_choice(choice, kind, name):
    req = chat(tools=TOOLS, **({} if choice is None else {"tool_choice": choice}))
    assert (req.tool_choice, req.tool_name, req.named_choice) == (kind, name, kind == "function")
    assert req.tools_on is (kind != "none")
    assert req.tools == TOOLS


def test_max_completion_tokens_wins_over_max_tokens():
    assert chat(max_tokens=7).max_tokens == 7
    assert chat(max_tokens=7, max_completion_tokens=3).max_tokens == 3


def test_usage_logprobs_and_template_fields():
    req = chat(stream=True, stream_options={"include_usage": True}, logprobs=True, top_logprobs=2,
               add_generation_prompt=False, continue_final_message=True, chat_template_kwargs={"x": 1})
    assert (req.include_usage, req.logprobs, req.top_logprobs) == (True, True, 2)
    assert (req.add_generation_prompt, req.continue_final_message, req.template_kwargs) == (False, True, {"x": 1})


@pytest.mark.parametrize(("fmt", "fields"), [
    (None, None),
    ({"type": "text"}, None),
    ({"type": "json_object"}, {"json_object": True}),
    ({"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}}, {"json": {"type": "object"}}),
])
def test_response_format_becomes_structured_output(fmt, fields):
    assert chat(**({} if fmt is None else {"response_format": fmt})).output_format == fields


def test_a_json_schema_without_its_schema_is_a_400():
    with pytest.raises(InvalidRequest) as exc:
        chat(response_format={"type": "json_schema", "json_schema": {"name": "a"}})
    assert exc.value.param == "response_format"


def test_sampling_fields_of_either_api():
    fields = {"stop": "END", "stop_token_ids": [5], "top_k": 3, "seed": 1, "logit_bias": {"7": 1.0},
              "structured_outputs": {"regex": "a+"}}
    for sampling in (chat(**fields).sampling, intake.sampling(CompletionRequest(prompt="x", **fields))):
        assert sampling == Sampling(top_k=3, stop=("END",), stop_token_ids=(5,), seed=1, logit_bias={"7": 1.0},
                                    structured_outputs={"regex": "a+"})
