"""Shared fixtures. The real gateway (vLLM engine on the tiny LFM2) starts once per session."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[1]
# Every chat stream the suite reads is checked against the tool-call streaming contract.
pytest_plugins = ["tests.clients.stream_recorder"]
START_TIMEOUT = float(os.environ.get("LFM2_TEST_START_TIMEOUT", "420"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gateway:
    """A running `lfm2-serve` process on the tiny model."""

    def __init__(self, base_url: str, process: subprocess.Popen[bytes] | None, log: Path | None) -> None:
        self.base_url = base_url
        self.process = process
        self.log = log
        self.api_key: str | None = None  # sent on /metrics reads when the gateway requires keys

    @property
    def api(self) -> str:
        return self.base_url + "/v1"

    def metric(self, name: str) -> float:
        """Sum of a metric's samples on /metrics (all label sets)."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        response = httpx.get(self.base_url + "/metrics", headers=headers, timeout=10)
        response.raise_for_status()
        text = response.text
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total


def start_gateway(extra_args: list[str], env: dict[str, str] | None = None, name: str = "gateway",
                  model: str | None = "tiny") -> Gateway:
    """`lfm2-serve` on `model`; with `model=None`, no model argument at all (the default model)."""
    port = free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"lfm2-test-{name}-{port}.log"
    cmd = [sys.executable, "-m", "server.cli", *(["--model", model] if model else []), "--host", "127.0.0.1",
           "--port", str(port), "--cpu-kvcache-space-gib", "1", *extra_args]
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    if model is None:
        full_env.pop("LFM2_MODEL", None)
    handle = log.open("wb")
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, env=full_env,
                               start_new_session=True)
    gateway = Gateway(f"http://127.0.0.1:{port}", process, log)
    if "--api-key" in extra_args:
        gateway.api_key = extra_args[extra_args.index("--api-key") + 1].split(",")[0]
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gateway exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(gateway.base_url + "/ready", timeout=5).status_code == 200:
                return gateway
        except httpx.HTTPError:
            pass
        time.sleep(1)
    stop_gateway(gateway)
    raise RuntimeError(f"gateway not ready after {START_TIMEOUT}s:\n{log.read_text()[-4000:]}")


def gateway_timeline(gateway: Gateway, last: int = 30) -> str:
    """The gateway log's last requests, drain steps and errors, one short line each: what a failure
    message can carry when CI shows only the end of its output."""
    lines = []
    for raw in (gateway.log.read_text(errors="replace").splitlines() if gateway.log else []):
        try:
            record = json.loads(raw)
        except ValueError:
            if "Shutting down" in raw or "Error" in raw or "Traceback" in raw:
                lines.append(raw.strip()[:160])
            continue
        when = str(record.get("asctime", ""))[11:]
        if record.get("message") == "request":
            lines.append(f"{when} {record.get('method')} {record.get('route')} {record.get('status')} "
                         f"{record.get('duration_s')} s")
        elif record.get("levelname") != "DEBUG":
            lines.append(f"{when} {record.get('levelname')} {str(record.get('message'))[:120]}")
    return "gateway log:\n" + "\n".join(lines[-last:])


def engine_core_processes(gateway: Gateway) -> list[psutil.Process]:
    """vLLM's engine core under a running gateway: its process title is `VLLM::EngineCore`, its name
    (15 characters) `VLLM::EngineCor`."""
    assert gateway.process is not None
    return [p for p in psutil.Process(gateway.process.pid).children(recursive=True)
            if "EngineCore" in " ".join(p.cmdline()) or "EngineCor" in p.name()]


def stop_gateway(gateway: Gateway, sig: int = signal.SIGTERM) -> int | None:
    if gateway.process is None:
        return None
    if gateway.process.poll() is None:
        os.killpg(gateway.process.pid, sig)
        try:
            gateway.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(gateway.process.pid, signal.SIGKILL)
            gateway.process.wait(30)
    return gateway.process.returncode


@pytest.fixture(scope="session")
def gateway() -> Iterator[Gateway]:
    url = os.environ.get("LFM2_TEST_BASE_URL")
    if url:
        yield Gateway(url.rstrip("/"), None, None)
        return
    # Random weights almost never pick EOS among 65,536 tokens: without a default limit, a request that
    # sets none (Codex CLI's) would generate to the end of the 32K context.
    gw = start_gateway(["--default-max-tokens", "256"])
    try:
        yield gw
    finally:
        stop_gateway(gw)


@pytest.fixture(scope="module")
def client(gateway: Gateway) -> openai.OpenAI:
    """openai-python's client on the session gateway."""
    return openai.OpenAI(base_url=gateway.api, api_key="unused", max_retries=0, timeout=120)


@pytest.fixture
def aclient(gateway: Gateway) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=gateway.api, api_key="unused", max_retries=0, timeout=120)
