"""Renders a chat request into prompt token ids, with the configured chat template.

`lfm2` (default) is the gateway's own renderer (`lfm2_template.py`); `model` uses the checkpoint's
Jinja template through the tokenizer; any other value is a path to a Jinja file.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from server.core import lfm2_template
from server.errors import InvalidRequest

_IM_END = "<|im_end|>\n"


def render_chat(
    template: str,
    tokenizer: Any,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    *,
    add_generation_prompt: bool = True,
    continue_final_message: bool = False,
    template_kwargs: dict[str, Any] | None = None,
) -> str:
    kwargs = dict(template_kwargs or {})
    if continue_final_message:
        if not messages or messages[-1].get("role") != "assistant":
            raise InvalidRequest("continue_final_message needs a final assistant message", param="messages")
        add_generation_prompt = False
    if template == "lfm2":
        text = lfm2_template.render_prompt(
            messages,
            tools,
            add_generation_prompt=add_generation_prompt,
            keep_past_thinking=bool(kwargs.get("keep_past_thinking", False)),
        )
    else:
        text = _jinja(template, tokenizer, messages, tools, add_generation_prompt, kwargs)
    if continue_final_message and text.endswith(_IM_END):
        text = text[: -len(_IM_END)]
    return text


def _jinja(template: str, tokenizer: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
           add_generation_prompt: bool, kwargs: dict[str, Any]) -> str:
    chat_template = None if template == "model" else Path(template).read_text()
    for message in messages:
        # Templates read `message["content"]` on every turn (LFM2's original one as JSON when it is not a
        # string); an assistant turn of only `tool_calls` gets "", as vLLM hands it over.
        if message.get("content") is None:
            message["content"] = ""
        for call in message.get("tool_calls", ()):  # arguments as a mapping, as vLLM hands them over
            args = call["function"].get("arguments")
            if isinstance(args, str):
                try:
                    call["function"]["arguments"] = json.loads(args)
                except ValueError:
                    raise InvalidRequest("tool_calls arguments must be a JSON object",
                                         param="messages") from None
    try:
        return str(tokenizer.apply_chat_template(
            messages, tools=tools, chat_template=chat_template, tokenize=False,
            add_generation_prompt=add_generation_prompt, **kwargs,
        ))
    except Exception as exc:  # a template error is the request's, not the server's
        raise InvalidRequest(f"The chat template could not render these messages: {exc}",
                             param="messages") from exc


def encode(tokenizer: Any, text: str, add_special_tokens: bool = False) -> list[int]:
    """Prompt text to ids; a rendered prompt already carries BOS and special tokens."""
    return list(tokenizer.encode(text, add_special_tokens=add_special_tokens))


OFF_LOOP_CHARS = 8192  # about 2K tokens and a millisecond of encoding; beyond it a thread hop is cheaper
_TOKENIZE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokenize")


async def encode_off_loop(tokenizer: Any, text: str, add_special_tokens: bool = False) -> list[int]:
    """`encode`, in the tokenizer thread when the text is long. The fast tokenizer releases the GIL,
    so a long prompt no longer holds the event loop, and with it every other stream (a 900 KB prompt
    held it 0.7 s; from the thread, 9 ms). One thread, as in vLLM: tokenizers are not made to be used
    from many threads at once."""
    if len(text) < OFF_LOOP_CHARS:
        return encode(tokenizer, text, add_special_tokens)
    return await asyncio.get_running_loop().run_in_executor(_TOKENIZE, encode, tokenizer, text, add_special_tokens)
