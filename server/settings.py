"""The gateway's one settings class: every field is an `LFM2_*` environment variable and a CLI flag."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "LiquidAI/LFM2-2.6B-Exp"
# The model cards (and Liquid's own vLLM recipe) say 32,768; config.json says 128,000.
CARD_MAX_MODEL_LEN = 32768


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LFM2_",
        cli_prog_name="lfm2-serve",
        cli_kebab_case=True,
        cli_implicit_flags=True,
        protected_namespaces=(),
    )

    model: str = Field(
        DEFAULT_MODEL,
        description="Hugging Face id, local directory, or 'tiny' (a small random LFM2 built locally).",
    )
    served_model_name: str | None = Field(None, description="Name clients use; defaults to --model.")
    host: str = "0.0.0.0"
    port: int = Field(8000, ge=0, le=65535)
    dtype: str = Field("auto", description="Weights dtype: auto, bfloat16, float16, float32.")
    max_model_len: int | None = Field(
        None, gt=0, description="Context length; default min(32768, the model's positions)."
    )
    tensor_parallel_size: int = Field(1, ge=1)
    pipeline_parallel_size: int = Field(1, ge=1)
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    cpu_kvcache_space_gib: float | None = Field(
        None, gt=0, description="KV cache size on CPU (GiB); default: 1/4 of available memory, at most 8."
    )
    engine_args: dict[str, Any] = Field(
        default_factory=dict,
        description='Any other vLLM engine argument as JSON, e.g. \'{"enforce_eager": true}\'.',
    )
    chat_template: str = Field(
        "lfm2",
        description="'lfm2' (the gateway's own, keeps tool calls in history), 'model' (the checkpoint's), "
        "or a path to a Jinja file.",
    )
    default_temperature: float = Field(0.3, ge=0, description="Used when a request leaves it unset.")
    default_min_p: float = Field(0.15, ge=0, le=1, description="Used when a request leaves it unset.")
    default_repetition_penalty: float = Field(1.05, gt=0, description="Used when a request leaves it unset.")
    tool_call_release_chars: int = Field(
        256, ge=0, description="A streamed tool call is sent once it is complete and valid, or once this many "
        "characters of its arguments are held (then long string values stream). 0: send each call as it starts."
    )
    default_max_tokens: int | None = Field(
        None, gt=0, description="Output limit for requests that set none (Codex CLI sends none); default: the "
        "rest of the context."
    )
    tiny_dir: str | None = Field(None, description="Where the 'tiny' model is generated (default: user cache).")
    offline_fallback: bool = Field(
        True, description="Serve 'tiny' with a warning when the default model cannot be found or downloaded."
    )
    max_concurrent_requests: int | None = Field(
        256, ge=1, description="Generation requests in flight; beyond it the server answers 429."
    )
    api_key: str | None = Field(
        None, description="Bearer key(s) required on every non-public route; several comma-separated."
    )
    api_key_file: str | None = Field(None, description="A file of API keys, one per line.")
    metrics_public: bool = Field(False, description="Serve /metrics without a key (it is public when no key is set).")
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (off when empty).")
    max_body_bytes: int = Field(8 * 2**20, gt=0, description="Largest request body; beyond it, 413.")
    request_timeout: float | None = Field(600.0, gt=0, description="Seconds a generation request may take.")
    shutdown_timeout: float = Field(30.0, ge=0, description="Seconds in-flight requests get to finish on SIGTERM.")
    keepalive_interval: float = Field(15.0, gt=0, description="Seconds of stream silence before an SSE comment.")
    idle_connection_timeout: int = Field(
        75, ge=1, description="Seconds an idle keep-alive connection stays open. Longer than load balancers' "
        "idle timeouts (60 s on AWS ALB), so the server never closes a connection a client is about to reuse."
    )
    response_store_items: int = Field(
        10000, ge=0, description="Responses kept for previous_response_id and GET /v1/responses/{id} "
        "(store: true); the oldest are evicted first. 0 turns the store off."
    )
    response_store_mib: float = Field(512, gt=0, description="Largest total JSON size of stored responses (MiB).")
    response_store_ttl: float = Field(
        24 * 3600, gt=0, description="Seconds a stored response is kept (the store is per process)."
    )
    log_prompts: bool = Field(False, description="Debug: log rendered prompts (never on by default).")
    log_level: str = "info"

    def api_keys(self) -> list[str]:
        keys = [k.strip() for k in (self.api_key or "").split(",")]
        if self.api_key_file:
            with open(self.api_key_file) as f:
                keys += [line.strip() for line in f if line.strip() and not line.startswith("#")]
        return [k for k in keys if k]

    @property
    def model_name(self) -> str:
        return self.served_model_name or self.model
