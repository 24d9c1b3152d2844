"""`lfm2-serve`: settings from flags and `LFM2_*` variables, model resolution, engine, uvicorn."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from pydantic_settings import CliApp

from server.app import create_app
from server.checkpoints.model_source import ModelSource, default_max_model_len, resolve
from server.ops import cpu_tuning, loop_lag
from server.settings import Settings

log = logging.getLogger("lfm2")


def main(argv: list[str] | None = None) -> None:
    cpu_tuning.prepare(reexec=argv is None)  # may restart this process once, with LD_PRELOAD set
    settings = CliApp.run(Settings, cli_args=sys.argv[1:] if argv is None else argv)
    configure_logging(settings.log_level)
    source = resolve(settings)
    if source.fallback:
        settings = settings.model_copy(update={"served_model_name": settings.served_model_name or "tiny"})
    configure_cpu(settings)
    log.info("cpu tuning: %s", cpu_tuning.describe())
    args = engine_args(settings, source)
    app = create_app(settings, lambda: _vllm_engine(args, settings.model_name), model_path=source.path)
    served = loop_lag.LoopLagProbe(app) if loop_lag.enabled() else app

    import uvicorn

    from server.lifecycle import DrainingServer

    config = uvicorn.Config(served, host=settings.host, port=settings.port, log_level=settings.log_level,
                            timeout_graceful_shutdown=2,  # our drain already waited for requests
                            timeout_keep_alive=settings.idle_connection_timeout, access_log=False)
    DrainingServer(config, app.state.ctx).run()
    if app.state.ctx.failed:
        sys.exit(1)  # the engine failed: exit non-zero so the orchestrator restarts us


def configure_logging(level: str) -> None:
    """Structured JSON lines on stderr (vLLM keeps its own format for its own loggers)."""
    from pythonjsonlogger.json import JsonFormatter

    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())


def engine_args(settings: Settings, source: ModelSource) -> dict[str, Any]:
    args: dict[str, Any] = {
        "model": source.path,
        "served_model_name": [settings.model_name],
        "dtype": settings.dtype,
        "max_model_len": default_max_model_len(source, settings.max_model_len),
        "tensor_parallel_size": settings.tensor_parallel_size,
        "pipeline_parallel_size": settings.pipeline_parallel_size,
        "disable_log_stats": False,
        # JSON grammars without free whitespace: otherwise a model can spend its whole budget on
        # newlines inside `{` and never finish the object (small and random-weight models do).
        "structured_outputs_config": {"backend": "xgrammar", "disable_any_whitespace": True},
    }
    if _has_cuda():
        args["gpu_memory_utilization"] = settings.gpu_memory_utilization
    args.update(settings.engine_args)
    return args


def configure_cpu(settings: Settings) -> None:
    """vLLM's CPU backend sizes its KV cache from VLLM_CPU_KVCACHE_SPACE (GiB); set it explicitly."""
    if _has_cuda():
        return
    if settings.cpu_kvcache_space_gib is not None:
        os.environ["VLLM_CPU_KVCACHE_SPACE"] = _gib(settings.cpu_kvcache_space_gib)
    elif "VLLM_CPU_KVCACHE_SPACE" not in os.environ:
        os.environ["VLLM_CPU_KVCACHE_SPACE"] = _gib(min(8.0, max(1.0, cpu_tuning.available_gib() / 4)))


def _gib(value: float) -> str:
    return str(max(1, int(value)))


def _has_cuda() -> bool:
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:
        return False


def _vllm_engine(args: dict[str, Any], model_name: str) -> Any:
    from server.engine.vllm_engine import VllmEngine

    return VllmEngine(args, model_name)


if __name__ == "__main__":
    main()
