"""A started engine request whose first step has already arrived.

Starting a request and waiting for its first step before answering lets every error the engine can
raise on a request (a bad grammar, an overlong prompt, a dead engine) become a proper HTTP error
instead of an error inside a 200 stream. Iterating yields the first step, then the rest; closing
early aborts the engine request. `collect` folds a whole generation for the non-streaming answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from server.engine.interface import Engine, GenerationParams, StepOutput, TokenLogprob
from server.errors import APIError, InternalError, InvalidRequest, Unavailable
from server.ops import metrics


class Generation:
    __slots__ = ("_first", "_stream", "request_id")

    def __init__(self, request_id: str, stream: AsyncIterator[StepOutput], first: StepOutput) -> None:
        self.request_id = request_id
        self._stream = stream
        self._first: StepOutput | None = first

    @classmethod
    async def start(cls, engine: Engine, prompt_ids: list[int], params: GenerationParams,
                    request_id: str) -> Generation:
        stream = engine.generate(prompt_ids, params, request_id)
        metrics.QUEUED.inc()
        try:
            first = await anext(stream)
        except (asyncio.CancelledError, GeneratorExit):
            await _close(stream)
            raise
        except Exception as exc:
            await _close(stream)
            raise engine_error(exc) from exc
        finally:
            metrics.QUEUED.dec()
        return cls(request_id, stream, first)

    async def __aiter__(self) -> AsyncIterator[StepOutput]:
        first, self._first = self._first, None
        if first is not None:
            yield first
            if first.finished:
                return
        try:
            async for step in self._stream:
                yield step
        except (asyncio.CancelledError, GeneratorExit):
            raise
        except Exception as exc:
            raise engine_error(exc) from exc

    async def aclose(self) -> None:
        await _close(self._stream)


@dataclass
class Collected:
    """A finished generation, folded: per choice its text, logprobs and finish reason; token counts."""

    texts: list[str]
    logprobs: list[list[TokenLogprob]]
    finish: list[str | None]
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int


async def collect(generation: Generation, n: int, prompt_tokens: int) -> Collected:
    """Every step of `generation` (n choices; `prompt_tokens` until the engine reports its count)."""
    texts: list[list[str]] = [[] for _ in range(n)]
    logprobs: list[list[TokenLogprob]] = [[] for _ in range(n)]
    finish: list[str | None] = [None] * n
    completion_tokens = cached_tokens = 0
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
    return Collected(["".join(t) for t in texts], logprobs, finish, prompt_tokens, completion_tokens,
                     cached_tokens)


async def _close(stream: AsyncIterator[StepOutput]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


def engine_error(exc: BaseException) -> APIError:
    if isinstance(exc, APIError):
        return exc
    name = type(exc).__name__
    if name in ("EngineDeadError",):
        return Unavailable("The inference engine has stopped; the server is restarting.")
    if isinstance(exc, ValueError | TypeError) or name in ("VLLMValidationError", "VLLMClientError"):
        return InvalidRequest(str(exc) or name)
    return InternalError(f"The engine failed on this request ({name}).")
