"""The engine's own rate: offline `vllm.LLM` decode tokens/s, the ceiling the gateway's rows are read against.

    python bench/offline_vllm.py MODEL_DIR [--max-model-len 4096] [--load-format auto|dummy] < BATCH TOKENS lines

It loads the model once, prints `READY`, and then measures one `BATCH TOKENS` line from stdin at a
time, answering each with `RATE <tokens/s>`, so a benchmark can take turns between it and a server
running beside it (`OfflineEngine` below drives it: `cpu_quant_bench.py`, `real_size_bench.py`).
By hand: `printf '1 64\\n4 64\\n' | python bench/offline_vllm.py DIR`.

Same prompt (the chat prompt `bench/workloads.py` sends, rendered by the checkpoint's template), the same
sampling and logit bias as the gateway rows, a batch of identical requests at once. Decode rate of a
batch: batch x (tokens - 1) / (time for `tokens` tokens - time for 1 token), so prefill is left out as it
is for the streamed rows. `OfflineEngine` gives it the threads, preloads and KV size the gateway's
launcher would.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads

BENCH = Path(__file__).resolve().parent


class OfflineEngine:
    """This script in a process of its own, with the environment the gateway's launcher would give the
    engine (server/ops/cpu_tuning.py: preloads and OpenMP binding) and the KV size; `rate()` measures
    one batch. Its output goes to `log`."""

    def __init__(self, model_dir: Path, log: Path, max_model_len: int, kv_gib: int,
                 load_format: str = "auto") -> None:
        self.model_dir, self.log = model_dir, log
        self.cmd = [sys.executable, str(BENCH / "offline_vllm.py"), str(model_dir), "--max-model-len",
                    str(max_model_len), "--load-format", load_format]
        self.env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": str(kv_gib)}
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        from server.ops import cpu_tuning

        if cpu_tuning.enabled():
            self.env.update(cpu_tuning.changes())
        self._log = self.log.open("w")
        self.process = subprocess.Popen(self.cmd, cwd=BENCH.parent, env=self.env, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self._log, text=True,
                                        start_new_session=True)

    def _answer(self, prefix: str) -> str:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:  # vLLM logs to stdout too: keep those lines in the log
            if line.startswith(prefix):
                return line.removeprefix(prefix).strip()
            self._log.write(line)
            self._log.flush()
        raise RuntimeError(f"offline {self.model_dir.name} exited {self.process.wait()}:\n"
                           + self.log.read_text(errors="replace")[-3000:])

    def wait_ready(self) -> None:
        self._answer("READY")

    def rate(self, batch: int, tokens: int) -> float:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(f"{batch} {tokens}\n")
        self.process.stdin.flush()
        return float(self._answer("RATE "))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--load-format", default="auto", help="`dummy`: random weights, config-only checkpoint")
    args = parser.parse_args()

    from vllm import LLM, SamplingParams

    llm = LLM(model=args.model, max_model_len=args.max_model_len, load_format=args.load_format)
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

    timed(1, 4)  # warm-up
    print("READY", flush=True)
    for line in sys.stdin:
        batch, tokens = map(int, line.split())
        first = timed(batch, 1)
        full = timed(batch, tokens)
        print(f"RATE {batch * (tokens - 1) / (full - first)}", flush=True)


if __name__ == "__main__":
    main()
