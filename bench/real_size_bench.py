"""Real model size: the LFM2-2.6B shape with random weights, decode speed against the memory bound.

    python bench/real_size_bench.py [--servers gateway,vllm,gateway-untuned] [--batches 1,4] [--tokens 32]
                                    [--cycles 2] [--reps 2]

Writes a config-only checkpoint with LFM2-2.6B's shape (30 layers, attention at 2, 5, 9, 13, 17, 21,
24, 27, hidden 2048, FFN 10752, 32 heads, 8 KV heads, vocab 65,536, bf16; the tiny model's tokenizer)
and serves it with vLLM's dummy load format (random weights, nothing downloaded). Servers run one at
a time (two 2.6B engines do not fit next to each other on a small machine) and in turn, `--cycles`
times, so slow drifts in background load hit each alike. For each batch size it sends that many
streaming requests at once, each exactly `--tokens` tokens long, and reports decode tokens/s (after
the first token) summed over the batch, per-request speed and TTFT.

The bound: a decode step reads every weight once whatever the batch (tied embeddings: the 65,536 x
2,048 matrix is read as the LM head), so tokens/s <= batch x bandwidth / weight bytes. The script
measures read bandwidth itself (torch sum over 1 GiB, best of 5) with 1 thread, cores - 1 and all
cores, and bounds each server by the bandwidth of the OpenMP threads it bound (read from vLLM's start-up
log). Server variants (`bench/servers.py`): `gateway` (the launcher as shipped: tcmalloc and Intel
OpenMP preloaded, and on fewer than 4 cores OpenMP on every core), `gateway-untuned` (LFM2_CPU_TUNING=0),
`gateway-reserve` / `gateway-allcores` (one core left to the server / none), `vllm` (vLLM's own server,
its defaults), `vllm-tuned`, `vllm-allcores`, and `offline`: the engine alone (`vllm.LLM` through
`bench/offline_vllm.py`, the threads, preloads and KV size the gateway's launcher would give it), the
rate the gateway's serving path is read against (its TTFT column is empty: it is not streamed).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import loadgen
import workloads
from offline_vllm import OfflineEngine
from servers import Server, variant

ATTENTION_LAYERS = (2, 5, 9, 13, 17, 21, 24, 27)
SHAPE = {"hidden_size": 2048, "intermediate_size": 10752, "num_hidden_layers": 30, "num_attention_heads": 32,
         "num_key_value_heads": 8, "vocab_size": 65536, "conv_L_cache": 3}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json")


def make_model_dir(out: Path, name: str = "lfm2-2.6b-shape") -> Path:
    """A config-only LFM2-2.6B-shaped checkpoint (no weights: serve it with `load_format: dummy`, or add
    random ones with `write_random_weights`)."""
    from server.checkpoints.tiny_model import ensure_tiny_model

    target = out / name
    target.mkdir(parents=True, exist_ok=True)
    tiny = ensure_tiny_model()
    for name in TOKENIZER_FILES:
        if (tiny / name).exists():
            shutil.copy(tiny / name, target / name)
    layers = SHAPE["num_hidden_layers"]
    config = {
        "architectures": ["Lfm2ForCausalLM"],
        "model_type": "lfm2",
        **SHAPE,
        "layer_types": ["full_attention" if i in ATTENTION_LAYERS else "conv" for i in range(layers)],
        "block_auto_adjust_ff_dim": False,
        "block_ffn_dim_multiplier": 1.0,
        "block_multiple_of": 256,
        "block_dim": SHAPE["hidden_size"],
        "conv_dim": SHAPE["hidden_size"],
        "conv_bias": False,
        "norm_eps": 1e-5,
        "rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"},
        "max_position_embeddings": 128000,
        "tie_word_embeddings": True,
        "bos_token_id": 1,
        "eos_token_id": 7,
        "pad_token_id": 0,
        "dtype": "bfloat16",
        "use_cache": True,
    }
    (target / "config.json").write_text(json.dumps(config, indent=1))
    (target / "generation_config.json").write_text(json.dumps({"bos_token_id": 1, "eos_token_id": 7,
                                                               "pad_token_id": 0}))
    return target


def weight_shapes() -> dict[str, tuple[int, ...]]:
    """Every tensor of an LFM2-2.6B checkpoint, under the names Liquid's safetensors use."""
    h, f, v = SHAPE["hidden_size"], SHAPE["intermediate_size"], SHAPE["vocab_size"]
    head_dim = h // SHAPE["num_attention_heads"]
    kv = SHAPE["num_key_value_heads"] * head_dim
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (v, h), "model.embedding_norm.weight": (h,)}
    for i in range(SHAPE["num_hidden_layers"]):
        p = f"model.layers.{i}."
        if i in ATTENTION_LAYERS:
            shapes |= {p + "self_attn.q_proj.weight": (h, h), p + "self_attn.k_proj.weight": (kv, h),
                       p + "self_attn.v_proj.weight": (kv, h), p + "self_attn.out_proj.weight": (h, h),
                       p + "self_attn.q_layernorm.weight": (head_dim,), p + "self_attn.k_layernorm.weight": (head_dim,)}
        else:
            shapes |= {p + "conv.conv.weight": (h, 1, SHAPE["conv_L_cache"]), p + "conv.in_proj.weight": (3 * h, h),
                       p + "conv.out_proj.weight": (h, h)}
        shapes |= {p + "feed_forward.w1.weight": (f, h), p + "feed_forward.w3.weight": (f, h),
                   p + "feed_forward.w2.weight": (h, f), p + "operator_norm.weight": (h,), p + "ffn_norm.weight": (h,)}
    return shapes


