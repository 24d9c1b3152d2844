"""How long tokenizing one long prompt holds the event loop, on the loop and through `encode_off_loop`.

    python bench/tokenize_stall_bench.py [--kb 900] [--model tiny]

A 5 ms ticker runs on the loop while one prompt of `--kb` KB is encoded, first directly on the loop
(what the gateway did before), then with `server.core.prompts.encode_off_loop` (the tokenizer thread). Prints
the encode time and the worst lateness of the ticker, which is how long every other stream would have
waited for its next chunk. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import workloads

from server.core import prompts

SENTENCE = "The quick brown fox jumps over the lazy dog. "


async def worst_stall(encode: Any) -> tuple[float, float]:
    stop = asyncio.Event()

    async def ticker() -> float:
        worst = 0.0
        while not stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - t0 - 0.005)
        return worst

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    t0 = time.perf_counter()
    await encode()
    took = time.perf_counter() - t0
    stop.set()
    return took, await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kb", type=int, default=900)
    parser.add_argument("--model", default="tiny", help="model directory, or 'tiny' (built locally)")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    model_dir = workloads.model_path(args.model)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    text = SENTENCE * (args.kb * 1024 // len(SENTENCE))
    prompts.encode(tokenizer, text[:1000])  # warm-up

    async def on_loop() -> None:
        prompts.encode(tokenizer, text)

    async def off_loop() -> None:
        await prompts.encode_off_loop(tokenizer, text)

    print(f"`{' '.join(sys.argv)}`; {platform.node()}, {os.cpu_count()} CPUs; {len(text) // 1024} KB prompt\n")
    print("| where | encode ms | worst loop stall ms |")
    print("|---|---|---|")
    for name, run in (("on the event loop", on_loop), ("encode_off_loop", off_loop)):
        took, stall = asyncio.run(worst_stall(run))
        print(f"| {name} | {1000 * took:.0f} | {1000 * stall:.1f} |")


if __name__ == "__main__":
    main()
