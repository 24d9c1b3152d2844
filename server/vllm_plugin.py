"""Our vLLM general plugin: makes every LFM2 checkpoint load in vLLM 0.32.

vLLM loads plugins in every process it starts (API server, engine core, workers) from the
`vllm.general_plugins` entry point, so this is the one place the fixes live:

- the LFM2 hybrid architecture (short-conv + GQA) is registered under `Lfm2ForCausalLM`, using vLLM's
  own implementation;
- vLLM's LFM2 reads `conv_dim` and `block_dim` from the config, keys that Liquid's config.json files
  carry but transformers 5 does not write: a checkpoint saved by transformers 5 fails with
  `AttributeError: ... conv_dim`. Both equal `hidden_size` in every LFM2, so the config class derives
  them when they are absent.
"""

from __future__ import annotations

from typing import Any

ARCHITECTURE = "Lfm2ForCausalLM"
_DERIVED_FROM_HIDDEN = ("conv_dim", "block_dim")


def register() -> None:
    _derive_missing_dims()
    from vllm import ModelRegistry

    if ARCHITECTURE not in ModelRegistry.get_supported_archs():
        ModelRegistry.register_model(ARCHITECTURE, "vllm.model_executor.models.lfm2:Lfm2ForCausalLM")


def _derive_missing_dims() -> None:
    from transformers import Lfm2Config

    for name in _DERIVED_FROM_HIDDEN:
        if not isinstance(getattr(Lfm2Config, name, None), property):
            setattr(Lfm2Config, name, _hidden_size_unless_set(name))


def _hidden_size_unless_set(name: str) -> property:
    key = f"_lfm2_{name}"

    def get(self: Any) -> int:
        value = self.__dict__.get(key)
        return int(self.hidden_size if value is None else value)

    def set_(self: Any, value: int) -> None:
        self.__dict__[key] = value

    return property(get, set_)
