"""`lfm2-quantize`: round-to-nearest int8 / int4 quantization of an LFM2 checkpoint, for CPU serving.

    lfm2-quantize SRC DST [--scheme w8a8|w4a16] [--group-size 128] [--shard-gib 1]

It writes the compressed-tensors format (the one llm-compressor writes), which vLLM reads with no extra
flag: `config.json` gains a `quantization_config` and each quantized linear layer's `weight` becomes

- `w8a8` (format `int-quantized`, the default): `weight` int8 [out, in] and `weight_scale` float32
  [out, 1]; symmetric per output channel, activations quantized by vLLM per token at run time. On CPUs
  without AMX this is the fast one: vLLM's oneDNN int8 GEMM decodes LFM2-2.6B about 1.6x faster than bf16.
- `w4a16` (format `pack-quantized`): `weight_packed` int32 [out, in / 8] (eight 4-bit values per int32,
  offset by 8, lowest bits first), `weight_scale` [out, in / group] in the output dtype and
  `weight_shape` int64 [2]; symmetric per group of `group_size` input columns, activations stay in
  float. A third of bf16's memory, but vLLM's stock CPU kernel decodes it slower than bf16.

Only LFM2's projections are quantized, under their checkpoint names (`self_attn.q_proj`/`k_proj`/
`v_proj`/`out_proj`, `conv.in_proj`, `conv.out_proj`, `feed_forward.w1`/`w3`/`w2`; vLLM fuses q/k/v and
w1/w3 itself, and both halves of a fused layer get the same scheme). The short-convolution kernel
(`conv.conv`), the norms and the tied embedding / `lm_head` stay as they are, and `ignore` lists the
linear-like ones. Tensors are read one at a time with `safe_open` and written out in shards of at most
`--shard-gib`, so peak memory is about one output shard plus one tensor, well under the model's size.
Everything else in SRC (tokenizer, chat template, generation config) is copied.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

SCHEMES = ("w8a8", "w4a16")
DTYPES = ("bfloat16", "float16", "keep")
DEFAULT_GROUP_SIZE = 128
# LFM2's projections, as the checkpoint names them (model.layers.N.<this>.weight).
QUANTIZED = re.compile(
    r"^model\.layers\.\d+\.(self_attn\.(q_proj|k_proj|v_proj|out_proj)|conv\.(in_proj|out_proj)"
    r"|feed_forward\.(w1|w2|w3))\.weight$")
# Linear-like layers that stay in float; vLLM matches `ignore` entries against its own layer names.
IGNORE = ["lm_head", "re:.*conv\\.conv$"]
_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")


# ---- the arithmetic (pure torch; tests check it against vLLM's kernels and compressed-tensors) ----

def quantize_int8_channel(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int8 per output channel: (q int8 [out, in], scale float32 [out, 1]), w ≈ q * scale."""
    w = weight.to(torch.float32)
    scale = (w.abs().amax(dim=1, keepdim=True) / 127.0).clamp(min=torch.finfo(torch.float32).tiny)
    q = torch.round(w / scale).clamp(-127, 127).to(torch.int8)
    return q, scale


