"""The chat core: a `ChatRequest` -> rendered LFM2 prompt, sampling, tool-choice grammar -> `ChatJob`.

`prepare` turns the request into a `ChatJob` (all checks that can answer 4xx happen here, before any
byte is sent). Both API faces build their jobs here from the plain request their edge converted
(`server.api.intake`: Chat Completions directly, Responses after translating its input items into
chat messages); each renders the answer in its own wire format
(`server.api.chat`, `server.api.responses`). `observe_tool_parse` and `count_tokens` are the one
metrics path of every face.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import tool_parser
from server.core import answer, prompts, tool_choice
from server.core.context import ServerContext
from server.core.requests import ChatRequest
from server.core.sampling import generation_params
from server.engine.interface import Engine, GenerationParams
from server.ops import metrics

log = logging.getLogger(__name__)


@dataclass
class ChatJob:
    id: str
    request_id: str
    created: int
    model: str
    prompt_ids: list[int]
    params: GenerationParams
    tools: list[dict[str, Any]] | None
    parse_tools: bool
    parallel_tool_calls: bool
    logprobs: bool
    include_usage: bool
    max_calls: int | None = None  # parallel_tool_calls false or a named tool_choice: 1
    named_choice: bool = False  # a named tool_choice: finish_reason "stop", as OpenAI answers
    release_after: int = tool_parser.DEFAULT_RELEASE_AFTER  # a call streams once this much is held, or whole
    arrival: float = field(default_factory=time.perf_counter)  # the route sets the HTTP arrival
    record: dict[str, Any] = field(default_factory=dict)  # fields of the request's log line
    system_fingerprint: str = ""
    tokenizer: Any = None  # counts reasoning tokens (`reasoning_tokens`)

    @property
    def offered(self) -> set[str]:
        return {t["function"]["name"] for t in self.tools or ()}

    def mark(self, stage: str, at: float | None = None) -> None:
        """Note in the request's log line when `stage` was reached (ms since arrival); first time only."""
        timeline = self.record.setdefault("timeline_ms", {})
        if stage not in timeline:
            timeline[stage] = round(1000 * ((time.perf_counter() if at is None else at) - self.arrival), 1)

    def decoder(self) -> answer.AnswerDecoder:
        return answer.AnswerDecoder(self.tools, parse_tools=self.parse_tools, max_calls=self.max_calls,
                                    release_after=self.release_after)

    def finish_reason(self, raw: str | None, decoder: answer.AnswerDecoder) -> str | None:
        return finish_reason(raw, decoder.called_tools and not self.named_choice)


async def prepare(req: ChatRequest, ctx: ServerContext, engine: Engine, request_id: str) -> ChatJob:
    text = prompts.render_chat(
        ctx.settings.chat_template,
        engine.tokenizer,
        req.messages,
        req.tools,
        add_generation_prompt=req.add_generation_prompt,
        continue_final_message=req.continue_final_message,
        template_kwargs=req.template_kwargs,
    )
    if ctx.settings.log_prompts:  # debug only, and only when asked: prompts are user data
        log.debug("prompt", extra={"request_id": request_id, "prompt": text})
    prompt_ids = await prompts.encode_off_loop(engine.tokenizer, text)
    params = generation_params(
        req.sampling,
        prompt_len=len(prompt_ids),
        max_model_len=engine.max_model_len,
        defaults=ctx.defaults,
        max_tokens=req.max_tokens,
        logprobs=req.top_logprobs if req.logprobs else None,
        # LFM2's tool-call markers are special tokens: keep them so the parser can see the calls.
        skip_special_tokens=not req.tools_on,
        structured=tool_choice.forced_call_structure(req, engine.tokenizer) or req.output_format,
    )
    params = replace(params, logit_bias=tool_choice.none_choice_bias(req, engine.tokenizer, params.logit_bias))
    return ChatJob(
        id=ctx.new_id("chatcmpl"),
        request_id=request_id,
        created=int(time.time()),
        model=ctx.model_name,
        prompt_ids=prompt_ids,
        params=params,
        tools=req.tools,
        parse_tools=req.tools_on,
        parallel_tool_calls=req.parallel_tool_calls,
        logprobs=req.logprobs,
        include_usage=req.include_usage,
        max_calls=tool_choice.max_calls(req),
        named_choice=req.named_choice,
        release_after=ctx.settings.tool_call_release_chars,
        system_fingerprint=ctx.system_fingerprint,
        tokenizer=engine.tokenizer,
    )


def finish_reason(raw: str | None, called_tools: bool) -> str | None:
    if raw == "stop" and called_tools:
        return "tool_calls"
    return raw


async def reasoning_tokens(job: ChatJob, decoders: Iterable[answer.AnswerDecoder], completion_tokens: int) -> int:
    """Completion tokens spent inside `<think>...</think>`, for `completion_tokens_details.reasoning_tokens`.

    An approximation: each choice's reasoning text is tokenized again (markers left out), which gives
    the tokens the model wrote unless it chose a non-canonical split. Capped at `completion_tokens`.
    Costs nothing when there is no reasoning.
    """
    total = 0
    for decoder in decoders:
        text = decoder.reasoning_text
        if text and job.tokenizer is not None:
            total += len(await prompts.encode_off_loop(job.tokenizer, text))
    return min(total, completion_tokens)


def decode_whole(job: ChatJob, text: str) -> tuple[answer.AnswerDecoder, list[answer.Delta]]:
    """A whole choice's text through a fresh decoder, for the non-streaming answers; the parse is timed
    (wall time, as the streams time theirs) and observed."""
    decoder = job.decoder()
    started = time.perf_counter()
    deltas = decoder.feed(text) + decoder.close()
    observe_tool_parse(job, decoder, time.perf_counter() - started)
    return decoder, deltas


def observe_tool_parse(job: ChatJob, decoder: answer.AnswerDecoder, seconds: float) -> None:
    if job.parse_tools:
        outcomes = decoder.outcomes
        metrics.TOOL_PARSE_SECONDS.observe(seconds)
        metrics.count_tool_outcomes(outcomes, job.offered)
        if outcomes:
            job.record.setdefault("tool_calls", []).extend(o.outcome for o in outcomes)


def count_tokens(job: Any, prompt_tokens: int, completion_tokens: int) -> None:
    metrics.PROMPT_TOKENS.labels(job.model).inc(prompt_tokens)
    metrics.COMPLETION_TOKENS.labels(job.model).inc(completion_tokens)
    job.record["prompt_tokens"] = prompt_tokens
    job.record["completion_tokens"] = completion_tokens
