"""CPU decode speed by weight format at the LFM2-2.6B shape: the gateway and offline vLLM on bf16, W8A8
and W4A16 checkpoints (written by `lfm2-quantize`), and llama.cpp's rows if `bench/llama_cpp_bench.py`
measured them.

    python bench/cpu_quant_bench.py [--rows gateway-bf16,offline-bf16,gateway-w8a8,offline-w8a8]
                                    [--batches 1,4] [--tokens 64] [--reps 5] [--cycles 1]
                                    [--llama-cpp /tmp/lfm2-bench/llama-cpp.json]

The checkpoint is `real_size_bench.py`'s LFM2-2.6B shape with random bf16 weights written to disk
(5.1 GB; lfm2-quantize and GGUF conversion need real tensors), quantized once to W8A8 and W4A16.
A row is a server (`gateway-<format>`: `lfm2-serve` as shipped, streamed through HTTP) or the engine
alone (`offline-<format>`: `bench/offline_vllm.py`, `vllm.LLM` in a process with the threads, preloads
and KV size the gateway's launcher would give it). One row runs at a time (two 2.6B engines do not fit
next to each other on a small machine), in turn, `--cycles` times, the order reversed every cycle.
Each batch size is measured `--reps` times per start: median, min-max. Decode tokens/s leaves the
first token out. For gateway rows a probe asks `/health` every 100 ms during decode; the table gives
its slowest answer (`--no-probes` turns it and the gateway's event-loop lag probe off, to see what they
cost).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import loadgen
import workloads
from real_size_bench import make_model_dir, write_random_weights
from servers import BENCH, ROOT, Server, variant

FORMATS = ("bf16", "w8a8", "w4a16")


def checkpoints(out: Path, formats: set[str]) -> dict[str, Path]:
    bf16 = make_model_dir(out, "lfm2-2.6b-random")
    t0 = time.monotonic()
    write_random_weights(bf16)
    print(f"# random bf16 weights at {bf16} ({time.monotonic() - t0:.0f} s)", flush=True)
    dirs = {"bf16": bf16}
    for scheme in sorted(formats - {"bf16"}):
        from server.checkpoints.quantize import quantize_checkpoint

        target = out / f"lfm2-2.6b-{scheme}"
        if not (target / "config.json").exists():
            t0 = time.monotonic()
            report = quantize_checkpoint(bf16, target, scheme)
            print(f"# lfm2-quantize {scheme}: {report.bytes_in / 1e9:.2f} GB -> {report.bytes_out / 1e9:.2f} GB "
                  f"({time.monotonic() - t0:.0f} s)", flush=True)
        dirs[scheme] = target
    return dirs


def weight_bytes(model_dir: Path) -> int:
    return sum(p.stat().st_size for p in model_dir.glob("*.safetensors"))


async def _decode(server: Server, batch: int, tokens: int, bias: dict[str, float],
                  probes: bool = True) -> tuple[float, float]:
    body = workloads.plain(server.spec.served_name, tokens, bias)
    stop, health = asyncio.Event(), list[float]()
    probe = asyncio.create_task(loadgen.health_probe(server.base, stop, health) if probes else stop.wait())
    run = await loadgen.run(server.base + "/v1/chat/completions", lambda i: body, concurrency=batch, requests=batch)
    stop.set()
    await probe
    if len(run.ok) != batch:
        raise RuntimeError(f"{server.spec.name}: {[r.error for r in run.results if not r.ok]}")
    return sum((r.completion_tokens - 1) / sum(r.gaps) for r in run.ok if r.gaps), max(health, default=0.0)


def gateway_row(model_dir: Path, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    spec = variant("gateway", str(model_dir), "lfm2", args.max_model_len, args.kv_gib)
    if not args.probes:
        spec.env["LFM2_LOOP_LAG_PROBE"] = "0"
    server = Server(spec, out)
    server.start()
    try:
        server.wait_ready(1800)
        bias = workloads.word_bias(str(model_dir))
        asyncio.run(_decode(server, 1, 4, bias))  # warm-up
        runs: dict[int, list[float]] = {b: [] for b in args.batches}
        health: list[float] = []
        for _ in range(args.reps):
            for batch in args.batches:
                tok_s, slowest = asyncio.run(_decode(server, batch, args.tokens, bias, args.probes))
                runs[batch].append(tok_s)
                health.append(slowest)
                print(f"# gateway {model_dir.name} batch {batch}: {tok_s:.2f} tok/s", flush=True)
    finally:
        server.stop()
    return {"runs": runs, "health_max_s": max(health, default=0.0)}


def offline_row(model_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    from server.ops import cpu_tuning

    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": str(args.kv_gib)}
    if cpu_tuning.enabled():  # what the gateway's launcher would set
        plan = cpu_tuning.plan()
        if plan.preload:
            env["LD_PRELOAD"] = ":".join([*plan.preload, *filter(None, os.environ.get("LD_PRELOAD", "").split(":"))])
        if plan.bind:
            env[cpu_tuning.BIND] = plan.bind
    cmd = [sys.executable, str(BENCH / "offline_vllm.py"), str(model_dir), "--batches",
           ",".join(map(str, args.batches)), "--tokens", str(args.tokens), "--reps", str(args.reps),
           "--max-model-len", str(args.max_model_len)]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    lines = [x for x in result.stdout.splitlines() if x.startswith("OFFLINE ")]
    if not lines:
        raise RuntimeError(f"offline {model_dir.name} failed:\n{result.stderr[-3000:]}")
    data = json.loads(lines[-1].removeprefix("OFFLINE "))
    for batch, values in data["runs"].items():  # printed at once, so a run cut short keeps them
        print(f"# offline {model_dir.name} batch {batch}: " + ", ".join(f"{v:.2f}" for v in values) + " tok/s",
              flush=True)
    return {"runs": {int(b): v for b, v in data["runs"].items()}, "health_max_s": None}


def cell(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="gateway-bf16,offline-bf16,gateway-w8a8,offline-w8a8",
                        type=lambda s: s.split(","))
    parser.add_argument("--batches", default="1,4", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--cycles", type=int, default=1)
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--kv-gib", type=int, default=1)
    parser.add_argument("--out", default="/tmp/lfm2-bench/quant")
    parser.add_argument("--llama-cpp", default=None, help="JSON written by bench/llama_cpp_bench.py --json")
    parser.add_argument("--json", default=None)
    parser.add_argument("--no-probes", dest="probes", action="store_false",
                        help="gateway rows without the /health probe and the event-loop lag probe")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = [r.partition("-") for r in args.rows]
    if bad := [f"{k}-{f}" for k, _, f in rows if k not in ("gateway", "offline") or f not in FORMATS]:
        raise SystemExit(f"unknown rows {bad}: gateway-<format> or offline-<format>, format in {FORMATS}")
    dirs = checkpoints(out, {f for _, _, f in rows})
    load = os.getloadavg()
    results: dict[str, list[dict[str, Any]]] = {}
    for cycle in range(args.cycles):
        for kind, _, fmt in rows if cycle % 2 == 0 else rows[::-1]:
            row = gateway_row(dirs[fmt], args, out) if kind == "gateway" else offline_row(dirs[fmt], args)
            results.setdefault(f"{kind}-{fmt}", []).append(row)
    load_after = os.getloadavg()

    print(f"\n## CPU decode by weight format, LFM2-2.6B shape, random weights ({datetime.date.today()}, "
          f"{platform.node()}, {os.cpu_count()} CPUs)\n")
    print(f"`{' '.join(sys.argv)}`; {args.tokens} tokens per request, {args.reps} runs per batch per start, "
          f"{args.cycles} start(s) per row; load average before {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, "
          f"after {load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f}\n")
    batches = args.batches
    print("| row | weights on disk | " + " | ".join(f"batch {b} tok/s median (min-max)" for b in batches)
          + " | " + " | ".join(f"vs offline, batch {b}" for b in batches) + " | slowest /health ms |")
    print("|---|---|" + "---|" * (2 * len(batches) + 1))
    medians: dict[tuple[str, int], float] = {}
    for name, starts in results.items():
        for b in batches:
            medians[(name, b)] = statistics.median([v for s in starts for v in s["runs"][b]])
    for name, starts in results.items():
        fmt = name.partition("-")[2]
        values = {b: [v for s in starts for v in s["runs"][b]] for b in batches}
        ratios = []
        for b in batches:
            base = medians.get((f"offline-{fmt}", b))
            ratios.append(f"{medians[(name, b)] / base:.2f}x" if base and name.startswith("gateway") else "")
        health = [s["health_max_s"] for s in starts if s["health_max_s"] is not None]
        slowest = f"{1000 * max(health):.0f}" if health else ""
        print(f"| {name} | {weight_bytes(dirs[fmt]) / 1e9:.2f} GB | " + " | ".join(cell(values[b]) for b in batches)
              + " | " + " | ".join(ratios) + f" | {slowest} |")
    if args.llama_cpp and Path(args.llama_cpp).exists():
        for row in json.loads(Path(args.llama_cpp).read_text())["rows"]:
            print(f"| llama.cpp {row['type']} | {row['size_gib']:.2f} GiB | "
                  + " | ".join(cell(row["tok_s"].get(str(b), [])) for b in batches) + " |" * (len(batches) + 1))
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results}, default=str))


if __name__ == "__main__":
    main()