def quantize_int4_group(weight: torch.Tensor, group_size: int,
                        scale_dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric int4 per group of input columns: (q int8 in [-8, 7] [out, in], scale [out, in /
    group_size] in `scale_dtype`), w ≈ q * scale repeated over each group. The scale is rounded to its
    dtype before q is computed, so q is the nearest value for the scale that is stored."""
    out_features, in_features = weight.shape
    if in_features % group_size:
        raise ValueError(f"group size {group_size} does not divide the input size {in_features}")
    w = weight.to(torch.float32).reshape(out_features, in_features // group_size, group_size)
    scale = (w.abs().amax(dim=2, keepdim=True) / 7.0).to(scale_dtype).to(torch.float32)
    scale = scale.clamp(min=torch.finfo(scale_dtype).tiny)
    q = torch.round(w / scale).clamp(-8, 7).to(torch.int8)
    return q.reshape(out_features, in_features), scale.squeeze(2).to(scale_dtype)


def pack_int4(q: torch.Tensor) -> torch.Tensor:
    """int4 values (int8 in [-8, 7], [out, in]) -> int32 [out, in / 8], compressed-tensors' layout:
    each value offset by 8, value j of a word in bits 4j..4j+3."""
    out_features, in_features = q.shape
    if in_features % 8:
        raise ValueError(f"the input size {in_features} is not a multiple of 8")
    nibbles = (q.to(torch.int32) + 8).reshape(out_features, in_features // 8, 8)
    shifts = torch.arange(8, dtype=torch.int32) * 4
    return (nibbles << shifts).sum(dim=2, dtype=torch.int32)  # wraps into the sign bit as intended


def unpack_int4(packed: torch.Tensor, in_features: int) -> torch.Tensor:
    shifts = torch.arange(8, dtype=torch.int32) * 4
    nibbles = (packed.unsqueeze(2) >> shifts) & 0xF
    return (nibbles.reshape(packed.shape[0], -1)[:, :in_features] - 8).to(torch.int8)


def dequantize(tensors: dict[str, torch.Tensor], scheme: str) -> torch.Tensor:
    """The float32 weight a quantized layer stands for (the reference the tests compare against)."""
    if scheme == "w8a8":
        return tensors["weight"].to(torch.float32) * tensors["weight_scale"].to(torch.float32)
    in_features = int(tensors["weight_shape"][1])
    q = unpack_int4(tensors["weight_packed"], in_features).to(torch.float32)
    scale = tensors["weight_scale"].to(torch.float32)
    return q * scale.repeat_interleave(in_features // scale.shape[1], dim=1)


def quantize_weight(weight: torch.Tensor, scheme: str, group_size: int = DEFAULT_GROUP_SIZE,
                    scale_dtype: torch.dtype = torch.bfloat16) -> dict[str, torch.Tensor]:
    """One linear layer's `weight` -> the tensors that replace it (names relative to the layer)."""
    if scheme == "w8a8":
        q, scale = quantize_int8_channel(weight)
        return {"weight": q, "weight_scale": scale}
    if scheme == "w4a16":
        q4, scale = quantize_int4_group(weight, group_size, scale_dtype)
        return {"weight_packed": pack_int4(q4), "weight_scale": scale,
                "weight_shape": torch.tensor(list(weight.shape), dtype=torch.int64)}
    raise ValueError(f"unknown scheme {scheme!r}: one of {', '.join(SCHEMES)}")


def quantization_config(scheme: str, group_size: int = DEFAULT_GROUP_SIZE) -> dict[str, Any]:
    """config.json's `quantization_config` for a checkpoint written by `quantize_weight`."""
    def args(num_bits: int, strategy: str, dynamic: bool, group: int | None) -> dict[str, Any]:
        return {"num_bits": num_bits, "type": "int", "symmetric": True, "strategy": strategy,
                "group_size": group, "dynamic": dynamic, "actorder": None, "block_structure": None,
                "observer": None if dynamic else "minmax", "observer_kwargs": {}}

    if scheme == "w8a8":
        fmt, weights, inputs = "int-quantized", args(8, "channel", False, None), args(8, "token", True, None)
    elif scheme == "w4a16":
        fmt, weights, inputs = "pack-quantized", args(4, "group", False, group_size), None
    else:
        raise ValueError(f"unknown scheme {scheme!r}: one of {', '.join(SCHEMES)}")
    return {
        "quant_method": "compressed-tensors",
        "format": fmt,
        "quantization_status": "compressed",
        "config_groups": {"group_0": {"targets": ["Linear"], "weights": weights,
                                      "input_activations": inputs, "output_activations": None}},
        "ignore": list(IGNORE),
        "kv_cache_scheme": None,
    }


# ---- the checkpoint: streamed tensor by tensor ----

@dataclass
class Report:
    quantized: int = 0
    kept: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    shards: int = 0


def source_shards(src: Path) -> list[Path]:
    index = src / "model.safetensors.index.json"
    if index.exists():
        weight_map = json.loads(index.read_text())["weight_map"]
        return [src / name for name in dict.fromkeys(weight_map.values())]
    single = src / "model.safetensors"
    if not single.exists():
        raise SystemExit(f"lfm2-quantize: no model.safetensors (or its index) in {src}")
    return [single]


def converted_tensors(src: Path, scheme: str, group_size: int, dtype: torch.dtype | None,
                      report: Report) -> Iterator[tuple[str, torch.Tensor]]:
    """(name, tensor) of the output checkpoint, one source tensor in memory at a time; float tensors that
    stay unquantized are cast to `dtype` (None keeps them)."""
    from safetensors import safe_open

    for shard in source_shards(src):
        with safe_open(str(shard), framework="pt") as reader:
            for name in reader.keys():  # noqa: SIM118 - safe_open readers are not iterable
                tensor = reader.get_tensor(name)
                report.bytes_in += tensor.numel() * tensor.element_size()
                if QUANTIZED.match(name):
                    layer = name.removesuffix(".weight")
                    report.quantized += 1
                    scale_dtype = dtype or tensor.dtype
                    for suffix, value in quantize_weight(tensor, scheme, group_size, scale_dtype).items():
                        yield f"{layer}.{suffix}", value.contiguous()
                else:
                    report.kept += 1
                    yield name, tensor.to(dtype) if dtype and tensor.is_floating_point() else tensor
                del tensor


def write_shards(tensors: Iterator[tuple[str, torch.Tensor]], dst: Path, shard_bytes: int,
                 report: Report) -> None:
    """Write tensors into numbered shards of at most `shard_bytes` (one tensor may exceed it), then the
    index; a single shard is renamed model.safetensors."""
    from safetensors.torch import save_file

    weight_map: dict[str, str] = {}
    pending: dict[str, torch.Tensor] = {}
    pending_bytes = 0
    names: list[str] = []

    def flush() -> None:
        nonlocal pending, pending_bytes
        if not pending:
            return
        name = f"model-{len(names) + 1:05d}.safetensors"
        save_file(pending, str(dst / name), metadata={"format": "pt"})
        names.append(name)
        weight_map.update(dict.fromkeys(pending, name))
        pending, pending_bytes = {}, 0

    for name, tensor in tensors:
        size = tensor.numel() * tensor.element_size()
        if pending and pending_bytes + size > shard_bytes:
            flush()
        pending[name] = tensor
        pending_bytes += size
        report.bytes_out += size
    flush()
    report.shards = len(names)
    if len(names) == 1:
        (dst / names[0]).rename(dst / "model.safetensors")
        return
    total = {"metadata": {"total_size": report.bytes_out}, "weight_map": dict(sorted(weight_map.items()))}
    (dst / "model.safetensors.index.json").write_text(json.dumps(total, indent=2) + "\n")


def quantize_checkpoint(src: str | Path, dst: str | Path, scheme: str = "w8a8",
                        group_size: int = DEFAULT_GROUP_SIZE, shard_gib: float = 1.0,
                        dtype: str = "bfloat16") -> Report:
    """Quantize SRC into DST; `dtype` is what the unquantized tensors (and vLLM's activations) become:
    `bfloat16` (the default, what LFM2 ships in, and what vLLM's AMX int8 kernel needs), `float16`,
    or `keep`."""
    src, dst = Path(src), Path(dst)
    config = json.loads((src / "config.json").read_text())
    if config.get("quantization_config"):
        raise SystemExit(f"lfm2-quantize: {src} is already quantized ({config['quantization_config'].get('format')})")
    if config.get("model_type") != "lfm2":
        raise SystemExit(f"lfm2-quantize: {src} is not an LFM2 checkpoint (model_type {config.get('model_type')!r})")
    if scheme not in SCHEMES or dtype not in DTYPES:
        raise SystemExit(f"lfm2-quantize: scheme {scheme!r} / dtype {dtype!r}: one of {SCHEMES} / {DTYPES}")
    if dst.exists() and any(dst.iterdir()):
        raise SystemExit(f"lfm2-quantize: {dst} exists and is not empty")
    dst.mkdir(parents=True, exist_ok=True)
    for path in sorted(src.iterdir()):
        if path.is_file() and path.suffix != ".safetensors" and path.name not in _WEIGHT_FILES:
            shutil.copy2(path, dst / path.name)
    config["quantization_config"] = quantization_config(scheme, group_size)
    if dtype != "keep":
        config["dtype"] = dtype
        config.pop("torch_dtype", None)
    (dst / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    report = Report()
    cast = None if dtype == "keep" else getattr(torch, dtype)
    write_shards(converted_tensors(src, scheme, group_size, cast, report), dst, int(shard_gib * 2**30), report)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="lfm2-quantize", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", help="an LFM2 checkpoint directory (safetensors)")
    parser.add_argument("dst", help="the directory to write (new or empty)")
    parser.add_argument("--scheme", choices=SCHEMES, default="w8a8")
    parser.add_argument("--group-size", type=int, default=DEFAULT_GROUP_SIZE, help="w4a16 only")
    parser.add_argument("--shard-gib", type=float, default=1.0, help="largest output shard")
    parser.add_argument("--dtype", choices=DTYPES, default="bfloat16",
                        help="what the unquantized tensors become (vLLM's int8 kernel on AMX CPUs needs bf16)")
    args = parser.parse_args(argv)
    report = quantize_checkpoint(args.src, args.dst, args.scheme, args.group_size, args.shard_gib, args.dtype)
    print(f"lfm2-quantize: {args.scheme}: {report.quantized} layers quantized, {report.kept} tensors kept; "
          f"{report.bytes_in / 1e9:.2f} GB -> {report.bytes_out / 1e9:.2f} GB in {report.shards} shard(s) "
          f"at {args.dst}", file=sys.stderr)


if __name__ == "__main__":
    main()
