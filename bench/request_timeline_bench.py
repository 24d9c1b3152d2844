"""Where the time to the first tool-call fragment goes: a per-request timeline on the tool load.

    python bench/request_timeline_bench.py [--concurrency 8] [--reps 5] [--servers gateway,vllm]

Starts `lfm2-serve` and bare `vllm serve` side by side (see `servers.py`) and sends each, in turn and
alternating who goes first and pausing 1.5 s before each turn (`servers.settle`), the serving
benchmark's tool load (`workloads.tool`: a forced LFM2 call with
a 2-4 KB string argument, streamed) at `--concurrency`. The client times the first tool-call
fragment of every request (TTFC) on both servers. The gateway's access log line says, for every
request, when (ms after the HTTP request arrived) it was validated, rendered and tokenized, admitted,
when the engine's first output came back, when the first byte of the body, the first token and the first
call fragment went out (`timeline_ms`); the script prints each stage's median over each repetition's
requests, then the median (min-max) over repetitions. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import loadgen
import workloads
from report import header, spread, uptime
from servers import Server, running, settle, stop_servers_on_sigterm, variant

STAGES = ("validated", "rendered", "admitted", "first_output", "first_byte", "first_token", "first_call")


def timelines(log: Path, offset: int) -> tuple[list[dict[str, float]], int]:
    """The `timeline_ms` of chat requests logged after byte `offset`; and the new offset."""
    with log.open("rb") as f:
        f.seek(offset)
        data = f.read()
    rows = []
    for line in data.splitlines():
        if b'"timeline_ms"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("route") == "/v1/chat/completions":
            rows.append(record["timeline_ms"])
    return rows, offset + len(data)


def run_tool_load(server: Server, concurrency: int, max_tokens: int) -> list[loadgen.Result]:
    bodies = [workloads.tool(server.spec.served_name, size, max_tokens) for size in workloads.TOOL_SIZES]
    run = asyncio.run(loadgen.run(server.base + "/v1/chat/completions", lambda i: bodies[i % len(bodies)],
                                  concurrency=concurrency, requests=concurrency))
    failed = [r.error for r in run.results if not r.ok]
    if failed:
        raise RuntimeError(f"{server.spec.name}: {failed[0]}")
    return run.results


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--servers", default="gateway,vllm", type=lambda s: s.split(","))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=6000)
    parser.add_argument("--max-model-len", type=int, default=8192)
    parser.add_argument("--out", default="/tmp/lfm2-bench/timeline")
    args = parser.parse_args()
    stop_servers_on_sigterm()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_dir = workloads.model_path(args.model)
    servers = [Server(variant(n, model_dir, "bench", args.max_model_len, 1), out) for n in args.servers]
    ttfc: dict[str, list[float]] = {s.spec.name: [] for s in servers}  # per rep: median TTFC ms
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}  # per rep: the gateway's medians
    loads = [uptime()]
    with running(servers):
        for s in servers:
            run_tool_load(s, len(workloads.TOOL_SIZES), args.max_tokens)  # warm-up
        offsets = {s.spec.name: s.log.stat().st_size for s in servers}
        for rep in range(args.reps):
            for s in servers if rep % 2 == 0 else servers[::-1]:
                settle()
                results = run_tool_load(s, args.concurrency, args.max_tokens)
                firsts = [1000 * r.ttfc for r in results if r.ttfc is not None]
                ttfc[s.spec.name].append(median(firsts) or float("nan"))
                if s.spec.kind == "gateway":
                    rows, offsets[s.spec.name] = timelines(s.log, offsets[s.spec.name])
                    for stage in STAGES:
                        value = median([row[stage] for row in rows if stage in row])
                        if value is not None:
                            stages[stage].append(value)
            print(f"# rep {rep + 1}: " + ", ".join(f"{n} TTFC p50 {v[-1]:.0f} ms" for n, v in ttfc.items()),
                  flush=True)
        loads.append(uptime())

    header("Request timeline, tool load", f"model {model_dir}; concurrency {args.concurrency}; {args.reps} "
           "alternating repetitions; per repetition the median over its requests, then median (min-max) over "
           "repetitions", loads=(loads[0], loads[-1]))
    print("| measure | ms |\n|---|---|")
    for name, values in ttfc.items():
        print(f"| {name}: first call fragment, client side | {spread(values)} |")
    for stage in STAGES:
        print(f"| gateway timeline: {stage} | {spread(stages[stage])} |")
    names = list(ttfc)
    if len(names) >= 2:
        ratios = [a / b for a, b in zip(ttfc[names[0]], ttfc[names[1]], strict=True) if b]
        print(f"| {names[0]}/{names[1]} TTFC ratio per repetition | "
              f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) |")


if __name__ == "__main__":
    main()
