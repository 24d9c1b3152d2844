"""How finely each server streams: chunks per stream, the largest gap between chunks, and TTFT.

    python bench/stream_granularity_bench.py                      # tiny model, 500 tokens, 5 reps
    python bench/stream_granularity_bench.py --servers gateway,vllm,gateway-untuned --tokens 300

Starts `lfm2-serve` and bare `vllm serve` side by side on the same checkpoint and engine arguments
(see `servers.py`), then, alternating which goes first on every repetition and pausing 1.5 s before
each cell (`servers.settle`), sends each server one stream alone and then 8 streams at once. Every
request asks for exactly `--tokens` tokens of whole words (`ignore_eos`, `min_tokens`, a logit bias
towards word tokens), so every engine step decodes to text and a server that forwards each step sends
about one chunk per step (`--no-bias`: any token, and steps whose token ends inside a character send
nothing). A chunk is an SSE event that carries text. Per server it prints, as median (min-max) over
the repetitions (for 8 streams, over every stream of every repetition): content chunks per stream, the
largest gap between two chunks of a stream, and TTFT. Gaps depend on what else runs on the machine;
chunk counts much less. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import loadgen
import workloads
from report import header, spread, uptime
from servers import Server, running, settle, stop_servers_on_sigterm, variant


def stream_stats(result: loadgen.Result) -> dict[str, float]:
    return {"chunks": 1 + len(result.gaps) if result.ttft is not None else 0,
            "max_gap": max(result.gaps, default=0.0), "ttft": result.ttft or 0.0,
            "tokens": result.completion_tokens}


def measure(server: Server, concurrency: int, tokens: int, bias: dict[str, float]) -> list[dict[str, float]]:
    body = workloads.plain(server.spec.served_name, tokens, bias)
    run = asyncio.run(loadgen.run(server.base + "/v1/chat/completions", lambda i: body,
                                  concurrency=concurrency, requests=concurrency))
    failed = [r.error for r in run.results if not r.ok]
    if failed:
        raise RuntimeError(f"{server.spec.name}: {failed[0]}")
    return [stream_stats(r) for r in run.results]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny", help="model directory, or 'tiny' (built locally)")
    parser.add_argument("--servers", default="gateway,vllm", type=lambda s: s.split(","))
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--kv-gib", type=int, default=1)
    parser.add_argument("--no-bias", action="store_true",
                        help="let the random model pick any token (some decode to no text)")
    parser.add_argument("--out", default="/tmp/lfm2-bench/granularity")
    args = parser.parse_args()
    stop_servers_on_sigterm()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_dir = workloads.model_path(args.model)
    bias = {} if args.no_bias else workloads.word_bias(model_dir)
    servers = [Server(variant(name, model_dir, "bench", args.max_model_len, args.kv_gib), out)
               for name in args.servers]
    cells: dict[tuple[str, int], list[dict[str, float]]] = {}
    loads = [uptime()]
    with running(servers):
        for s in servers:  # warm-up: first requests compile grammars and fill caches
            measure(s, 2, 16, bias)
        for rep in range(args.reps):
            order = servers if rep % 2 == 0 else servers[::-1]
            for s in order:
                for c in (1, args.concurrency):
                    settle()
                    cells.setdefault((s.spec.name, c), []).extend(measure(s, c, args.tokens, bias))
            print(f"# rep {rep + 1}/{args.reps} done", flush=True)
        loads.append(uptime())

    header("Stream granularity", f"model {model_dir}; {args.tokens} tokens per stream; {args.reps} alternating "
           "repetitions", loads=(loads[0], loads[-1]))
    print("| server | streams at once | chunks per stream | largest gap ms | TTFT ms | tokens |")
    print("|---|---|---|---|---|---|")
    for c in (1, args.concurrency):
        for s in servers:
            rows = cells[(s.spec.name, c)]
            print(f"| {s.spec.name} | {c} | {spread([r['chunks'] for r in rows])} | "
                  f"{spread([r['max_gap'] for r in rows], 1000)} | {spread([r['ttft'] for r in rows], 1000)} | "
                  f"{spread([r['tokens'] for r in rows])} |")


if __name__ == "__main__":
    main()
