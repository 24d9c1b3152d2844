"""An agent loop through the OpenAI client: what each turn costs, and how much of it the prefix cache saves.

    python bench/agent_loop_bench.py [--servers gateway,vllm] [--turns 8] [--reps 5] [--model shape|tiny]

The loop is the one an agent runs: a system prompt and tools, a task, then call -> tool result -> call
... for `--turns` turns, every turn's prompt being the last one plus the call and its result. Each call
is forced (vLLM's `structured_outputs` regex: a random-weight model writes nothing useful on its own),
`tool_choice` is "auto" (so bare vLLM runs its `lfm2` parser), streamed, and the client sends back the
`tool_calls` it read, as an OpenAI agent does. Per turn it prints the prompt tokens (`usage`), the time
to the first streamed chunk (TTFT: both servers send their first chunk when the engine's first token is
out, so it is the prompt's prefill, which the prefix cache shortens), the time to the whole call, and
the share of that turn's prompt tokens the engine found in its prefix cache (the change of vLLM's
`vllm:prefix_cache_hits` over `vllm:prefix_cache_queries` across the turn, from `/metrics`).

Each server runs the whole loop `--reps` times; every repetition opens with its own first line, so it
starts as cold as a new conversation would (the cache holds nothing of it) while its later turns can
reuse its own earlier ones. The table gives, per turn, the median over repetitions and the min-max.
`--model shape` (default) serves the LFM2-2.6B shape with dummy weights (`real_size_bench.py`), one
server at a time; `tiny` is quicker. Servers and engine arguments as in `servers.py`. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import openai
import workloads
from real_size_bench import make_model_dir
from report import header, spread, uptime
from servers import Server, running, stop_servers_on_sigterm, variant

SYSTEM = ("You are a careful research assistant working inside a file system and a search index. Plan "
          "briefly, call one tool per turn, read its result, and continue until the task is done. " * 3)
TOOLS = [
    {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": props, "required": list(props)}}}
    for name, description, props in [
        ("search", "Search the document index and return the best matching passages with their ids, "
                   "titles and a short excerpt each.", {"query": {"type": "string"}, "limit": {"type": "integer"}}),
        ("read_file", "Read a text file from the workspace and return its content, possibly truncated.",
         {"path": {"type": "string"}}),
        ("write_file", "Write a text file in the workspace, replacing it if it exists.",
         {"path": {"type": "string"}, "content": {"type": "string"}}),
        ("list_dir", "List the entries of a directory in the workspace with their sizes.",
         {"path": {"type": "string"}}),
        ("run_tests", "Run the project's test suite, or one test file, and return the summary.",
         {"target": {"type": "string"}}),
        ("fetch_url", "Fetch a web page and return its readable text.", {"url": {"type": "string"}}),
    ]
]
TASK = "Find the three most cited papers on hybrid convolution-attention models and summarize them in notes.md."
RESULT = ("Passage {i}: hybrid models interleave gated short convolutions with a few attention layers; "
          "they keep a small recurrent state per sequence and a KV cache only for attention. " * 4)


def call_for(turn: int) -> tuple[str, str, dict[str, Any]]:
    name, args = [("search", {"query": f"hybrid models part {turn}", "limit": 5}),
                  ("read_file", {"path": f"papers/p{turn}.txt"}),
                  ("list_dir", {"path": f"papers/{turn}"})][turn % 3]
    rendered = ", ".join(f"{k}={json.dumps(v)}" for k, v in args.items())
    return name, f"<|tool_call_start|>[{name}({rendered})]<|tool_call_end|>", args


def prefix_counters(server: Server) -> tuple[float, float]:
    samples = server.metrics()
    hits = sum(v for k, v in samples.items() if k.split("{")[0] in ("vllm:prefix_cache_hits_total",
                                                                      "vllm:prefix_cache_hits"))
    queries = sum(v for k, v in samples.items() if k.split("{")[0] in ("vllm:prefix_cache_queries_total",
                                                                         "vllm:prefix_cache_queries"))
    return hits, queries


def agent_loop(server: Server, turns: int, rep: int) -> list[dict[str, Any]]:
    client = openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0, timeout=600)
    system = f"Session {rep + 1} of the research agent (id {os.urandom(4).hex()}). {SYSTEM}"
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}, {"role": "user", "content": TASK}]
    rows = []
    for turn in range(turns):
        name, text, expected = call_for(turn)
        hits0, queries0 = prefix_counters(server)
        started = time.perf_counter()
        ttft = None
        calls: dict[int, dict[str, str]] = {}
        usage = None
        stream = client.chat.completions.create(
            model=server.spec.served_name, messages=messages, tools=TOOLS, tool_choice="auto",  # type: ignore[arg-type]
            stream=True, stream_options={"include_usage": True}, max_tokens=64,
            temperature=workloads.SAMPLING["temperature"], top_p=workloads.SAMPLING["top_p"],
            extra_body={"structured_outputs": {"regex": workloads.regex_literal(text)},
                        "min_p": workloads.SAMPLING["min_p"],
                        "repetition_penalty": workloads.SAMPLING["repetition_penalty"]})
        for chunk in stream:
            usage = chunk.usage or usage
            if ttft is None and chunk.choices:
                ttft = time.perf_counter() - started
            for choice in chunk.choices:
                for fragment in choice.delta.tool_calls or ():
                    call = calls.setdefault(fragment.index, {"id": "", "name": "", "arguments": ""})
                    call["id"] += fragment.id or ""
                    if fragment.function:
                        call["name"] += fragment.function.name or ""
                        call["arguments"] += fragment.function.arguments or ""
        wall = time.perf_counter() - started
        hits1, queries1 = prefix_counters(server)
        ok = len(calls) == 1 and calls[0]["name"] == name and _decoded(calls[0]["arguments"]) == expected
        queried = queries1 - queries0
        rows.append({"turn": turn + 1, "prompt_tokens": usage.prompt_tokens if usage else None,
                     "ttft": ttft, "wall": wall, "hit_ratio": (hits1 - hits0) / queried if queried else None,
                     "call_ok": ok})
        print(f"# {server.spec.name} rep {rep + 1} turn {turn + 1}: {json.dumps(rows[-1])}", flush=True)
        call_id = calls.get(0, {}).get("id") or f"call_{turn}"
        messages.append({"role": "assistant", "content": None, "tool_calls": [
            {"id": call_id, "type": "function",
             "function": {"name": calls.get(0, {}).get("name") or name,
                          "arguments": calls.get(0, {}).get("arguments") or json.dumps(expected)}}]})
        messages.append({"role": "tool", "tool_call_id": call_id, "content": RESULT.format(i=turn + 1)})
    return rows


def _decoded(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except ValueError:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="gateway,vllm", type=lambda s: s.split(","))
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5, help="whole loops per server, each from a cold start")
    parser.add_argument("--model", default="shape", help="'shape' (LFM2-2.6B, dummy weights), 'tiny', or a dir")
    parser.add_argument("--max-model-len", type=int, default=8192)
    parser.add_argument("--kv-gib", type=int, default=1)
    parser.add_argument("--out", default="/tmp/lfm2-bench/agent")
    parser.add_argument("--json", default=None, help="write the raw rows to this file")
    args = parser.parse_args()
    stop_servers_on_sigterm()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.model == "shape":
        model_dir, engine_args = str(make_model_dir(out)), {"load_format": "dummy"}
    else:
        model_dir, engine_args = workloads.model_path(args.model), {}
    results: dict[str, list[list[dict[str, Any]]]] = {}
    loads = [uptime()]
    for name in args.servers:  # one at a time: two 2.6B engines do not fit side by side on a small machine
        server = Server(variant(name, model_dir, "bench", args.max_model_len, args.kv_gib, engine_args), out)
        with running([server], 1800):
            results[name] = [agent_loop(server, args.turns, rep) for rep in range(args.reps)]
    loads.append(uptime())
    if args.json:
        Path(args.json).write_text(json.dumps(results))

    header("Agent loop", f"model {model_dir}; {args.turns} turns, one forced call each, {args.reps} loops per "
           "server; median over loops (min-max)", loads=(loads[0], loads[-1]))
    print("| turn | " + " | ".join(f"{n} prompt tokens | {n} TTFT ms | {n} whole call ms | {n} prefix hits"
                                   for n in args.servers) + " |")
    print("|---|" + "---|---|---|---|" * len(args.servers))
    for turn in range(args.turns):
        cells = []
        for name in args.servers:
            rows = [loop[turn] for loop in results[name]]
            ttft = [1000 * r["ttft"] for r in rows if r["ttft"] is not None]
            hits = [100 * r["hit_ratio"] for r in rows if r["hit_ratio"] is not None]
            wrong = sum(not r["call_ok"] for r in rows)
            note = f" ({wrong} calls wrong)" if wrong else ""
            wall = [1000 * r["wall"] for r in rows]
            cells.append(f"{rows[0]['prompt_tokens']} | {spread(ttft)}{note} | {spread(wall)} | "
                         f"{spread(hits, unit='%')}")
        print(f"| {turn + 1} | " + " | ".join(cells) + " |")
    later = {n: [1000 * loop[t]["ttft"] for loop in results[n] for t in range(1, args.turns) if loop[t]["ttft"]]
             for n in args.servers}
    first = {n: [1000 * loop[0]["ttft"] for loop in results[n] if loop[0]["ttft"]] for n in args.servers}
    print("\n| server | first turn TTFT ms | later turns TTFT ms | later / first |")
    print("|---|---|---|---|")
    for n in args.servers:
        if first[n] and later[n]:
            print(f"| {n} | {spread(first[n])} | {spread(later[n])} | "
                  f"{statistics.median(later[n]) / statistics.median(first[n]):.2f} |")


if __name__ == "__main__":
    main()
