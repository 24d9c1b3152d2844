# ruff: noqa: E501 - a template reads best with its lines whole
"""A stand-in for the Hugging Face cache snapshot of `LiquidAI/LFM2-2.6B-Exp`, without weights.

The files are laid out as `huggingface_hub` leaves a download (`models--LiquidAI--LFM2-2.6B-Exp/
snapshots/<commit>/...` and `refs/main`), with what the real files carry that our own `tiny` does not:
a `config.json` in Liquid's style (transformers-4 keys, `block_dim`, `conv_dim`, `block_ff_dim`,
128,000 positions, eos 7), a `tokenizer_config.json` holding LFM2's original chat template, and
`special_tokens_map.json`. The shape is the tiny model's; the weights come from vLLM's dummy loader.

`ORIGINAL_TEMPLATE` is a reconstruction of the template published with the LFM2 checkpoints, written
here to behave like it (checked against a public copy): the system turn, then the tools as JSON between
the list markers, every message as `<|im_start|>{role}\\n{content}<|im_end|>\\n` with non-string content
as JSON and tool results wrapped in the response markers. It prints only a message's `content`, so a
past assistant turn sent as `tool_calls` loses its call.
"""

from __future__ import annotations

import json
from pathlib import Path

from server.checkpoints.tiny_model import SPECIAL_TOKENS, real_tokenizer_json
from server.settings import DEFAULT_MODEL

COMMIT = "3f5c0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b"
ORIGINAL_TEMPLATE = """{{- bos_token -}}
{%- set ns = namespace(system="") -%}
{%- if messages and messages[0]["role"] == "system" -%}
{%- set ns.system = messages[0]["content"] -%}
{%- set messages = messages[1:] -%}
{%- endif -%}
{%- if tools -%}
{%- set ns.system = ns.system + ("\\n" if ns.system else "") + "List of tools: <|tool_list_start|>[" -%}
{%- for tool in tools -%}
{%- set ns.system = ns.system + (tool if tool is string else tool | tojson) + (", " if not loop.last else "") -%}
{%- endfor -%}
{%- set ns.system = ns.system + "]<|tool_list_end|>" -%}
{%- endif -%}
{%- if ns.system -%}{{- "<|im_start|>system\\n" + ns.system + "<|im_end|>\\n" -}}{%- endif -%}
{%- for message in messages -%}
{%- set content = message["content"] if message["content"] is string else message["content"] | tojson -%}
{%- if message["role"] == "tool" -%}{%- set content = "<|tool_response_start|>" + content + "<|tool_response_end|>" -%}{%- endif -%}
{{- "<|im_start|>" + message["role"] + "\\n" + content + "<|im_end|>\\n" -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- "<|im_start|>assistant\\n" -}}{%- endif -%}
"""
TINY_SHAPE = {"hidden_size": 256, "block_dim": 256, "conv_dim": 256, "conv_dim_out": 256, "block_ff_dim": 512,
              "intermediate_size": 512, "num_hidden_layers": 6, "num_attention_heads": 4, "num_heads": 4,
              "num_key_value_heads": 2}
ATTENTION = (2, 5)


def liquid_config() -> dict[str, object]:
    """config.json as Liquid writes it (transformers 4 keys, `rope_theta` at the top), at the tiny shape."""
    layers = int(TINY_SHAPE["num_hidden_layers"])
    return {
        "architectures": ["Lfm2ForCausalLM"],
        "block_auto_adjust_ff_dim": False,
        "block_ffn_dim_multiplier": 1.0,
        "block_mlp_init_scale": 1.0,
        "block_multiple_of": 256,
        "block_norm_eps": 1e-05,
        "block_out_init_scale": 1.0,
        "block_use_swiglu": True,
        "block_use_xavier_init": True,
        "bos_token_id": 1,
        "conv_L_cache": 3,
        "conv_bias": False,
        "conv_use_xavier_init": True,
        "eos_token_id": 7,
        "initializer_range": 0.02,
        "layer_types": ["full_attention" if i in ATTENTION else "conv" for i in range(layers)],
        "max_position_embeddings": 128000,
        "model_type": "lfm2",
        "norm_eps": 1e-05,
        "pad_token_id": 0,
        "rope_theta": 1000000.0,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.54.0",
        "use_cache": True,
        "use_pos_enc": True,
        "vocab_size": 65536,
        **TINY_SHAPE,
    }


def tokenizer_config() -> dict[str, object]:
    return {
        "added_tokens_decoder": {str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False,
                                          "single_word": False, "special": True}
                                 for i, t in enumerate(SPECIAL_TOKENS)},
        "bos_token": "<|startoftext|>",
        "chat_template": ORIGINAL_TEMPLATE,
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "extra_special_tokens": {},
        "legacy": False,
        "model_max_length": 1000000000000000019884624838656,
        "pad_token": "<|pad|>",
        "spaces_between_special_tokens": False,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "use_default_system_prompt": False,
        "use_fast": True,
    }


def build(hub_cache: Path, repo: str = DEFAULT_MODEL) -> Path:
    """Write the snapshot under `hub_cache` (what HF_HUB_CACHE points at); returns the snapshot folder."""
    blob = real_tokenizer_json()
    if blob is None:
        raise RuntimeError("LFM2's real tokenizer is not installed (scripts/install.sh downloads it)")
    root = hub_cache / ("models--" + repo.replace("/", "--"))
    snapshot = root / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(COMMIT)
    (snapshot / "tokenizer.json").write_bytes(blob)
    files = {
        "config.json": liquid_config(),
        "generation_config.json": {"_from_model_config": True, "bos_token_id": 1, "eos_token_id": 7,
                                   "pad_token_id": 0, "transformers_version": "4.54.0"},
        "special_tokens_map.json": {"bos_token": "<|startoftext|>", "eos_token": "<|im_end|>",
                                    "pad_token": "<|pad|>"},
        "tokenizer_config.json": tokenizer_config(),
    }
    for name, content in files.items():
        (snapshot / name).write_text(json.dumps(content, indent=2) + "\n")
    return snapshot
