"""Builds `tiny`: a small LFM2 checkpoint made on this machine, so the gateway serves without a download.

It is the real architecture (gated short-convolution blocks and grouped-query attention, written by
transformers' `Lfm2ForCausalLM`) at a very small size with random weights, and a byte-level BPE tokenizer
trained here that carries LFM2's special tokens at their real ids. Tests and offline machines use it;
it goes through exactly the loading path of a downloaded checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from server.lfm2_jinja import LFM2_JINJA_TEMPLATE

# LFM2's special tokens, in id order from 0 (see shared LFM2 notes).
SPECIAL_TOKENS = [
    "<|pad|>",
    "<|startoftext|>",
    "<|endoftext|>",
    "<|fim_pre|>",
    "<|fim_mid|>",
    "<|fim_suf|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|tool_list_start|>",
    "<|tool_list_end|>",
    "<|tool_call_start|>",
    "<|tool_call_end|>",
    "<|tool_response_start|>",
    "<|tool_response_end|>",
]
VOCAB_SIZE = 2048
MAX_POSITIONS = 8192
RECIPE = "1"  # bump when the recipe changes, so cached copies are rebuilt
VERSION = f"{RECIPE}-{hashlib.sha256(LFM2_JINJA_TEMPLATE.encode()).hexdigest()[:8]}"

_CORPUS = [
    "The quick brown fox jumps over the lazy dog. Paris is the capital of France.",
    'get_weather(city="Paris", unit="celsius") get_time(timezone="UTC") search(query="news")',
    '{"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", '
    '"properties": {"city": {"type": "string"}}, "required": ["city"]}}',
    "user assistant system tool List of tools: Hello! How can I help you today? Thank you.",
    "def main():\n    return [1, 2, 3]\n0123456789 true false null True False None",
    "<think>Let me think about it step by step.</think> The answer is 42.",
]


def default_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "lfm2-gateway" / f"tiny-v{VERSION}"


def ensure_tiny_model(target: str | Path | None = None) -> Path:
    """Return the directory of the tiny checkpoint, building it first if it is not there yet."""
    path = Path(target) if target else default_dir()
    if (path / "config.json").exists() and (path / "tokenizer.json").exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tiny-", dir=path.parent))
    try:
        _build(staging)
        if path.exists():  # half-built by a process that died
            shutil.rmtree(path)
        staging.rename(path)
    except FileExistsError:  # another process won the race
        shutil.rmtree(staging, ignore_errors=True)
    finally:
        if staging.exists() and staging != path:
            shutil.rmtree(staging, ignore_errors=True)
    return path


def _build(out: Path) -> None:
    _build_tokenizer(out)
    _build_weights(out)


def _build_tokenizer(out: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE - 2,  # room for <think> and </think>
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    tok.add_tokens(["<think>", "</think>"])
    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok,
        bos_token="<|startoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|pad|>",
        additional_special_tokens=SPECIAL_TOKENS[2:],
    )
    fast.chat_template = LFM2_JINJA_TEMPLATE
    fast.save_pretrained(out)
    for token_id, token in enumerate(SPECIAL_TOKENS):
        assert fast.convert_tokens_to_ids(token) == token_id, token


def _build_weights(out: Path) -> None:
    import torch
    from transformers import Lfm2Config, Lfm2ForCausalLM

    torch.manual_seed(0)
    vocab = len(json.loads((out / "tokenizer.json").read_text())["model"]["vocab"]) + 2
    layers = 6
    attention = [2, 5]
    config = Lfm2Config(
        vocab_size=max(vocab, VOCAB_SIZE),
        hidden_size=256,
        intermediate_size=512,
        num_hidden_layers=layers,
        num_attention_heads=4,  # head_dim 64: vLLM's CPU attention rejects 16
        num_key_value_heads=2,
        max_position_embeddings=MAX_POSITIONS,
        layer_types=["full_attention" if i in attention else "conv" for i in range(layers)],
        block_auto_adjust_ff_dim=False,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=7,
        tie_word_embeddings=True,
        dtype="float32",
    )
    model = Lfm2ForCausalLM(config)  # type: ignore[no-untyped-call]
    model.generation_config.eos_token_id = 7
    model.save_pretrained(out)
