"""Streams a chat job as OpenAI `chat.completion.chunk` events.

Per step and choice: the first chunk carries the role; each decoder delta (reasoning, content, tool-call
fragment) becomes one chunk as soon as it is decoded; the finish reason comes in a chunk of its own;
the chunks of one step and choice go out in one write;
with `include_usage` every other chunk says `"usage": null` and a last chunk has `choices: []` and the
usage; then `data: [DONE]`. Every chunk carries `system_fingerprint` and `service_tier`. A failure after
the stream started is sent as an SSE error event before `[DONE]`, never as a silent hang-up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from server.api.chat.render import SERVICE_TIER, logprobs_json, usage
from server.api.sse import DONE, ChunkFramer, error_frames
from server.api.stream_timer import StreamTimer
from server.core.chat import ChatJob, count_tokens, observe_tool_parse, reasoning_tokens
from server.core.generation import Generation
from server.errors import APIError, InternalError

log = logging.getLogger(__name__)
ROUTE = "/v1/chat/completions"


async def stream(job: ChatJob, generation: Generation) -> AsyncIterator[bytes]:
    framer = ChunkFramer(job.id, "chat.completion.chunk", job.created, job.model,
                         {"service_tier": SERVICE_TIER, "system_fingerprint": job.system_fingerprint},
                         usage_null=job.include_usage)
    n = job.params.n
    decoders = [job.decoder() for _ in range(n)]
    parse_seconds = [0.0] * n
    started = [False] * n
    prompt_tokens, completion_tokens, cached_tokens = len(job.prompt_ids), 0, 0
    timer = StreamTimer(job, ROUTE)
    try:
        async for step in generation:
            prompt_tokens = step.num_prompt_tokens
            cached_tokens = max(cached_tokens, step.num_cached_tokens)
            for c in step.choices:
                i = c.index
                completion_tokens += c.num_tokens
                frames: list[bytes] = []  # one write per step and choice
                if not started[i]:
                    started[i] = True
                    frames.append(framer.choices([_choice(i, {"role": "assistant", "content": ""})]))
                t0 = time.perf_counter()
                deltas = decoders[i].feed(c.text)
                if c.finish_reason is not None:
                    deltas += decoders[i].close()
                now = time.perf_counter()
                parse_seconds[i] += now - t0
                lp = logprobs_json(c.logprobs) if job.logprobs and c.logprobs else None
                if lp is None:
                    frames += [framer.delta(i, delta) for delta in deltas]  # the per-token path
                else:
                    for delta in deltas:
                        frames.append(framer.choices([_choice(i, delta, lp)]))
                        lp = None
                    if lp is not None:
                        frames.append(framer.choices([_choice(i, {}, lp)]))
                if c.finish_reason is not None:
                    reason = job.finish_reason(c.finish_reason, decoders[i])
                    frames.append(framer.choices([_choice(i, {}, None, reason)]))
                    observe_tool_parse(job, decoders[i], parse_seconds[i])
                if frames:
                    timer.wrote(now)
                    yield b"".join(frames)
                if deltas:
                    timer.decoded(now, deltas, job.parse_tools)
        count_tokens(job, prompt_tokens, completion_tokens)
        if job.include_usage:
            thinking = await reasoning_tokens(job, decoders, completion_tokens)
            yield framer.usage(usage(prompt_tokens, completion_tokens, cached_tokens=cached_tokens,
                                     reasoning_tokens=thinking))
        yield DONE
    except APIError as exc:
        yield error_frames(exc)
    except Exception:
        log.exception("chat stream %s failed", job.request_id)
        yield error_frames(InternalError("The server failed while streaming this answer."))
    finally:
        await generation.aclose()


def _choice(index: int, delta: dict[str, Any], logprobs: Any = None, finish: str | None = None
            ) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
