"""`POST /v1/completions`: plain-text completions, streaming and not."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from server.api import intake
from server.api.chat.render import usage
from server.api.sse import DONE, ChunkFramer, error_frames
from server.core import prompts
from server.core.chat import count_tokens
from server.core.context import ServerContext
from server.core.generation import Generation
from server.core.sampling import generation_params
from server.engine.interface import Engine, GenerationParams, TokenLogprob
from server.errors import APIError, InternalError, InvalidRequest
from server.wire.protocol import CompletionRequest

log = logging.getLogger(__name__)


@dataclass
class CompletionJob:
    id: str
    request_id: str
    created: int
    model: str
    prompt_ids: list[int]
    prompt_text: str
    params: GenerationParams
    echo: bool
    logprobs: bool
    include_usage: bool
    record: dict[str, Any] = field(default_factory=dict)  # fields of the request's log line
    system_fingerprint: str = ""


async def prepare(req: CompletionRequest, ctx: ServerContext, engine: Engine, request_id: str) -> CompletionJob:
    if req.suffix:
        raise InvalidRequest("suffix is not supported by LFM2 models", param="suffix")
    if req.best_of not in (None, req.n):
        raise InvalidRequest("best_of other than n is not supported", param="best_of")
    prompt = req.prompt
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str | list):
        prompt = prompt[0]
    if isinstance(prompt, str):
        ids = await prompts.encode_off_loop(engine.tokenizer, prompt)
        text = prompt
    elif all(isinstance(t, int) for t in prompt):
        ids = [int(t) for t in prompt]  # type: ignore[arg-type]
        vocab = len(engine.tokenizer)
        if any(t < 0 or t >= vocab for t in ids):
            raise InvalidRequest(f"prompt token ids must be in [0, {vocab})", param="prompt")
        text = engine.tokenizer.decode(ids) if req.echo else ""
    else:
        raise InvalidRequest("one prompt per request is supported; send prompts as separate requests",
                             param="prompt")
    if not ids:
        raise InvalidRequest("prompt must not be empty", param="prompt")
    params = generation_params(
        intake.sampling(req),
        prompt_len=len(ids),
        max_model_len=engine.max_model_len,
        defaults=ctx.defaults,
        max_tokens=req.max_tokens,
        logprobs=req.logprobs,
        structured=intake.output_format(req.response_format),
    )
    return CompletionJob(
        id=ctx.new_id("cmpl"),
        request_id=request_id,
        created=int(time.time()),
        model=ctx.model_name,
        prompt_ids=ids,
        prompt_text=text,
        params=params,
        echo=req.echo,
        logprobs=req.logprobs is not None,
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        system_fingerprint=ctx.system_fingerprint,
    )


async def complete(job: CompletionJob, generation: Generation) -> dict[str, Any]:
    n = job.params.n
    texts: list[list[str]] = [[job.prompt_text] if job.echo else [] for _ in range(n)]
    lps: list[list[TokenLogprob]] = [[] for _ in range(n)]
    finish: list[str | None] = [None] * n
    completion_tokens = cached_tokens = 0
    async for step in generation:
        cached_tokens = max(cached_tokens, step.num_cached_tokens)
        for c in step.choices:
            texts[c.index].append(c.text)
            completion_tokens += c.num_tokens
            lps[c.index].extend(c.logprobs or ())
            if c.finish_reason is not None:
                finish[c.index] = c.finish_reason
    _count(job, completion_tokens)
    return {
        "id": job.id,
        "object": "text_completion",
        "created": job.created,
        "model": job.model,
        "choices": [
            {
                "index": i,
                "text": "".join(texts[i]),
                "logprobs": legacy_logprobs(lps[i], 0) if job.logprobs else None,
                "finish_reason": finish[i],
            }
            for i in range(n)
        ],
        "usage": usage(len(job.prompt_ids), completion_tokens, cached_tokens=cached_tokens),
        "system_fingerprint": job.system_fingerprint,
    }


async def stream(job: CompletionJob, generation: Generation) -> AsyncIterator[bytes]:
    framer = ChunkFramer(job.id, "text_completion", job.created, job.model,
                         {"system_fingerprint": job.system_fingerprint}, usage_null=job.include_usage)
    offsets = [0] * job.params.n
    completion_tokens = cached_tokens = 0
    try:
        if job.echo:
            for i in range(job.params.n):
                yield framer.choices([_choice(i, job.prompt_text)])
                offsets[i] = len(job.prompt_text)
        async for step in generation:
            cached_tokens = max(cached_tokens, step.num_cached_tokens)
            for c in step.choices:
                completion_tokens += c.num_tokens
                lp = legacy_logprobs(c.logprobs or [], offsets[c.index]) if job.logprobs else None
                offsets[c.index] += len(c.text)
                if c.text or lp or c.finish_reason:
                    yield framer.choices([_choice(c.index, c.text, lp, c.finish_reason)])
        _count(job, completion_tokens)
        if job.include_usage:
            yield framer.usage(usage(len(job.prompt_ids), completion_tokens, cached_tokens=cached_tokens))
        yield DONE
    except APIError as exc:
        yield error_frames(exc)
    except Exception:
        log.exception("completion stream %s failed", job.request_id)
        yield error_frames(InternalError("The server failed while streaming this completion."))
    finally:
        await generation.aclose()


def legacy_logprobs(items: list[TokenLogprob], offset: int) -> dict[str, Any]:
    offsets = []
    for t in items:
        offsets.append(offset)
        offset += len(t.token)
    return {
        "tokens": [t.token for t in items],
        "token_logprobs": [t.logprob for t in items],
        "top_logprobs": [dict(t.top) for t in items],
        "text_offset": offsets,
    }


def _choice(index: int, text: str, logprobs: Any = None, finish: str | None = None) -> dict[str, Any]:
    return {"index": index, "text": text, "logprobs": logprobs, "finish_reason": finish}


def _count(job: CompletionJob, completion_tokens: int) -> None:
    count_tokens(job, len(job.prompt_ids), completion_tokens)
