"""CPU decode speed by weight format at the LFM2-2.6B shape: the gateway and offline vLLM on bf16, W8A8
and W4A16 checkpoints (written by `lfm2-quantize`), and llama.cpp's rows if `bench/llama_cpp_bench.py`
measured them.

    python bench/cpu_quant_bench.py [--rows gateway-bf16+offline-bf16,gateway-w8a8+offline-w8a8]
                                    [--batches 1,4] [--tokens 64] [--reps 5] [--cycles 1]
                                    [--llama-cpp /tmp/lfm2-bench/llama-cpp.json] [--no-probes]

The checkpoint is `real_size_bench.py`'s LFM2-2.6B shape with random bf16 weights written to disk
(5.1 GB; lfm2-quantize and GGUF conversion need real tensors), quantized once to W8A8 and W4A16.
A row is a server (`gateway-<format>`: `lfm2-serve` as shipped, streamed through HTTP) or the engine
alone (`offline-<format>`: `bench/offline_vllm.py`, `vllm.LLM` in a process with the threads, preloads
and KV size the gateway's launcher would give it) or llama.cpp (`llamacpp-<type>`: `llama-bench` and
`llama-batched-bench` on the GGUF that `bench/llama_cpp_bench.py` built, run once per turn). Rows joined
by `+` run side by side and take turns, batch by batch, the order swapped every repetition, with
`servers.settle` before each turn, so their ratio is not a drift of the machine between two starts
(two 2.6B bf16 engines take about 15 GB); rows or groups split by `,` run one after the other, in
turn, `--cycles` times, the order reversed every cycle. Each batch size is measured
`--reps` times per start: median, min-max. Decode tokens/s leaves the first token out. For gateway
rows a probe asks `/health` every 100 ms during decode; the table gives its answers' median, 99th
percentile and slowest (`--no-probes` turns it and the gateway's event-loop lag probe off, to see what
they cost).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import llama_cpp_bench
import loadgen
import workloads
from offline_vllm import OfflineEngine
from real_size_bench import make_model_dir, write_random_weights
from servers import Server, settle, variant

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
                  probes: bool = True) -> tuple[float, list[float]]:
    body = workloads.plain(server.spec.served_name, tokens, bias)
    stop, health = asyncio.Event(), list[float]()
    probe = asyncio.create_task(loadgen.health_probe(server.base, stop, health) if probes else stop.wait())
    run = await loadgen.run(server.base + "/v1/chat/completions", lambda i: body, concurrency=batch, requests=batch)
    stop.set()
    await probe
    if len(run.ok) != batch:
        raise RuntimeError(f"{server.spec.name}: {[r.error for r in run.results if not r.ok]}")
    return sum((r.completion_tokens - 1) / sum(r.gaps) for r in run.ok if r.gaps), health


class Gateway:
    """`lfm2-serve` on one checkpoint, measured through HTTP."""

    def __init__(self, model_dir: Path, args: argparse.Namespace, out: Path) -> None:
        spec = variant("gateway", str(model_dir), "lfm2", args.max_model_len, args.kv_gib)
        if not args.probes:
            spec.env["LFM2_LOOP_LAG_PROBE"] = "0"
        self.server, self.model_dir, self.probes = Server(spec, out), model_dir, args.probes
        self.health: list[float] = []

    def start(self) -> None:
        self.server.start()

    def wait_ready(self) -> None:
        self.server.wait_ready(1800)
        self.bias = workloads.word_bias(str(self.model_dir))
        asyncio.run(_decode(self.server, 1, 4, self.bias))  # warm-up

    def rate(self, batch: int, tokens: int) -> float:
        tok_s, health = asyncio.run(_decode(self.server, batch, tokens, self.bias, self.probes))
        self.health += health
        return tok_s

    def stop(self) -> None:
        self.server.stop()


class LlamaCpp:
    """llama.cpp's own benchmarks on one GGUF type (built and converted by `bench/llama_cpp_bench.py`)."""

    def __init__(self, kind: str) -> None:
        self.bins = llama_cpp_bench.WORK / "build-noamx" / "bin"
        self.model = llama_cpp_bench.gguf_path(kind)
        self.threads = len(os.sched_getaffinity(0))

    def start(self) -> None:
        if not self.model.exists() or not (self.bins / "llama-bench").exists():
            raise SystemExit(f"{self.model} or {self.bins}: run bench/llama_cpp_bench.py first")

    def wait_ready(self) -> None:
        pass

    def rate(self, batch: int, tokens: int) -> float:
        if batch == 1:
            return llama_cpp_bench.batch1(self.bins, self.model, self.threads, tokens)
        return llama_cpp_bench.batched(self.bins, self.model, self.threads, tokens, batch)

    def stop(self) -> None:
        pass


Engine = Gateway | OfflineEngine | LlamaCpp


