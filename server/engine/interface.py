"""The narrow interface between the gateway and an inference engine, and its types.

The gateway needs five things from an engine: its tokenizer, its context length, `generate` (an async
stream of per-step deltas for every choice), `abort`, and `check_health`. `vllm_engine.VllmEngine` wraps
vLLM's AsyncLLM; tests may pass a fake. The types are plain dataclasses so nothing inside the gateway
depends on vLLM's classes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class GenerationParams:
    n: int = 1
    max_tokens: int = 16
    min_tokens: int = 0
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    min_p: float = 0.0
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] = ()
    ignore_eos: bool = False
    logprobs: int | None = None
    prompt_logprobs: int | None = None
    skip_special_tokens: bool = True
    spaces_between_special_tokens: bool = True
    include_stop_str_in_output: bool = False
    logit_bias: dict[int, float] | None = None
    structured: dict[str, Any] | None = None  # vLLM StructuredOutputsParams fields
    priority: int = 0


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(slots=True)
class ChoiceDelta:
    """What one choice produced in one engine step."""

    index: int
    text: str
    num_tokens: int
    finish_reason: str | None = None  # "stop" | "length" | "abort"
    stop_reason: int | str | None = None
    logprobs: list[TokenLogprob] | None = None


@dataclass(slots=True)
class StepOutput:
    choices: list[ChoiceDelta]
    num_prompt_tokens: int
    finished: bool
    prompt_logprobs: list[TokenLogprob | None] | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    num_cached_tokens: int = 0  # prompt tokens served from the engine's prefix cache


class Tokenizer(Protocol):
    def encode(self, text: str, add_special_tokens: bool = ...) -> list[int]: ...
    def decode(self, ids: Sequence[int], skip_special_tokens: bool = ...) -> str: ...
    def convert_ids_to_tokens(self, ids: list[int]) -> list[str]: ...


class Engine(Protocol):
    model_id: str
    max_model_len: int
    dtype: str

    @property
    def tokenizer(self) -> Any: ...

    def generate(self, prompt_ids: list[int], params: GenerationParams, request_id: str
                 ) -> AsyncIterator[StepOutput]: ...

    async def abort(self, request_id: str) -> None: ...

    async def check_health(self) -> None: ...

    @property
    def dead(self) -> bool: ...

    def num_unfinished_requests(self) -> int: ...

    def shutdown(self) -> None: ...
