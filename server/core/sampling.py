"""From a request's sampling fields to the engine's `GenerationParams`, with LFM2's recommended defaults.

Liquid recommends temperature 0.3, min_p 0.15 and repetition_penalty 1.05 for LFM2 chat; a request
that leaves one unset gets the configured default, a request that sets it gets its own value. A request
without a token limit may generate to the end of the context, unless a default limit is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.core.requests import Sampling
from server.engine.interface import GenerationParams
from server.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class SamplingDefaults:
    temperature: float = 0.3
    min_p: float = 0.15
    repetition_penalty: float = 1.05
    max_tokens: int | None = None  # None: the rest of the context


def generation_params(
    fields: Sampling,
    *,
    prompt_len: int,
    max_model_len: int,
    defaults: SamplingDefaults,
    max_tokens: int | None,
    logprobs: int | None = None,
    skip_special_tokens: bool = True,
    structured: dict[str, Any] | None = None,
) -> GenerationParams:
    room = max_model_len - prompt_len
    if room <= 0 or (max_tokens is not None and max_tokens > room):
        asked = f" + max_tokens {max_tokens}" if max_tokens is not None else ""
        raise InvalidRequest(
            f"This model's maximum context length is {max_model_len} tokens; the prompt has "
            f"{prompt_len} tokens{asked}. Shorten the messages or lower max_tokens.",
            param="messages" if max_tokens is None else "max_tokens",
            code="context_length_exceeded",
        )
    if fields.min_tokens and max_tokens is not None and fields.min_tokens > max_tokens:
        raise InvalidRequest("min_tokens must not exceed max_tokens", param="min_tokens")
    return GenerationParams(
        n=fields.n,
        max_tokens=max_tokens if max_tokens is not None else min(room, defaults.max_tokens or room),
        min_tokens=fields.min_tokens,
        temperature=_first(fields.temperature, defaults.temperature),
        top_p=_first(fields.top_p, 1.0),
        top_k=fields.top_k if fields.top_k not in (None, -1) else 0,
        min_p=_first(fields.min_p, defaults.min_p),
        presence_penalty=_first(fields.presence_penalty, 0.0),
        frequency_penalty=_first(fields.frequency_penalty, 0.0),
        repetition_penalty=_first(fields.repetition_penalty, defaults.repetition_penalty),
        seed=fields.seed,
        stop=fields.stop,
        stop_token_ids=fields.stop_token_ids,
        ignore_eos=fields.ignore_eos,
        logprobs=logprobs,
        skip_special_tokens=_first(fields.skip_special_tokens, skip_special_tokens),
        spaces_between_special_tokens=fields.spaces_between_special_tokens,
        include_stop_str_in_output=fields.include_stop_str_in_output,
        logit_bias=_logit_bias(fields.logit_bias),
        structured=fields.structured_outputs or structured,
        priority=fields.priority,
    )


def _logit_bias(bias: dict[str, float] | None) -> dict[int, float] | None:
    if not bias:
        return None
    try:
        return {int(k): max(-100.0, min(100.0, v)) for k, v in bias.items()}
    except ValueError:
        raise InvalidRequest("logit_bias keys must be token ids", param="logit_bias") from None


def _first(value: Any, default: Any) -> Any:
    return default if value is None else value
