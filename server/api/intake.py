"""The edge's last step: validated wire requests (pydantic) become the core's plain request types.

Every face converts here (`server.core.requests`): Chat Completions and text completions directly,
Responses after translating into a chat request, `/tokenize` for its messages. Field meanings that
are OpenAI's (`response_format`, a named `tool_choice`, `max_completion_tokens` over `max_tokens`)
are settled here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.core.requests import ChatRequest, Sampling
from server.errors import InvalidRequest
from server.wire.protocol import ChatCompletionRequest, Message, NamedToolChoice, ResponseFormat, SamplingFields, Tool


def chat_request(req: ChatCompletionRequest) -> ChatRequest:
    choice = req.tool_choice
    return ChatRequest(
        messages=message_dicts(req.messages),
        sampling=sampling(req),
        tools=tool_dicts(req.tools),
        tool_choice="function" if isinstance(choice, NamedToolChoice) else choice or "auto",
        tool_name=choice.function.name if isinstance(choice, NamedToolChoice) else None,
        parallel_tool_calls=req.parallel_tool_calls,
        output_format=output_format(req.response_format),
        max_tokens=req.output_limit,
        logprobs=req.logprobs,
        top_logprobs=req.top_logprobs or 0,
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        add_generation_prompt=req.add_generation_prompt,
        continue_final_message=req.continue_final_message,
        template_kwargs=req.chat_template_kwargs,
    )


def sampling(req: SamplingFields) -> Sampling:
    structured = req.structured_outputs
    return Sampling(
        n=req.n,
        temperature=req.temperature,
        top_p=req.top_p,
        top_k=req.top_k,
        min_p=req.min_p,
        min_tokens=req.min_tokens,
        stop=tuple(req.stop_list),
        stop_token_ids=tuple(req.stop_token_ids or ()),
        seed=req.seed,
        presence_penalty=req.presence_penalty,
        frequency_penalty=req.frequency_penalty,
        repetition_penalty=req.repetition_penalty,
        ignore_eos=req.ignore_eos,
        skip_special_tokens=req.skip_special_tokens,
        spaces_between_special_tokens=req.spaces_between_special_tokens,
        include_stop_str_in_output=req.include_stop_str_in_output,
        logit_bias=req.logit_bias,
        priority=req.priority,
        structured_outputs=None if structured is None else structured.model_dump(by_alias=True, exclude_defaults=True),
    )


def output_format(fmt: ResponseFormat | None) -> dict[str, Any] | None:
    """OpenAI `response_format` as vLLM structured-output fields (None: free text)."""
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"json_object": True}
    schema = fmt.json_schema.schema_ if fmt.json_schema else None
    if schema is None:
        raise InvalidRequest("response_format json_schema needs json_schema.schema", param="response_format")
    return {"json": schema}


def message_dicts(messages: Sequence[Message]) -> list[dict[str, Any]]:
    return [m.model_dump(exclude_none=True, by_alias=True) for m in messages]


def tool_dicts(tools: Sequence[Tool] | None) -> list[dict[str, Any]] | None:
    return [t.model_dump(exclude_none=True) for t in tools] if tools else None