def measure(engines: dict[str, Engine], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Start the rows' engines side by side and take turns between them, batch by batch; the order is
    swapped every repetition and each turn starts after `servers.settle`."""
    try:
        for engine in engines.values():
            engine.start()
        for engine in engines.values():
            engine.wait_ready()
        runs: dict[str, dict[int, list[float]]] = {name: {b: [] for b in args.batches} for name in engines}
        names = list(engines)
        for rep in range(args.reps):
            for batch in args.batches:
                for name in names if rep % 2 == 0 else names[::-1]:
                    if len(engines) > 1:
                        settle()
                    runs[name][batch].append(engines[name].rate(batch, args.tokens))
                    print(f"# {name} batch {batch}: {runs[name][batch][-1]:.2f} tok/s", flush=True)
    finally:
        for engine in engines.values():
            engine.stop()
    return {name: {"runs": runs[name], "health_s": e.health if isinstance(e, Gateway) else None}
            for name, e in engines.items()}


def health_cell(samples: list[float]) -> str:
    if not samples:
        return ""
    ms = sorted(1000 * s for s in samples)
    p99 = ms[min(len(ms) - 1, math.ceil(0.99 * len(ms)) - 1)]
    return f"{statistics.median(ms):.0f} / {p99:.0f} / {ms[-1]:.0f}"


def cell(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="gateway-bf16+offline-bf16,gateway-w8a8+offline-w8a8",
                        type=lambda s: [group.split("+") for group in s.split(",")])
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
    turns: list[list[str]] = args.rows
    names = [n for group in turns for n in group]
    kinds = {n: n.partition("-")[::2] for n in names}
    if bad := [n for n, (k, f) in kinds.items() if not ((k in ("gateway", "offline") and f in FORMATS)
                                                       or (k == "llamacpp" and f))]:
        raise SystemExit(f"unknown rows {bad}: gateway-<format>, offline-<format> (format in {FORMATS}) "
                         "or llamacpp-<GGUF type>")
    dirs = checkpoints(out, {f for k, f in kinds.values() if k != "llamacpp"})
    side_by_side = {n: set(group) for group in turns for n in group}
    load = os.getloadavg()
    results: dict[str, list[dict[str, Any]]] = {}
    for cycle in range(args.cycles):
        for group in turns if cycle % 2 == 0 else turns[::-1]:
            engines: dict[str, Engine] = {}
            for name in group:
                kind, fmt = kinds[name]
                if kind == "llamacpp":
                    engines[name] = LlamaCpp(fmt)
                elif kind == "gateway":
                    engines[name] = Gateway(dirs[fmt], args, out)
                else:
                    engines[name] = OfflineEngine(dirs[fmt], out / f"offline-{fmt}.log", args.max_model_len,
                                                  args.kv_gib)
            for name, row in measure(engines, args).items():
                results.setdefault(name, []).append(row)
    load_after = os.getloadavg()

    print(f"\n## CPU decode by weight format, LFM2-2.6B shape, random weights ({datetime.date.today()}, "
          f"{platform.node()}, {os.cpu_count()} CPUs)\n")
    print(f"`{' '.join(sys.argv)}`; {args.tokens} tokens per request, {args.reps} runs per batch per start, "
          f"{args.cycles} start(s) per row, rows joined by + side by side, taking turns; "
          f"load average before {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}, "
          f"after {load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f}\n")
    batches = args.batches
    print("| row | weights on disk | " + " | ".join(f"batch {b} tok/s median (min-max)" for b in batches)
          + " | " + " | ".join(f"vs offline, batch {b} (per turn)" for b in batches)
          + " | /health ms during decode: median / p99 / slowest |")
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
            if not base or not name.startswith("gateway"):
                ratios.append("")
                continue
            ratio = f"{medians[(name, b)] / base:.2f}x"
            offline = [v for s in results[f"offline-{fmt}"] for v in s["runs"][b]]
            if f"offline-{fmt}" in side_by_side[name]:  # each turn has its offline partner
                paired = [g / o for g, o in zip(values[b], offline, strict=True)]
                ratio += f" ({min(paired):.2f}-{max(paired):.2f})"
            ratios.append(ratio)
        slowest = health_cell([h for s in starts for h in s["health_s"] or []])
        size = (f"{llama_cpp_bench.gguf_path(fmt).stat().st_size / 2**30:.2f} GiB"
                if name.startswith("llamacpp") else f"{weight_bytes(dirs[fmt]) / 1e9:.2f} GB")
        print(f"| {name} | {size} | " + " | ".join(cell(values[b]) for b in batches)
              + " | " + " | ".join(ratios) + f" | {slowest} |")
    if args.llama_cpp and Path(args.llama_cpp).exists():
        for row in json.loads(Path(args.llama_cpp).read_text())["rows"]:
            print(f"| llama.cpp {row['type']} | {row['size_gib']:.2f} GiB | "
                  + " | ".join(cell(row["tok_s"].get(str(b), [])) for b in batches) + " |" * (len(batches) + 1))
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results}, default=str))


if __name__ == "__main__":
    main()
