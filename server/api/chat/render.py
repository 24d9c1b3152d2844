"""A finished chat job as one `chat.completion` object (the non-streaming answer)."""

from __future__ import annotations

import time
from typing import Any

from server.core import answer
from server.core.chat import ChatJob, count_tokens, observe_tool_parse, reasoning_tokens
from server.core.generation import Generation
from server.engine.interface import TokenLogprob


async def complete(job: ChatJob, generation: Generation) -> dict[str, Any]:
    n = job.params.n
    texts: list[list[str]] = [[] for _ in range(n)]
    logprobs: list[list[TokenLogprob]] = [[] for _ in range(n)]
    finish: list[str | None] = [None] * n
    completion_tokens = cached_tokens = 0
    prompt_tokens = len(job.prompt_ids)
    async for step in generation:
        prompt_tokens = step.num_prompt_tokens
        cached_tokens = max(cached_tokens, step.num_cached_tokens)
        for c in step.choices:
            texts[c.index].append(c.text)
            completion_tokens += c.num_tokens
            if c.logprobs:
                logprobs[c.index].extend(c.logprobs)
            if c.finish_reason is not None:
                finish[c.index] = c.finish_reason
    choices = []
    decoders = []
    for i in range(n):
        decoder = job.decoder()
        decoders.append(decoder)
        started = time.process_time()
        deltas = decoder.feed("".join(texts[i])) + decoder.close()
        message = answer.merge(deltas, decoder.failed_calls)
        message.setdefault("refusal", None)  # required by the spec; this model never refuses in a field
        observe_tool_parse(job, decoder, time.process_time() - started)
        choices.append({
            "index": i,
            "message": message,
            "logprobs": logprobs_json(logprobs[i]) if job.logprobs else None,
            "finish_reason": job.finish_reason(finish[i], decoder),
        })
    count_tokens(job, prompt_tokens, completion_tokens)
    return {
        "id": job.id,
        "object": "chat.completion",
        "created": job.created,
        "model": job.model,
        "choices": choices,
        "usage": usage(prompt_tokens, completion_tokens, cached_tokens=cached_tokens,
                       reasoning_tokens=await reasoning_tokens(job, decoders, completion_tokens)),
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