def write_random_weights(target: Path, shard_gib: float = 1.0, seed: int = 0) -> None:
    """Random bf16 weights for `make_model_dir`'s config (norms 1, the rest N(0, 0.02)), written shard by
    shard: what GGUF conversion and lfm2-quantize need where `load_format: dummy` will not do."""
    import torch
    from safetensors.torch import save_file

    if (target / "model.safetensors.index.json").exists():
        return
    torch.manual_seed(seed)
    weight_map: dict[str, str] = {}
    shard: dict[str, torch.Tensor] = {}
    size = 0
    names: list[str] = []

    def flush() -> None:
        nonlocal shard, size
        name = f"model-{len(names) + 1:05d}.safetensors"
        save_file(shard, str(target / name), metadata={"format": "pt"})
        names.append(name)
        weight_map.update(dict.fromkeys(shard, name))
        shard, size = {}, 0

    for key, shape in weight_shapes().items():
        tensor = (torch.ones(shape) if key.endswith("norm.weight") else torch.randn(shape) * 0.02).to(torch.bfloat16)
        if shard and size + tensor.numel() * 2 > shard_gib * 2**30:
            flush()
        shard[key] = tensor
        size += tensor.numel() * 2
    flush()
    index = {"metadata": {"total_size": sum(math.prod(s) * 2 for s in weight_shapes().values())},
             "weight_map": weight_map}
    (target / "model.safetensors.index.json").write_text(json.dumps(index, indent=1))


def parameter_count() -> int:
    """LFM2-2.6B's parameters from its shape (the model card says 2,569,272,320)."""
    h, f, v = SHAPE["hidden_size"], SHAPE["intermediate_size"], SHAPE["vocab_size"]
    head_dim = h // SHAPE["num_attention_heads"]
    kv = SHAPE["num_key_value_heads"] * head_dim
    ffn = 3 * h * f
    norms = 2 * h
    conv = h * 3 * h + h * SHAPE["conv_L_cache"] + h * h  # in_proj (B, C, x), depthwise conv, out_proj
    attention = 2 * h * h + 2 * h * kv + 2 * head_dim  # q, o, k, v, q/k layernorms
    n_attn = len(ATTENTION_LAYERS)
    n_conv = SHAPE["num_hidden_layers"] - n_attn
    return v * h + n_conv * (ffn + norms + conv) + n_attn * (ffn + norms + attention) + h


