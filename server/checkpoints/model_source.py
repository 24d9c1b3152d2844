"""Finds the checkpoint to serve: `tiny` (built here), a local directory, or a Hugging Face id.

When the default model is neither cached nor downloadable (an offline machine), the gateway falls back
to `tiny` with a clear warning, so `make serve` always serves something. A model the user named
explicitly never falls back: that would hide a typo.
"""

from __future__ import annotations

import json
import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from server.checkpoints.tiny_model import ensure_tiny_model
from server.settings import CARD_MAX_MODEL_LEN, DEFAULT_MODEL, Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelSource:
    path: str  # what vLLM loads: a directory or a hub id
    config: dict[str, Any]
    fallback: bool = False

    @property
    def positions(self) -> int:
        return int(self.config.get("max_position_embeddings") or CARD_MAX_MODEL_LEN)


def resolve(settings: Settings) -> ModelSource:
    if settings.model == "tiny":
        return _local(ensure_tiny_model(settings.tiny_dir))
    local = Path(settings.model).expanduser()
    if local.is_dir():
        return _local(local)
    config = _hub_config(settings.model)
    if config is not None:
        return ModelSource(settings.model, config)
    if settings.model == DEFAULT_MODEL and settings.offline_fallback:
        log.warning(
            "%s is not in the local Hugging Face cache and the hub cannot be reached: serving the built-in "
            "'tiny' LFM2 (random weights, for trying the API only). Set LFM2_MODEL to a local checkpoint "
            "or connect this machine to serve the real model.", DEFAULT_MODEL)
        return ModelSource(**{**_local(ensure_tiny_model(settings.tiny_dir)).__dict__, "fallback": True})
    raise SystemExit(f"lfm2-serve: model {settings.model!r} is not a local directory, not in the Hugging Face "
                     "cache, and could not be downloaded.")


def default_max_model_len(source: ModelSource, requested: int | None) -> int:
    """The cards' 32,768 (not config.json's 128,000), never beyond the model's positions."""
    return requested if requested is not None else min(CARD_MAX_MODEL_LEN, source.positions)


def _local(path: Path) -> ModelSource:
    return ModelSource(str(path), json.loads((path / "config.json").read_text()))


def _hub_config(repo: str) -> dict[str, Any] | None:
    from huggingface_hub import constants, hf_hub_download

    for offline in (True, False):
        if not offline and not _reachable(constants.ENDPOINT):
            return None
        try:
            path = hf_hub_download(repo, "config.json", local_files_only=offline)
        except Exception:  # not cached / not found / no network: try the next way
            continue
        return dict(json.loads(Path(path).read_text()))
    return None


def _reachable(url: str, timeout: float = 3.0) -> bool:
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname or "", parsed.port or 443), timeout=timeout).close()
    except OSError:
        return False
    return True
