"""`Engine` on vLLM's v1 AsyncLLM, running in this process (the engine core in its own child process)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from server.engine.interface import ChoiceDelta, GenerationParams, StepOutput, TokenLogprob

log = logging.getLogger(__name__)


class VllmEngine:
    def __init__(self, engine_args: dict[str, Any], model_id: str) -> None:
        from vllm import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        self._llm = AsyncLLM.from_engine_args(AsyncEngineArgs(**engine_args))
        config = self._llm.vllm_config.model_config
        self.model_id = model_id
        self.max_model_len: int = config.max_model_len
        self.dtype = str(config.dtype).removeprefix("torch.")
        self._tokenizer = self._llm.get_tokenizer()

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    @property
    def dead(self) -> bool:
        return bool(self._llm.errored)

    def num_unfinished_requests(self) -> int:
        return int(self._llm.get_num_unfinished_requests())

    async def generate(
        self, prompt_ids: list[int], params: GenerationParams, request_id: str
    ) -> AsyncIterator[StepOutput]:
        sampling = to_sampling_params(params)
        stream = self._llm.generate({"prompt_token_ids": prompt_ids}, sampling, request_id)
        num_prompt_tokens = len(prompt_ids)
        k = params.logprobs
        try:
            # Runs once per engine step and request: plain constructor calls only.
            async for out in stream:
                if k is None:
                    choices = [ChoiceDelta(o.index, o.text, len(o.token_ids), o.finish_reason, o.stop_reason)
                               for o in out.outputs]
                else:
                    choices = [ChoiceDelta(o.index, o.text, len(o.token_ids), o.finish_reason, o.stop_reason,
                                           _logprobs(o.token_ids, o.logprobs, k)) for o in out.outputs]
                prompt_lp = (None if params.prompt_logprobs is None
                             else _prompt_logprobs(out.prompt_logprobs, prompt_ids, params))
                yield StepOutput(choices, len(out.prompt_token_ids or ()) or num_prompt_tokens, out.finished,
                                 prompt_lp, num_cached_tokens=out.num_cached_tokens or 0)
        finally:
            await stream.aclose()  # aborts the engine request when we stop early

    async def abort(self, request_id: str) -> None:
        await self._llm.abort(request_id)

    async def check_health(self) -> None:
        await self._llm.check_health()

    def shutdown(self) -> None:
        self._llm.shutdown()


def to_sampling_params(p: GenerationParams) -> Any:
    from vllm import SamplingParams
    from vllm.sampling_params import RequestOutputKind, StructuredOutputsParams

    return SamplingParams(
        n=p.n,
        max_tokens=p.max_tokens,
        min_tokens=p.min_tokens,
        temperature=p.temperature,
        top_p=p.top_p,
        top_k=p.top_k,
        min_p=p.min_p,
        presence_penalty=p.presence_penalty,
        frequency_penalty=p.frequency_penalty,
        repetition_penalty=p.repetition_penalty,
        seed=p.seed,
        stop=list(p.stop),
        stop_token_ids=list(p.stop_token_ids),
        ignore_eos=p.ignore_eos,
        logprobs=p.logprobs,
        prompt_logprobs=p.prompt_logprobs,
        skip_special_tokens=p.skip_special_tokens,
        spaces_between_special_tokens=p.spaces_between_special_tokens,
        include_stop_str_in_output=p.include_stop_str_in_output,
        logit_bias=p.logit_bias,
        structured_outputs=StructuredOutputsParams(**p.structured) if p.structured else None,
        output_kind=RequestOutputKind.DELTA,
    )


def _logprobs(token_ids: Any, steps: Any, k: int) -> list[TokenLogprob]:
    result = []
    for token_id, step in zip(token_ids, steps or (), strict=False):
        chosen = step[token_id]
        top = sorted((lp for lp in step.values() if lp.rank is not None and lp.rank <= k), key=_rank)
        result.append(
            TokenLogprob(
                token=chosen.decoded_token or "",
                logprob=_finite(chosen.logprob),
                top=tuple((lp.decoded_token or "", _finite(lp.logprob)) for lp in top[:k]),
            )
        )
    return result


def _prompt_logprobs(steps: Any, prompt_ids: list[int], p: GenerationParams
                     ) -> list[TokenLogprob | None] | None:
    if steps is None or p.prompt_logprobs is None:
        return None
    out: list[TokenLogprob | None] = []
    for token_id, step in zip(prompt_ids, steps, strict=False):
        if step is None:
            out.append(None)
            continue
        chosen = step[token_id]
        top = sorted((lp for lp in step.values() if lp.rank is not None and lp.rank <= p.prompt_logprobs),
                     key=_rank)
        out.append(TokenLogprob(chosen.decoded_token or "", _finite(chosen.logprob),
                                tuple((lp.decoded_token or "", _finite(lp.logprob)) for lp in top)))
    return out


def _rank(lp: Any) -> int:
    return int(lp.rank)


def _finite(x: float) -> float:
    return max(float(x), -9999.0)  # JSON has no -inf
