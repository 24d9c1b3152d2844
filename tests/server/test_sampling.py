"""LFM2's recommended sampling applies only where a request leaves a value unset."""

from __future__ import annotations

import pytest

from server.api import intake
from server.core.sampling import SamplingDefaults, generation_params
from server.errors import InvalidRequest
from server.wire.protocol import ChatCompletionRequest

MESSAGES = [{"role": "user", "content": "hi"}]
DEFAULTS = SamplingDefaults(temperature=0.3, min_p=0.15, repetition_penalty=1.05)


def chat(**fields):
    return intake.chat_request(ChatCompletionRequest(messages=MESSAGES, **fields))


def params(**fields):
    req = chat(**fields)
    return generation_params(req.sampling, prompt_len=10, max_model_len=100, defaults=DEFAULTS,
                             max_tokens=req.max_tokens)


def test_unset_values_get_lfm2_defaults():
    p = params()
    assert (p.temperature, p.min_p, p.repetition_penalty) == (0.3, 0.15, 1.05)
    assert p.max_tokens == 90  # the rest of the context


def test_request_values_win():
    p = params(temperature=0.0, min_p=0.0, repetition_penalty=1.0, top_k=-1, max_completion_tokens=5)
    assert (p.temperature, p.min_p, p.repetition_penalty, p.top_k, p.max_tokens) == (0.0, 0.0, 1.0, 0, 5)


def test_context_overflow_names_the_limit():
    with pytest.raises(InvalidRequest) as exc:
        params(max_tokens=91)
    assert exc.value.code == "context_length_exceeded"
    assert "100" in exc.value.message


def test_structured_outputs_win_over_response_format():
    req = chat(structured_outputs={"regex": "a+"}).sampling
    p = generation_params(req, prompt_len=1, max_model_len=10, defaults=DEFAULTS, max_tokens=None,
                          structured={"json": {}})
    assert p.structured == {"regex": "a+"}


def test_a_configured_default_limit_applies_only_when_the_request_sets_none():
    limited = SamplingDefaults(max_tokens=40)
    req = chat().sampling
    assert generation_params(req, prompt_len=10, max_model_len=100, defaults=limited, max_tokens=None).max_tokens == 40
    assert generation_params(req, prompt_len=80, max_model_len=100, defaults=limited, max_tokens=None).max_tokens == 20
    assert generation_params(req, prompt_len=10, max_model_len=100, defaults=limited, max_tokens=60).max_tokens == 60
