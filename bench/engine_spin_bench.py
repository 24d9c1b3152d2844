"""What vLLM's spinning shared-memory readers cost on a CPU: the gateway with them (`LFM2_ENGINE_SPIN_S=1`,
vLLM's own 1 s) against the gateway's default (readers nap, 20 µs to 1 ms at a time, instead of spinning;
server/engine/vllm_plugin.py).

    python bench/engine_spin_bench.py                                   # tiny model, 5 reps
    python bench/engine_spin_bench.py --model /path/to/lfm2-2.6b --tokens 24 --batches 1,4

Starts both gateways side by side on the same checkpoint and, alternating which goes first on every
repetition, streams `--tokens` tokens at each batch size while a probe asks `/health` every 100 ms. A
pause of `--pause` seconds before every cell lets the other server's readers stop spinning (with
vLLM's spin they run for a second after each request). Per server and batch it prints, as median
(min-max) over the repetitions: decode tokens/s (all streams together), TTFT, the largest gap between
two chunks of a stream, the slowest `/health` answer, and the engine processes' CPU seconds per
generated token. Not a test: numbers depend on the machine.
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
from servers import Server, ServerSpec, running, settle, stop_servers_on_sigterm

from server.engine.vllm_plugin import SPIN_ENV


async def _cell(server: Server, batch: int, tokens: int, bias: dict[str, float]) -> dict[str, float]:
    body = workloads.plain(server.spec.served_name, tokens, bias)
    stop, health = asyncio.Event(), list[float]()
    probe = asyncio.create_task(loadgen.health_probe(server.base, stop, health))
    engine_cpu = server.cpu_seconds()[1]
    run = await loadgen.run(server.base + "/v1/chat/completions", lambda i: body,
                            concurrency=batch, requests=batch)
    engine_cpu = server.cpu_seconds()[1] - engine_cpu
    stop.set()
    await probe
    failed = [r.error for r in run.results if not r.ok]
    if failed:
        raise RuntimeError(f"{server.spec.name}: {failed[0]}")
    generated = sum(r.completion_tokens for r in run.results)
    return {
        "rate": sum((r.completion_tokens - 1) / sum(r.gaps) for r in run.results if r.gaps),
        "ttft": max(r.ttft or 0.0 for r in run.results),
        "max_gap": max(max(r.gaps, default=0.0) for r in run.results),
        "health": max(health, default=0.0),
        "cpu_per_token": engine_cpu / max(generated, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny", help="model directory, or 'tiny' (built locally)")
    parser.add_argument("--tokens", type=int, default=300)
    parser.add_argument("--batches", default="1,8", type=lambda s: [int(b) for b in s.split(",")])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--pause", type=float, default=2.0)
    parser.add_argument("--max-model-len", type=int, default=2048)
    parser.add_argument("--kv-gib", type=int, default=1)
    parser.add_argument("--out", default="/tmp/lfm2-bench/engine-spin")
    args = parser.parse_args()
    stop_servers_on_sigterm()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_dir = workloads.model_path(args.model)
    bias = workloads.word_bias(model_dir)
    specs = [ServerSpec("gateway", model_dir, "bench", args.max_model_len, kv_gib=args.kv_gib,
                        env={SPIN_ENV: "1"}, label="spinning"),
             ServerSpec("gateway", model_dir, "bench", args.max_model_len, kv_gib=args.kv_gib,
                        label="napping")]
    servers = [Server(spec, out) for spec in specs]
    cells: dict[tuple[str, int], list[dict[str, float]]] = {}
    loads = [uptime()]
    with running(servers):
        for s in servers:  # warm-up
            asyncio.run(_cell(s, 2, 8, bias))
        for rep in range(args.reps):
            for s in servers if rep % 2 == 0 else servers[::-1]:
                for batch in args.batches:
                    settle(args.pause)
                    cells.setdefault((s.spec.name, batch), []).append(asyncio.run(_cell(s, batch, args.tokens, bias)))
            print(f"# rep {rep + 1}/{args.reps} done", flush=True)
        loads.append(uptime())

    header("Engine readers: spinning against napping", f"model {model_dir}; {args.tokens} tokens per stream; "
           f"{args.reps} alternating repetitions; {args.pause:g} s pause before each cell; spinning: {SPIN_ENV}=1 "
           "(vLLM's own 1 s), napping: the default, naps of 20 µs to 1 ms", loads=(loads[0], loads[-1]))
    print("| gateway | batch | decode tokens/s | TTFT ms | largest gap ms | slowest /health ms "
          "| engine CPU ms per token |")
    print("|---|---|---|---|---|---|---|")
    for batch in args.batches:
        for s in servers:
            rows = cells[(s.spec.name, batch)]
            cpu = spread([r["cpu_per_token"] for r in rows], 1000, 1)
            print(f"| {s.spec.name} | {batch} | {spread([r['rate'] for r in rows], digits=1)} | "
                  f"{spread([r['ttft'] for r in rows], 1000)} | {spread([r['max_gap'] for r in rows], 1000)} | "
                  f"{spread([r['health'] for r in rows], 1000)} | {cpu} |")


if __name__ == "__main__":
    main()
