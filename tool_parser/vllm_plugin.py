"""vLLM adapter: serve this parser as vLLM 0.32's tool parser `lfm2-stream`.

    vllm serve LiquidAI/LFM2-... --enable-auto-tool-choice \\
        --tool-parser-plugin /path/to/tool_parser/vllm_plugin.py --tool-call-parser lfm2-stream

Importing this module registers the parser (`register()` does it again,
idempotently, for callers that import the module by name). Only this module
imports vLLM; the `tool_parser` package itself does not.

Choices forced by vLLM's interface:

* `skip_special_tokens=False` in `adjust_request`: the call markers are special
  tokens in the LFM2 tokenizer, so vLLM's default would strip them from the
  text before any parser sees it.
* `engine_based_streaming = True`: that is what makes vLLM call
  `finish_streaming()` when the generation ends, which flushes text the
  parser holds back (a possible marker prefix, an unfinished call). Without
  it that text would be lost.
* `release_after` (class attribute, `tool_parser.DEFAULT_RELEASE_AFTER`): a
  call is held until it closes or that much argument text is held, so a call
  that turns out wrong is never streamed; a subclass may set 0 to stream
  every call from `name(` on.
* `supports_required_and_named = False`: for `tool_choice="required"` or a
  named tool vLLM would otherwise force a generic JSON format LFM2 was not
  trained on; instead the model writes its own call format and this parser
  reads it. (The choice is then a request, not a guarantee.)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from vllm.entrypoints.generate.base.protocol import (
    DeltaFunctionCall,
    DeltaMessage,
    DeltaToolCall,
    ExtractedToolCallInformation,
    FunctionCall,
    ToolCall,
)
from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
from vllm.entrypoints.openai.responses.protocol import ResponsesRequest
from vllm.tool_parsers.abstract_tool_parser import ToolParser, ToolParserManager

if not __package__:  # loaded by file path (--tool-parser-plugin): import from this checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import tool_parser

PARSER_NAME = "lfm2-stream"


def _tool_dicts(tools: Sequence[Any] | None) -> list[dict[str, Any]]:
    dicts: list[dict[str, Any]] = []
    for tool in tools or ():
        dumped = tool.model_dump() if hasattr(tool, "model_dump") else tool
        if isinstance(dumped, dict):
            dicts.append(dumped)
    return dicts


def _delta_message(deltas: list[dict[str, Any]]) -> DeltaMessage | None:
    """Our OpenAI delta dicts -> one vLLM DeltaMessage (None when empty)."""
    content = "".join(delta.get("content", "") for delta in deltas)
    calls: list[DeltaToolCall] = []
    for delta in deltas:
        for entry in delta.get("tool_calls", ()):
            function = entry["function"]
            if calls and calls[-1].index == entry["index"] and "id" not in entry:
                previous = calls[-1].function
                assert previous is not None
                previous.arguments = (previous.arguments or "") + function.get("arguments", "")
                continue
            calls.append(
                DeltaToolCall(
                    index=entry["index"],
                    id=entry.get("id"),
                    type=entry.get("type"),
                    function=DeltaFunctionCall(name=function.get("name"), arguments=function.get("arguments")),
                )
            )
    if not content and not calls:
        return None
    return DeltaMessage(content=content or None, tool_calls=calls)


class Lfm2StreamToolParser(ToolParser):
    """vLLM `ToolParser` backed by `tool_parser.StreamParser` (one per request)."""

    supports_required_and_named = False
    engine_based_streaming = True
    release_after = tool_parser.DEFAULT_RELEASE_AFTER

    def __init__(self, tokenizer: Any, tools: list[Any] | None = None) -> None:
        super().__init__(tokenizer, tools)
        self._stream: tool_parser.StreamParser | None = None

    def adjust_request(
        self, request: ChatCompletionRequest | ResponsesRequest
    ) -> ChatCompletionRequest | ResponsesRequest:
        request = super().adjust_request(request)
        if request.tools and request.tool_choice != "none":
            request.skip_special_tokens = False
        return request

    def _tools_for(self, request: Any) -> list[dict[str, Any]]:
        return _tool_dicts(self.tools or getattr(request, "tools", None))

    def extract_tool_calls(self, model_output: str, request: ChatCompletionRequest) -> ExtractedToolCallInformation:
        result = tool_parser.parse(model_output, self._tools_for(request))
        tool_calls = [
            ToolCall(
                id=call["id"],
                type="function",
                function=FunctionCall(name=call["function"]["name"], arguments=call["function"]["arguments"]),
            )
            for call in result.tool_calls
        ]
        return ExtractedToolCallInformation(
            tools_called=bool(tool_calls), tool_calls=tool_calls, content=result.content
        )

    def extract_tool_calls_streaming(
        self,
        previous_text: str,
        current_text: str,
        delta_text: str,
        previous_token_ids: Sequence[int],
        current_token_ids: Sequence[int],
        delta_token_ids: Sequence[int],
        request: ChatCompletionRequest,
    ) -> DeltaMessage | None:
        if self._stream is None:
            self._stream = tool_parser.StreamParser(self._tools_for(request), release_after=self.release_after)
        return _delta_message(self._stream.feed(delta_text))

    def finish_streaming(self) -> DeltaMessage | None:
        """Called by vLLM at the end of a stream (see `engine_based_streaming`)."""
        if self._stream is None:
            return None
        return _delta_message(self._stream.close())

    @property
    def outcomes(self) -> list[tool_parser.CallOutcome]:
        return self._stream.outcomes if self._stream is not None else []


def register() -> None:
    """Register `lfm2-stream` with vLLM's ToolParserManager (idempotent)."""
    ToolParserManager.register_module(name=PARSER_NAME, force=True, module=Lfm2StreamToolParser)


register()
