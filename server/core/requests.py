"""What the core takes from a request, as plain data.

The API faces validate their wire types (pydantic, `server.wire`) and convert them into these at the
edge (`server.api.intake`), so nothing under `server.core` depends on pydantic or on one API's field
names: Chat Completions converts its request directly, Responses after translating its input items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Sampling:
    """The sampling fields chat and text completions share (OpenAI's plus vLLM's extensions); None
    where the request left a value unset, so the configured default applies."""

    n: int = 1
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    min_tokens: int = 0
    stop: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] = ()
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    repetition_penalty: float | None = None
    ignore_eos: bool = False
    skip_special_tokens: bool | None = None
    spaces_between_special_tokens: bool = True
    include_stop_str_in_output: bool = False
    logit_bias: dict[str, float] | None = None  # token id (as text) -> bias, as sent
    priority: int = 0
    structured_outputs: dict[str, Any] | None = None  # vLLM's structured-output fields, as sent


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A chat request: messages and tools as the prompt renderer takes them, and what shapes decoding."""

    messages: list[dict[str, Any]]
    sampling: Sampling = field(default_factory=Sampling)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str = "auto"  # "auto", "none", "required", or "function" (then `tool_name` says which)
    tool_name: str | None = None
    parallel_tool_calls: bool = True
    output_format: dict[str, Any] | None = None  # `response_format` as structured-output fields; None: text
    max_tokens: int | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    include_usage: bool = False
    add_generation_prompt: bool = True
    continue_final_message: bool = False
    template_kwargs: dict[str, Any] | None = None

    @property
    def tools_on(self) -> bool:
        """Tools are offered and may be called: the parser reads calls (off with `tool_choice: "none"`)."""
        return bool(self.tools) and self.tool_choice != "none"

    @property
    def named_choice(self) -> bool:
        """A named function: OpenAI then answers with finish_reason "stop", not "tool_calls"."""
        return self.tool_choice == "function"