def read_bandwidth(threads: int, gib: float = 1.0, repeat: int = 5) -> float:
    """Bytes/s torch reads summing a `gib` GiB tensor with `threads` threads (best of `repeat`)."""
    code = f"""
import time, torch
torch.set_num_threads({threads})
x = torch.ones(int({gib} * 2**30 / 4), dtype=torch.float32)
best = float("inf")
for _ in range({repeat} + 1):
    t0 = time.perf_counter()
    x.sum()
    best = min(best, time.perf_counter() - t0)
print(x.numel() * 4 / best)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def decode_run(server: Server, batch: int, tokens: int, bias: dict[str, float]) -> dict[str, Any]:
    body = workloads.plain(server.spec.served_name, tokens, bias)
    run = asyncio.run(loadgen.run(server.base + "/v1/chat/completions", lambda i: body, concurrency=batch,
                                  requests=batch))
    ok = run.ok
    if len(ok) != batch:
        raise RuntimeError(f"{server.spec.name}: {[r.error for r in run.results if not r.ok]}")
    per_request = [(r.completion_tokens - 1) / sum(r.gaps) for r in ok if r.gaps]
    return {"tok_s": sum(per_request), "per_request": per_request,
            "ttft": [r.ttft for r in ok if r.ttft is not None]}


def omp_threads(log: Path) -> int:
    """OpenMP threads the engine bound, from vLLM's start-up log line `core ids=[...]` (1 if absent)."""
    match = re.search(r"core ids=\[([0-9, ]*)\]", log.read_text(errors="replace"))
    return len([c for c in match.group(1).split(",") if c.strip()]) if match else 1


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="gateway,vllm,gateway-untuned", type=lambda s: s.split(","))
    parser.add_argument("--batches", default="1,4", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--cycles", type=int, default=2, help="times each server is started, in turn")
    parser.add_argument("--reps", type=int, default=2, help="runs per batch size per start")
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--kv-gib", type=int, default=1)
    parser.add_argument("--out", default="/tmp/lfm2-bench/real")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    model_dir = make_model_dir(out)
    params = parameter_count()
    weight_bytes = params * 2  # bf16
    cpus = len(os.sched_getaffinity(0))
    bw = {n: read_bandwidth(n) for n in sorted({1, max(1, cpus - 1), cpus})}
    print(f"# {params:,} parameters, {weight_bytes / 1e9:.2f} GB of bf16 weights read per decode step", flush=True)
    for n_threads, value in bw.items():
        print(f"# read bandwidth, {n_threads} thread(s): {value / 1e9:.1f} GB/s -> bound "
              f"{value / weight_bytes:.2f} tokens/s per sequence-step", flush=True)

    bias = workloads.word_bias(str(model_dir))
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    starts: dict[str, list[float]] = {}
    threads: dict[str, int] = {}
    for cycle in range(args.cycles):
        order = args.servers if cycle % 2 == 0 else args.servers[::-1]
        for name in order:
            engine: Server | OfflineEngine
            if name == "offline":
                engine = OfflineEngine(model_dir, out / "offline-2.6b-shape.log", args.max_model_len, args.kv_gib,
                                       load_format="dummy")
            else:
                engine = Server(variant(name, str(model_dir), "lfm2-2.6b-shape", args.max_model_len, args.kv_gib,
                                        engine_args={"load_format": "dummy"}), out)
            t0 = time.monotonic()
            engine.start()
            try:
                if isinstance(engine, Server):
                    engine.wait_ready(1800)
                    decode_run(engine, 1, 4, bias)  # warm-up
                else:
                    engine.wait_ready()  # it warms up itself
                starts.setdefault(name, []).append(time.monotonic() - t0)
                threads[name] = omp_threads(engine.log)
                for _ in range(args.reps):
                    for batch in args.batches:
                        if isinstance(engine, Server):
                            result = decode_run(engine, batch, args.tokens, bias)
                        else:
                            tok_s = engine.rate(batch, args.tokens)
                            result = {"tok_s": tok_s, "per_request": [tok_s / batch] * batch, "ttft": []}
                        runs.setdefault((name, batch), []).append(result)
                        print(f"# cycle {cycle} {name} batch {batch}: {result['tok_s']:.2f} tok/s", flush=True)
            finally:
                engine.stop()

    print(f"\n## Real size: LFM2-2.6B shape, dummy weights ({datetime.date.today()}, {platform.node()}, "
          f"{os.cpu_count()} CPUs)\n")
    print(f"`{' '.join(sys.argv)}`; {args.tokens} tokens per request; {args.cycles} starts per server, "
          f"{args.reps} runs per batch per start\n")
    print("| server | OpenMP threads | batch | decode tok/s (batch) | per request tok/s | TTFT ms | ms / step | "
          "bound tok/s (its threads) | % of bound | vs first server | start s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    first: dict[int, float] = {}
    for name in args.servers:
        for batch in args.batches:
            rs = runs.get((name, batch), [])
            tok_s = mean([r["tok_s"] for r in rs]) or 0.0
            per = mean([x for r in rs for x in r["per_request"]]) or 0.0
            ttft = mean([x for r in rs for x in r["ttft"]])
            first.setdefault(batch, tok_s)
            n = threads.get(name, 1)
            bound = batch * bw[max(k for k in bw if k <= n) if n >= 1 else 1] / weight_bytes
            ttft_ms = "" if ttft is None else f"{1000 * ttft:.0f}"
            print(f"| {name} | {n} | {batch} | {tok_s:.2f} | {per:.2f} | {ttft_ms} | "
                  f"{1000 / per if per else 0:.0f} | {bound:.2f} | {100 * tok_s / bound:.0f}% | "
                  f"{tok_s / first[batch]:.3f}x | {mean(starts.get(name, [])) or 0:.0f} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"bandwidth": bw, "params": params,
                                               "runs": {f"{k[0]}|{k[1]}": v for k, v in runs.items()}}))


if __name__ == "__main__":
    main()
