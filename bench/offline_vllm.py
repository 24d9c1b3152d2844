"""The engine's own rate: offline `vllm.LLM` decode tokens/s, the ceiling the gateway's rows are read against.

    python bench/offline_vllm.py MODEL_DIR [--batches 1,4] [--tokens 64] [--reps 5] [--max-model-len 4096]
    python bench/offline_vllm.py MODEL_DIR --serve [--max-model-len 4096]

Same prompt (the chat prompt `bench/workloads.py` sends, rendered by the checkpoint's template), the same
sampling and logit bias as the gateway rows, a batch of identical requests at once. Decode rate of a
batch: batch x (tokens - 1) / (time for `tokens` tokens - time for 1 token), so prefill is left out as it
is for the streamed rows. Threads, preloads and KV size come from the environment (`cpu_quant_bench.py`
sets them as the gateway's launcher would). Prints one JSON line `OFFLINE {...}`. With `--serve` it loads
once, prints `READY`, and then measures one `BATCH TOKENS` line from stdin at a time, answering each with
`RATE <tokens/s>`, so a benchmark can take turns between it and a server that runs beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--batches", default="1,4", type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--serve", action="store_true", help="measure `BATCH TOKENS` lines read from stdin")
    args = parser.parse_args()

    from vllm import LLM, SamplingParams

    started = time.monotonic()
    llm = LLM(model=args.model, max_model_len=args.max_model_len)
    load_s = time.monotonic() - started
    tokenizer = llm.get_tokenizer()
    text = tokenizer.apply_chat_template([{"role": "user", "content": workloads.PROMPT}],
                                         add_generation_prompt=True, tokenize=False)
    prompt = tokenizer.encode(text, add_special_tokens=False)  # the template writes the BOS itself
    bias = {int(k): v for k, v in workloads.word_bias(args.model).items()}

    def timed(batch: int, tokens: int) -> float:
        params = SamplingParams(max_tokens=tokens, min_tokens=tokens, ignore_eos=True, logit_bias=bias,
                                **workloads.SAMPLING)
        t0 = time.perf_counter()
        outputs = llm.generate([{"prompt_token_ids": list(prompt)}] * batch, params, use_tqdm=False)
        elapsed = time.perf_counter() - t0
        assert all(len(o.outputs[0].token_ids) == tokens for o in outputs)
        return elapsed

    def rate(batch: int, tokens: int) -> float:
        first = timed(batch, 1)
        full = timed(batch, tokens)
        return batch * (tokens - 1) / (full - first)

    timed(1, 4)  # warm-up
    if args.serve:
        print("READY", flush=True)
        for line in sys.stdin:
            batch, tokens = map(int, line.split())
            print(f"RATE {rate(batch, tokens)}", flush=True)
        return
    runs: dict[int, list[float]] = {b: [] for b in args.batches}
    for _ in range(args.reps):
        for batch in args.batches:
            runs[batch].append(rate(batch, args.tokens))
            print(f"# offline batch {batch}: {runs[batch][-1]:.2f} tok/s", file=sys.stderr, flush=True)
    print("OFFLINE " + json.dumps({"prompt_tokens": len(prompt), "load_s": load_s,
                                   "runs": {str(b): v for b, v in runs.items()}}), flush=True)


if __name__ == "__main__":
    main()
