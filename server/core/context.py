"""What every request handler needs, built once in the app factory: settings, engine, defaults."""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from server.checkpoints.tiny_model import tokenizer_kind
from server.core.sampling import SamplingDefaults
from server.engine.interface import Engine
from server.errors import ModelNotFound, Unavailable
from server.ops.admission import Admission
from server.ops.drain_stop import SHUTTING_DOWN, DrainStop
from server.settings import Settings


@dataclass
class ServerContext:
    settings: Settings
    engine: Engine | None = None  # None until loaded
    defaults: SamplingDefaults = field(default_factory=SamplingDefaults)
    admission: Admission = field(default_factory=lambda: Admission(None))
    model_path: str | None = None  # the checkpoint directory, when local
    draining: bool = False
    drain_stop: DrainStop = field(default_factory=DrainStop)  # what the drain stops at its deadline
    failed: bool = False  # the engine failed to load or died: the process must exit non-zero
    started: float = field(default_factory=time.time)
    system_fingerprint: str = ""  # set once the engine is loaded (`fingerprint`)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    @property
    def model_name(self) -> str:
        return self.settings.model_name

    def ready_engine(self) -> Engine:
        if self.draining:
            raise Unavailable(SHUTTING_DOWN)
        engine = self.engine
        if engine is None:
            raise Unavailable("The model is still loading; retry shortly.")
        if engine.dead:
            raise Unavailable("The inference engine has stopped; the server is restarting.")
        return engine

    def check_model(self, requested: str | None) -> None:
        if requested is not None and requested not in (self.model_name, self.settings.model):
            raise ModelNotFound(
                f"The model '{requested}' does not exist; this server serves '{self.model_name}'.",
                param="model",
            )

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{os.urandom(8).hex()}{next(self._ids):x}"


def fingerprint(model: str, dtype: str) -> str:
    """OpenAI's `system_fingerprint`: `fp_` and a short hash of what decides the answers' backend (the
    gateway's version, the model served, its dtype). Stable across restarts of the same deployment."""
    try:
        version = metadata.version("lfm2-gateway")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return "fp_" + hashlib.sha256(f"{version}\0{model}\0{dtype}".encode()).hexdigest()[:10]


def model_card(ctx: ServerContext) -> dict[str, Any]:
    engine = ctx.engine
    return {
        "id": ctx.model_name,
        "object": "model",
        "created": int(ctx.started),
        "owned_by": "liquidai",
        "root": ctx.settings.model,
        "max_model_len": engine.max_model_len if engine else None,
        "tokenizer": (tokenizer_kind(ctx.model_path) if ctx.model_path else None) or "checkpoint",
    }
