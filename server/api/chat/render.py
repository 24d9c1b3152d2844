"""A finished chat job as one `chat.completion` object (the non-streaming answer)."""

from __future__ import annotations

import time
from typing import Any

from server.core import answer
from server.core.chat import ChatJob, count_tokens, observe_tool_parse
from server.core.generation import Generation
from server.engine.interface import TokenLogprob


async def complete(job: ChatJob, generation: Generation) -> dict[str, Any]:
    n = job.params.n
    texts: list[list[str]] = [[] for _ in range(n)]
    logprobs: list[list[TokenLogprob]] = [[] for _ in range(n)]
    finish: list[str | None] = [None] * n
    completion_tokens = 0
    prompt_tokens = len(job.prompt_ids)
    async for step in generation:
        prompt_tokens = step.num_prompt_tokens
        for c in step.choices:
            texts[c.index].append(c.text)
            completion_tokens += c.num_tokens
            if c.logprobs:
                logprobs[c.index].extend(c.logprobs)
            if c.finish_reason is not None:
                finish[c.index] = c.finish_reason
    choices = []
    for i in range(n):
        decoder = job.decoder()
        started = time.process_time()
        deltas = decoder.feed("".join(texts[i])) + decoder.close()
        message = answer.merge(deltas, decoder.failed_calls)
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
        "usage": usage(prompt_tokens, completion_tokens),
        "system_fingerprint": None,
    }


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
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
    ]}
