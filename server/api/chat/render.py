"""A finished chat job as one `chat.completion` object (the non-streaming answer)."""

from __future__ import annotations

from typing import Any

from server.core import answer
from server.core.chat import ChatJob, count_tokens, decode_whole, reasoning_tokens
from server.core.generation import Generation, collect
from server.engine.interface import TokenLogprob


async def complete(job: ChatJob, generation: Generation) -> dict[str, Any]:
    done = await collect(generation, job.params.n, len(job.prompt_ids))
    choices = []
    decoders = []
    for i, text in enumerate(done.texts):
        decoder, deltas = decode_whole(job, text)
        decoders.append(decoder)
        message = answer.merge(deltas, decoder.failed_calls)
        message.setdefault("refusal", None)  # required by the spec; this model never refuses in a field
        choices.append({
            "index": i,
            "message": message,
            "logprobs": logprobs_json(done.logprobs[i]) if job.logprobs else None,
            "finish_reason": job.finish_reason(done.finish[i], decoder),
        })
    count_tokens(job, done.prompt_tokens, done.completion_tokens)
    return {
        "id": job.id,
        "object": "chat.completion",
        "created": job.created,
        "model": job.model,
        "choices": choices,
        "usage": usage(done.prompt_tokens, done.completion_tokens, cached_tokens=done.cached_tokens,
                       reasoning_tokens=await reasoning_tokens(job, decoders, done.completion_tokens)),
        "service_tier": SERVICE_TIER,
        "system_fingerprint": job.system_fingerprint,
    }


SERVICE_TIER = "default"  # what OpenAI answers for a request that asks for no particular tier


def usage(prompt_tokens: int, completion_tokens: int, *, cached_tokens: int = 0,
          reasoning_tokens: int = 0) -> dict[str, Any]:
    """OpenAI's `usage` object, with the details OpenAI sends (the modalities this server lacks are 0).
    The one usage builder of every API face."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning_tokens, "audio_tokens": 0,
                                      "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
    }


def logprobs_json(items: list[TokenLogprob]) -> dict[str, Any]:
    return {"content": [
        {
            "token": t.token,
            "logprob": t.logprob,
            "bytes": list(t.token.encode()),
            "top_logprobs": [{"token": s, "logprob": lp, "bytes": list(s.encode())} for s, lp in t.top],
        }
        for t in items
    ], "refusal": None}
