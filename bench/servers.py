"""Starts and stops the two servers the benchmarks compare, with the same engine arguments.

- `gateway`: `lfm2-serve` (this repository), with the event-loop lag probe on.
- `vllm`: vLLM's own OpenAI server (`bench/vllm_serve.py`, which is `python -m
  vllm.entrypoints.openai.api_server` plus the same lag probe) with `--tool-call-parser lfm2`.

Both get the model directory, `max_model_len`, dtype, the KV cache size (`VLLM_CPU_KVCACHE_SPACE`), the
structured-output backend the gateway configures (`xgrammar`, no free whitespace) and log stats on.
Every request the benchmarks send spells out its sampling parameters, so neither side's defaults
matter. Also here: CPU time of a server's processes, and its Prometheus samples.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from server.engine.vllm_plugin import SPIN_ENV

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PYTHON = sys.executable
STRUCTURED = {"backend": "xgrammar", "disable_any_whitespace": True}


def stop_servers_on_sigterm() -> None:
    """Turn SIGTERM (e.g. from `timeout`) into SystemExit, so a benchmark's `finally` stops the servers
    it started; they run in their own sessions and would otherwise outlive it."""
    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


SETTLE_S = 1.5


def settle(seconds: float = SETTLE_S) -> None:
    """Wait out the engine of the server that worked last. Bare vLLM's queue readers spin for 1 s after
    its last request, and a server that starts work in that second waits for the spin to end (the
    one-second first output in bench/RESULTS.md). Call before each turn when servers take turns."""
    time.sleep(seconds)


@contextlib.contextmanager
def running(servers: list[Server], timeout: float = 900) -> Iterator[list[Server]]:
    """Start the servers side by side and wait until each is ready; stop them all however the block ends."""
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait_ready(timeout)
        yield servers
    finally:
        for s in servers:
            s.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerSpec:
    kind: str  # "gateway" | "vllm"
    model_dir: str
    served_name: str
    max_model_len: int
    kv_gib: int = 1
    engine_args: dict[str, Any] = field(default_factory=dict)  # e.g. {"load_format": "dummy"}
    env: dict[str, str] = field(default_factory=dict)
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.kind


def variant(name: str, model_dir: str, served_name: str, max_model_len: int, kv_gib: int,
            engine_args: dict[str, Any] | None = None) -> ServerSpec:
    """`gateway` or `vllm`, optionally with one suffix that sets the CPU environment:

    - `-untuned`: the launcher's CPU tuning off (`LFM2_CPU_TUNING=0`; gateway only);
    - `-tuned`: the preloads the gateway's launcher adds (see server/cpu_tuning.py; vLLM only);
    - `-reserve`: vLLM's own `auto` binding, one core left to the serving processes;
    - `-allcores`: OpenMP threads on every allowed CPU, none reserved.
    """
    kind, _, option = name.partition("-")
    env: dict[str, str] = {}
    cpus = sorted(os.sched_getaffinity(0))
    if (kind, option) == ("gateway", "untuned"):
        env["LFM2_CPU_TUNING"] = "0"
    elif (kind, option) == ("vllm", "tuned"):
        from server.ops import cpu_tuning

        env["LD_PRELOAD"] = ":".join(p for p in (cpu_tuning.find_tcmalloc(), cpu_tuning.find_iomp()) if p)
    elif option == "reserve":
        env["VLLM_CPU_OMP_THREADS_BIND"] = "auto"
    elif option == "allcores":
        env["VLLM_CPU_OMP_THREADS_BIND"] = ",".join(str(c) for c in cpus)
        env["VLLM_CPU_NUM_OF_RESERVED_CPU"] = "0"
    if kind not in ("gateway", "vllm") or (option and not env):
        raise ValueError(f"unknown server {name!r}: gateway or vllm, optionally with -untuned (gateway), "
                         "-tuned (vllm), -reserve or -allcores")
    return ServerSpec(kind, model_dir, served_name, max_model_len, kv_gib=kv_gib, engine_args=engine_args or {},
                      env=env, label=name)


class Server:
    def __init__(self, spec: ServerSpec, log_dir: Path) -> None:
        self.spec = spec
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"{spec.name}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        s = self.spec
        if s.kind == "gateway":
            cmd = [PYTHON, "-m", "server.cli", "--model", s.model_dir, "--served-model-name", s.served_name,
                   "--host", "127.0.0.1", "--port", str(self.port), "--max-model-len", str(s.max_model_len),
                   "--cpu-kvcache-space-gib", str(s.kv_gib)]
            if s.engine_args:
                cmd += ["--engine-args", json.dumps(s.engine_args)]
            return cmd
        cmd = [PYTHON, str(BENCH / "vllm_serve.py"), "--model", s.model_dir, "--served-model-name", s.served_name,
               "--host", "127.0.0.1", "--port", str(self.port), "--max-model-len", str(s.max_model_len),
               "--enable-auto-tool-choice", "--tool-call-parser", "lfm2",
               "--structured-outputs-config", json.dumps(STRUCTURED)]
        for key, value in s.engine_args.items():
            cmd += [f"--{key.replace('_', '-')}", str(value)]
        return cmd

    def start(self) -> None:
        # Our vLLM plugin loads in bare vLLM too (an installed entry point); there it keeps vLLM's own
        # 1 s spin of the engine's queue readers, so bare vLLM stays bare (server/engine/vllm_plugin.py).
        bare = {SPIN_ENV: "1"} if self.spec.kind == "vllm" else {}
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "LFM2_LOOP_LAG_PROBE": "1",
               "VLLM_CPU_KVCACHE_SPACE": str(self.spec.kv_gib), **bare, **self.spec.env}
        handle = self.log.open("wb")
        self.process = subprocess.Popen(self.command(), cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
                                        env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        path = "/ready" if self.spec.kind == "gateway" else "/health"
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.spec.name} exited {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(self.base + path, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError(f"{self.spec.name} not ready after {timeout:.0f}s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU time (user + system) of the API process, and of its engine processes (all descendants)."""
        import psutil

        main = psutil.Process(self.pid)
        own = sum(main.cpu_times()[:2])
        children = 0.0
        for child in main.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                children += sum(child.cpu_times()[:2])
        return own, children

    def metrics(self) -> dict[str, float]:
        """Prometheus samples by `name{labels}`."""
        text = httpx.get(self.base + "/metrics", timeout=30).text
        out: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                with contextlib.suppress(ValueError):
                    out[key] = float(value)
        return out


def histogram_quantile(before: dict[str, float], after: dict[str, float], name: str, q: float) -> float | None:
    """The q-quantile of a histogram's observations between two scrapes (linear within a bucket)."""
    buckets: list[tuple[float, float]] = []
    for key, value in after.items():
        if key.startswith(name + "_bucket{") and 'le="' in key:
            le = key.split('le="', 1)[1].split('"', 1)[0]
            bound = float("inf") if le == "+Inf" else float(le)
            buckets.append((bound, value - before.get(key, 0.0)))
    buckets.sort()
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    target = q * total
    low, below = 0.0, 0.0
    for bound, count in buckets:
        if count >= target:
            if bound == float("inf"):
                return low
            inside = count - below
            return low + (bound - low) * ((target - below) / inside if inside else 1.0)
        low, below = bound, count
    return low


def histogram_sum(before: dict[str, float], after: dict[str, float], name: str) -> tuple[float, float]:
    """(sum, count) of a histogram's observations between two scrapes, over all label sets."""
    total = count = 0.0
    for key, value in after.items():
        base = key.split("{", 1)[0]
        if base == name + "_sum":
            total += value - before.get(key, 0.0)
        elif base == name + "_count":
            count += value - before.get(key, 0.0)
    return total, count
