"""What `tool_choice` and `parallel_tool_calls` do to decoding, for one chat request.

- `required`: the answer is one call block in LFM2's own syntax (`tool_grammar.forced_block`), one
  or more calls, exactly one with `parallel_tool_calls: false`.
- a named function: the block holds exactly one call, to that function.
- `auto` with `parallel_tool_calls: false`: free text, and a block the model opens holds one call and
  ends the answer (unless `response_format` asks for JSON, which then wins).
- `none`: the start marker is banned (`logit_bias`), so the model cannot open a block; tools stay in
  the prompt and the parser is off (`ChatRequest.tools_on`).

Grammars are cached by the tools' JSON, so an agent sending the same tools every turn builds each
once; vLLM caches the compiled grammar by its text too.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from server.core.requests import ChatRequest
from server.grammar import tool_grammar

BANNED = -100.0


def forced_call_structure(req: ChatRequest, tokenizer: Any) -> dict[str, Any] | None:
    """Structured-output fields that force a call, or None when the model chooses freely."""
    if not req.tools_on or req.tools is None:
        return None
    tools = json.dumps(req.tools)
    start, end = marker_ids(tokenizer)
    if req.named_choice:
        return {"structural_tag": _forced(tools, start, end, req.tool_name, True)}
    if req.tool_choice == "required":
        return {"structural_tag": _forced(tools, start, end, None, not req.parallel_tool_calls)}
    if not req.parallel_tool_calls and req.output_format is None and isinstance(start, int):
        return {"structural_tag": _at_most_one(tools, start, end)}
    return None


def marker_ids(tokenizer: Any) -> tool_grammar.Markers:
    """The call markers' token ids (their text where the vocabulary has no such token)."""
    return _token_id(tokenizer, tool_grammar.TOOL_CALL_START), _token_id(tokenizer, tool_grammar.TOOL_CALL_END)


def max_calls(req: ChatRequest) -> int | None:
    """How many calls the answer may report (None: no limit)."""
    return 1 if req.named_choice or not req.parallel_tool_calls else None


def none_choice_bias(req: ChatRequest, tokenizer: Any, bias: dict[int, float] | None
                     ) -> dict[int, float] | None:
    """`logit_bias` for `tool_choice: "none"` with tools: the call start marker banned, unless the
    request biases that token itself."""
    if not req.tools or req.tool_choice != "none":
        return bias
    token = _token_id(tokenizer, tool_grammar.TOOL_CALL_START)
    if not isinstance(token, int):
        return bias
    return {token: BANNED, **(bias or {})}


def _token_id(tokenizer: Any, text: str) -> int | str:
    try:
        token = tokenizer.convert_tokens_to_ids(text)
    except (KeyError, ValueError, TypeError):
        return text
    if not isinstance(token, int) or token < 0 or token == getattr(tokenizer, "unk_token_id", None):
        return text
    return token


@lru_cache(maxsize=64)
def _forced(tools_json: str, start: int | str, end: int | str, only: str | None, single: bool) -> str:
    tag = tool_grammar.forced_block(json.loads(tools_json), (start, end), only=only, single=single)
    return json.dumps(tag)


@lru_cache(maxsize=64)
def _at_most_one(tools_json: str, start: int | str, end: int | str) -> str:
    return json.dumps(tool_grammar.at_most_one_block(json.loads(tools_json), (start, end)))
