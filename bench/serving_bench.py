"""Gateway vs bare vLLM on the same model, engine arguments and machine, run alternately.

    python bench/serving_bench.py                       # tiny model, both loads, concurrency 1,8,32,64
    python bench/serving_bench.py --loads plain --concurrency 32 --reps 3
    python bench/serving_bench.py --profile             # also py-spy the gateway at concurrency 32

Starts `lfm2-serve` and vLLM's own OpenAI server (`--tool-call-parser lfm2`) side by side (see
`servers.py`), then for every load and concurrency runs each server in turn, swapping who goes first
on every repetition so background noise hits both alike, with a 1.5 s pause before each turn
(`servers.settle`: the other engine's idle spin ends). Loads (`workloads.py`):

- `plain`: streaming chat, exactly `--tokens` output tokens (`min_tokens` = `max_tokens`, `ignore_eos`).
- `tool`: every answer a forced LFM2 tool call with a 2-4 KB string argument, streamed.

Per server it prints requests/s, output tokens/s, TTFT p50/p95, inter-token latency p50/p99 (client
side), the p99 event-loop lag of the server (its own probe, `lfm2_event_loop_lag_seconds`), CPU
time per request of the API process and of the engine processes, and for `tool` how many calls
came back exactly as forced; then the gateway / vLLM ratio. First, per cell, the median over
repetitions of the paired ratios (each repetition runs both servers back to back) of requests/s and
TTFT p50 with their min-max spread; a spread that crosses 1.0 is marked parity. `--json` keeps the
raw numbers.
Not a test: numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import loadgen
import workloads
from report import header, uptime
from servers import Server, histogram_quantile, histogram_sum, running, settle, variant

LAG = "lfm2_event_loop_lag_seconds"
PARSE = "lfm2_tool_parse_seconds"
RATIO_KEYS = ("tok_s", "ttft_p50", "ttft_p95", "itl_p50", "itl_p99", "lag_p99", "api_cpu_ms", "engine_cpu_ms")


@dataclass
class Cell:
    """Everything measured for one (load, concurrency, server), summed over repetitions."""

    requests: int = 0
    errors: int = 0
    wall: float = 0.0
    tokens: int = 0
    ttft: list[float] = field(default_factory=list)
    ttfc: list[float] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)
    api_cpu: float = 0.0
    engine_cpu: float = 0.0
    calls_ok: int = 0
    run_req_s: list[float] = field(default_factory=list)  # each run's own requests/s
    run_ttft_p50: list[float | None] = field(default_factory=list)  # each run's own TTFT p50
    lag_before: list[dict[str, float]] = field(default_factory=list)
    lag_after: list[dict[str, float]] = field(default_factory=list)
    first_error: str = ""

    def lag_p99(self) -> float | None:
        before, after = self._lag_buckets()
        return histogram_quantile(before, after, LAG, 0.99)

    def lag_max(self) -> float | None:
        """Upper bound of the highest lag bucket that got an observation."""
        before, after = self._lag_buckets()
        return histogram_quantile(before, after, LAG, 1.0)

    def _lag_buckets(self) -> tuple[dict[str, float], dict[str, float]]:
        before: dict[str, float] = {}
        after: dict[str, float] = {}
        for b, a in zip(self.lag_before, self.lag_after, strict=True):
            for key, value in a.items():
                if key.startswith(LAG + "_bucket"):
                    after[key] = after.get(key, 0.0) + value
                    before[key] = before.get(key, 0.0) + b.get(key, 0.0)
        return before, after

    def parse_ms(self) -> float | None:
        total = count = 0.0
        for b, a in zip(self.lag_before, self.lag_after, strict=True):
            s, c = histogram_sum(b, a, PARSE)
            total += s
            count += c
        return 1000 * total / count if count else None

    def summary(self) -> dict[str, Any]:
        ok = self.requests
        return {
            "requests": ok,
            "errors": self.errors,
            "req_s": ok / self.wall if self.wall else None,
            "req_s_median": loadgen.percentile(self.run_req_s, 0.5),
            "req_s_runs": [round(x, 3) for x in self.run_req_s],
            "ttft_p50_runs": self.run_ttft_p50,
            "tok_s": self.tokens / self.wall if self.wall else None,
            "ttft_p50": loadgen.percentile(self.ttft, 0.5),
            "ttft_p95": loadgen.percentile(self.ttft, 0.95),
            "ttfc_p50": loadgen.percentile(self.ttfc, 0.5),
            "itl_p50": loadgen.percentile(self.gaps, 0.5),
            "itl_p99": loadgen.percentile(self.gaps, 0.99),
            "lag_p99": self.lag_p99(),
            "lag_max": self.lag_max(),
            "api_cpu_ms": 1000 * self.api_cpu / ok if ok else None,
            "engine_cpu_ms": 1000 * self.engine_cpu / ok if ok else None,
            "parse_ms": self.parse_ms(),
            "chunks_per_req": (len(self.gaps) + len(self.ttft)) / ok if ok else None,
            "calls_ok": self.calls_ok,
            "first_error": self.first_error,
        }


def make_body(load: str, model: str, args: argparse.Namespace, bias: dict[str, float]) -> Any:
    if load == "plain":
        body = workloads.plain(model, args.tokens, bias)
        return lambda i: body
    sizes = workloads.TOOL_SIZES
    bodies = [workloads.tool(model, size, args.tool_max_tokens) for size in sizes]
    return lambda i: bodies[i % len(sizes)]


def requests_for(load: str, concurrency: int, args: argparse.Namespace) -> int:
    per_client = args.requests_per_client if load == "plain" else args.tool_requests_per_client
    return max(concurrency * per_client, args.min_requests if load == "plain" else 3)


def measure(server: Server, load: str, concurrency: int, args: argparse.Namespace, bias: dict[str, float],
            cell: Cell) -> None:
    n = requests_for(load, concurrency, args)
    before = server.metrics()
    cpu0 = server.cpu_seconds()
    run = asyncio.run(loadgen.run(server.base + "/v1/chat/completions",
                                  make_body(load, server.spec.served_name, args, bias),
                                  concurrency=concurrency, requests=n))
    cpu1 = server.cpu_seconds()
    after = server.metrics()
    cell.lag_before.append(before)
    cell.lag_after.append(after)
    cell.wall += run.wall
    cell.run_req_s.append(len(run.ok) / run.wall)
    cell.run_ttft_p50.append(loadgen.percentile([r.ttft for r in run.ok if r.ttft is not None], 0.5))
    cell.api_cpu += cpu1[0] - cpu0[0]
    cell.engine_cpu += cpu1[1] - cpu0[1]
    for r in run.results:
        if not r.ok:
            cell.errors += 1
            cell.first_error = cell.first_error or r.error
            continue
        cell.requests += 1
        cell.tokens += r.completion_tokens
        if r.ttft is not None:
            cell.ttft.append(r.ttft)
        if r.ttfc is not None:
            cell.ttfc.append(r.ttfc)
        cell.gaps.extend(r.gaps)
        if load == "tool" and workloads.call_ok(r.calls, workloads.TOOL_SIZES[r.index % len(workloads.TOOL_SIZES)]):
            cell.calls_ok += 1


def warm_up(servers: list[Server], args: argparse.Namespace, bias: dict[str, float]) -> None:
    for server in servers:
        for load in args.loads:
            n = 2 if load == "plain" else len(workloads.TOOL_SIZES)
            asyncio.run(loadgen.run(server.base + "/v1/chat/completions",
                                    make_body(load, server.spec.served_name, args, bias), concurrency=n,
                                    requests=n))


def profile(server: Server, load: str, args: argparse.Namespace, bias: dict[str, float], out: Path) -> Path:
    """py-spy (native frames, per thread) the API process through one run at concurrency 32; returns the
    collapsed stacks, for `profile_summary.py --thread MainThread`."""
    stacks = out / f"profile-{server.spec.name}-{load}.txt"
    spy = subprocess.Popen([args.py_spy, "record", "--pid", str(server.pid), "--rate", "50", "--native",
                            "--threads", "--format", "raw", "--output", str(stacks)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    measure(server, load, 32, args, bias, Cell())
    spy.send_signal(2)  # SIGINT: py-spy writes what it has and exits
    spy.wait(60)
    return stacks


def fmt(value: Any, scale: float = 1.0, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value * scale:.{digits}f}"


def ratio(a: Any, b: Any) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def paired(a: list[float | None], b: list[float | None]) -> str:
    """The median of the per-repetition ratios a[i] / b[i] with their min-max; a spread that crosses 1.0
    is parity, however the median falls."""
    ratios = sorted(x / y for x, y in zip(a, b, strict=False) if x and y)
    if not ratios:
        return "-"
    mid = len(ratios) // 2
    med = ratios[mid] if len(ratios) % 2 else (ratios[mid - 1] + ratios[mid]) / 2
    verdict = " parity" if ratios[0] <= 1.0 <= ratios[-1] else ""
    return f"{med:.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f}){verdict}"


def ratio_table(loads: list[str], results: dict[tuple[str, int, str], dict[str, Any]], names: list[str],
                concurrency: list[int]) -> str:
    """Per cell: the median over repetitions of the first server's / the second's requests/s and TTFT p50
    (each repetition ran both, back to back), with the min-max spread."""
    lines = [f"| load | conc | req/s {names[0]}/{names[1]} median (min-max) | TTFT p50 {names[0]}/{names[1]} |",
             "|---|---|---|---|"]
    for load in loads:
        for c in concurrency:
            g, v = (results[(load, c, n)] for n in names[:2])
            lines.append(f"| {load} | {c} | {paired(g['req_s_runs'], v['req_s_runs'])} | "
                         f"{paired(g['ttft_p50_runs'], v['ttft_p50_runs'])} |")
    return "\n".join(lines)


def table(load: str, results: dict[tuple[str, int, str], dict[str, Any]], names: list[str],
          concurrency: list[int]) -> str:
    head = ("| conc | server | req/s | req/s median of runs | out tok/s | TTFT p50 ms | TTFT p95 ms | ITL p50 ms "
            "| ITL p99 ms | loop lag p99 / max ms | API CPU ms/req | engine CPU ms/req | errors |"
            + (" calls ok | first call fragment p50 ms |" if load == "tool" else ""))
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for c in concurrency:
        for name in names:
            s = results[(load, c, name)]
            calls = (f" {s['calls_ok']}/{s['requests'] + s['errors']} | {fmt(s.get('ttfc_p50'), 1000)} |"
                     if load == "tool" else "")
            lines.append(f"| {c} | {name} | {fmt(s['req_s'], digits=2)} | {fmt(s['req_s_median'], digits=2)} | "
                         f"{fmt(s['tok_s'])} | "
                         f"{fmt(s['ttft_p50'], 1000)} | {fmt(s['ttft_p95'], 1000)} | {fmt(s['itl_p50'], 1000, 2)} | "
                         f"{fmt(s['itl_p99'], 1000)} | {fmt(s['lag_p99'], 1000)} / {fmt(s.get('lag_max'), 1000, 0)} | "
                         f"{fmt(s['api_cpu_ms'])} | "
                         f"{fmt(s['engine_cpu_ms'])} | {s['errors']} |{calls}")
        if len(names) >= 2:
            g, v = (results[(load, c, n)] for n in names[:2])
            cells = [f"**{ratio(g['req_s'], v['req_s'])}**", f"**{ratio(g['req_s_median'], v['req_s_median'])}**"]
            cells += [ratio(g[k], v[k]) for k in RATIO_KEYS]
            lines.append(f"| {c} | **{names[0]}/{names[1]}** | " + " | ".join(cells) + " | |"
                         + (f" | {ratio(g.get('ttfc_p50'), v.get('ttfc_p50'))} |" if load == "tool" else ""))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny", help="model directory, or 'tiny' (built locally)")
    parser.add_argument("--max-model-len", type=int, default=8192)
    parser.add_argument("--loads", default="plain,tool", type=lambda s: s.split(","))
    parser.add_argument("--concurrency", default="1,8,32,64", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--servers", default="gateway,vllm", type=lambda s: s.split(","),
                        help="gateway, vllm, gateway-untuned, vllm-tuned (first two are compared)")
    parser.add_argument("--tokens", type=int, default=64, help="output tokens per plain request")
    parser.add_argument("--tool-max-tokens", type=int, default=6000)
    parser.add_argument("--reps", type=int, default=5, help="runs per server and cell, alternating order")
    parser.add_argument("--requests-per-client", type=int, default=4)
    parser.add_argument("--tool-requests-per-client", type=int, default=1)
    parser.add_argument("--min-requests", type=int, default=16)
    parser.add_argument("--kv-gib", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="py-spy the API processes at concurrency 32")
    parser.add_argument("--py-spy", default="py-spy")
    parser.add_argument("--out", default="/tmp/lfm2-bench", help="logs, profiles and --json go here")
    parser.add_argument("--json", default=None, help="write raw results to this file")
    args = parser.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_dir = workloads.model_path(args.model)
    bias = workloads.word_bias(model_dir)
    specs = [variant(name, model_dir, "bench", args.max_model_len, args.kv_gib) for name in args.servers]
    servers = [Server(spec, out) for spec in specs]
    names = [s.spec.name for s in servers]
    started = time.time()
    loads = [uptime()]
    results: dict[tuple[str, int, str], dict[str, Any]] = {}
    profiles: list[Path] = []
    with running(servers):
        print(f"# servers ready in {time.time() - started:.0f}s; logs in {out}", flush=True)
        warm_up(servers, args, bias)
        for load in args.loads:
            for c in args.concurrency:
                cells = {name: Cell() for name in names}
                for rep in range(args.reps):
                    order = servers if rep % 2 == 0 else servers[::-1]
                    for s in order:
                        settle()
                        measure(s, load, c, args, bias, cells[s.spec.name])
                for name in names:
                    results[(load, c, name)] = cells[name].summary()
                    print(f"# {load} c={c} {name}: {json.dumps(results[(load, c, name)])}", flush=True)
            if args.profile:
                profiles += [profile(s, load, args, bias, out) for s in servers]
        loads.append(uptime())

    header("Serving benchmark", f"model {model_dir}; {args.reps} alternating runs per cell",
           loads=(loads[0], loads[-1]))
    if len(names) >= 2:
        print(ratio_table(args.loads, results, names, args.concurrency))
        print()
    for load in args.loads:
        print(f"### {load}\n")
        print(table(load, results, names, args.concurrency))
        print()
    for p in profiles:
        print(f"profile: {p} (python bench/profile_summary.py {p} --thread MainThread)")
    if args.json:
        Path(args.json).write_text(json.dumps({f"{k[0]}|{k[1]}|{k[2]}": v for k, v in results.items()}, indent=1))


if __name__ == "__main__":
    main()
