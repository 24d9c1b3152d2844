"""CPU time the gateway's own request path costs per token and per request, without an engine.

    python bench/frontend_bench.py [--requests 64] [--concurrency 32] [--tokens 64] [--repeat 5]

The real app (`create_app`: middleware, routing, validation, prompt rendering, `chat_stream`, the tool
parser, SSE framing) runs in this process on a `VllmEngine` whose AsyncLLM is replaced by a fake that
yields real `vllm.outputs.RequestOutput` objects at once, one token per step, so the numbers include
our conversion of vLLM's outputs. Requests are driven through ASGI directly (no sockets, no HTTP
client). What the fake itself costs is measured alone and subtracted. Loads as in `serving_bench.py`:
`plain` (word tokens) and `tool` (a forced LFM2 call with a 2-4 KB argument, split into the tiny
tokenizer's tokens). Process CPU time, best of `--repeat`, so background load on the machine matters
little. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import workloads


class FakeLLM:
    """Stands in for AsyncLLM: `generate` yields one DELTA RequestOutput per piece of text."""

    errored = False

    def __init__(self, pieces: list[str], token_id: int = 42) -> None:
        self.pieces = pieces
        self.token_id = token_id

    async def generate(self, prompt: dict[str, Any], sampling: Any, request_id: str) -> AsyncIterator[Any]:
        from vllm.outputs import CompletionOutput, RequestOutput

        ids = prompt["prompt_token_ids"]
        last = len(self.pieces) - 1
        for i, piece in enumerate(self.pieces):
            await asyncio.sleep(0)
            out = CompletionOutput(index=0, text=piece, token_ids=[self.token_id], cumulative_logprob=None,
                                   logprobs=None, finish_reason="length" if i == last else None)
            yield RequestOutput(request_id, None, ids, None, [out], finished=i == last)

    async def abort(self, request_id: str) -> None:
        return None


def make_engine(model_dir: str, llm: FakeLLM) -> Any:
    from transformers import AutoTokenizer

    from server.engine.vllm_engine import VllmEngine

    engine = VllmEngine.__new__(VllmEngine)
    engine._llm = llm
    engine.model_id = "bench"
    engine.max_model_len = 8192
    engine.dtype = "float32"
    engine._tokenizer = AutoTokenizer.from_pretrained(model_dir)
    return engine


def make_app(model_dir: str, engine: Any) -> Any:
    from server.app import create_app
    from server.settings import Settings

    app = create_app(Settings(model=model_dir, served_model_name="bench"), lambda: engine)
    app.state.ctx.engine = engine  # no lifespan: the engine is "loaded" at once
    return app


async def request(app: Any, body: bytes) -> bytes:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/chat/completions", "raw_path": b"/v1/chat/completions", "query_string": b"",
             "root_path": "", "headers": [(b"content-type", b"application/json"),
                                          (b"content-length", str(len(body)).encode())],
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}
    sent = False
    chunks: list[bytes] = []
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await never.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
        elif message["status"] != 200:
            raise RuntimeError(f"status {message['status']}")

    await app(scope, receive, send)
    return b"".join(chunks)


async def drive(app: Any, body: bytes, requests: int, concurrency: int) -> bytes:
    left = requests
    last = b""

    async def client() -> None:
        nonlocal left, last
        while left > 0:
            left -= 1
            last = await request(app, body)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return last


async def fake_only(llm: FakeLLM, requests: int, concurrency: int) -> None:
    left = requests

    async def client() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            async for _ in llm.generate({"prompt_token_ids": [1, 2, 3]}, None, "x"):
                pass

    await asyncio.gather(*(client() for _ in range(concurrency)))


def cpu(fn: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def tool_pieces(model_dir: str, size: int) -> list[str]:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    ids = tok.encode(workloads.call_text(size), add_special_tokens=False)
    return [tok.decode([i], skip_special_tokens=False) for i in ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--loads", default="plain,tool", type=lambda s: s.split(","))
    args = parser.parse_args()
    model_dir = workloads.model_path(args.model)
    print("| load | tokens/request | our CPU per request ms | per token us | fake engine per token us |")
    print("|---|---|---|---|---|")
    for load in args.loads:
        print(measure(load, model_dir, args), flush=True)


def measure(load: str, model_dir: str, args: argparse.Namespace) -> str:
    import uvloop

    if load == "plain":
        pieces = [" word"] * args.tokens
        body = json.dumps(workloads.plain("bench", args.tokens)).encode()
    else:
        size = workloads.TOOL_SIZES[1]
        pieces = tool_pieces(model_dir, size)
        body = json.dumps(workloads.tool("bench", size, 6000)).encode()
    llm = FakeLLM(pieces)
    app = make_app(model_dir, make_engine(model_dir, llm))
    check = uvloop.run(drive(app, body, 1, 1))
    assert check.endswith(b"data: [DONE]\n\n"), check[-300:]
    total = cpu(lambda: uvloop.run(drive(app, body, args.requests, args.concurrency)), args.repeat)
    base = cpu(lambda: uvloop.run(fake_only(llm, args.requests, args.concurrency)), args.repeat)
    tokens = len(pieces) * args.requests
    ours = total - base
    return (f"| {load} | {len(pieces)} | {1000 * ours / args.requests:.2f} | {1e6 * ours / tokens:.1f} | "
            f"{1e6 * base / tokens:.1f} |")


if __name__ == "__main__":
    main()
