"""Streaming parse cost of LFM2 calls, and the first-fragment latency of holding a call.

1. Streams `<|tool_call_start|>[write_file(path=..., content="<N KB>")]<|tool_call_end|>`
   in token-sized deltas (~4 characters) through `tool_parser.StreamParser` and,
   when vLLM is importable, through vLLM's own `lfm2` tool parser (its streaming
   API, fed the way vLLM's serving layer feeds it), and prints the total parse
   time per size.
2. Commit before you stream: a call is held until it closes or `release_after`
   characters of its arguments are held. For a short call and a 1 KB one, in the
   same ~4-character pieces, prints when the first tool-call fragment comes out
   with `release_after=0` (the old stream: at `name(`) and with the default:
   pieces and characters fed until then, the parse time spent until then and
   for the whole text. The pieces the hold adds are the time it takes the model
   to write them (about one token each).

Not a test.

    python bench/tool_parser_bench.py [--sizes 1,2,4,8,16,32] [--vllm-max-kb 32] [--repeat 5]
                                      [--latency-repeat 200] [--json F]

`--json F` also writes the parse-cost figures as measured (with the command, machine and date), which
`plot_tool_parser.py` draws.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tool_parser
from tool_parser import TOOL_CALL_END, TOOL_CALL_START

DELTA_CHARS = 4
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "the",
    "lazy",
    "dog,",
    '"quoted"',
    "words\nand",
    "a",
    "back\\slash",
]


def make_argument(size: int) -> str:
    words: list[str] = []
    length = 0
    i = 0
    while length < size:
        word = WORDS[i % len(WORDS)]
        words.append(word)
        length += len(word) + 1
        i += 1
    return " ".join(words)[:size]


def make_text(size: int) -> tuple[str, dict[str, Any]]:
    content = make_argument(size)
    arguments = {"path": "notes.txt", "content": content}
    call = f'write_file(path="notes.txt", content={json.dumps(content)})'
    text = f"{TOOL_CALL_START}[{call}]{TOOL_CALL_END}"
    return text, arguments


def split(text: str) -> list[str]:
    return [text[i : i + DELTA_CHARS] for i in range(0, len(text), DELTA_CHARS)]


SHORT_CALL = f'Let me check.{TOOL_CALL_START}[get_weather(city="San Francisco", unit="celsius")]{TOOL_CALL_END}'


def first_fragment(pieces: list[str], release_after: int, repeat: int) -> tuple[int, float, float]:
    """Pieces fed until the first tool-call fragment came out, and the best parse
    times until then and for the whole text (close() included)."""
    best, best_total, first = float("inf"), float("inf"), 0
    for _ in range(repeat):
        parser = tool_parser.StreamParser(release_after=release_after)
        elapsed, until_first, first = 0.0, 0.0, 0
        for fed, piece in enumerate(pieces, 1):
            start = time.perf_counter()
            out = parser.feed(piece)
            elapsed += time.perf_counter() - start
            if not first and any("tool_calls" in delta for delta in out):
                first, until_first = fed, elapsed
        start = time.perf_counter()
        parser.close()
        elapsed += time.perf_counter() - start
        best, best_total = min(best, until_first), min(best_total, elapsed)
    return first, best, best_total


def print_latency(repeat: int) -> None:
    print(
        f"\nfirst tool-call fragment, {DELTA_CHARS}-char pieces, best of {repeat} runs "
        f"(default release_after={tool_parser.DEFAULT_RELEASE_AFTER})\n"
    )
    print(
        f"{'case':<16} {'release_after':>13} {'pieces':>7} {'chars':>6} {'after name(':>11} "
        f"{'added pieces':>12} {'parse us':>9} {'total us':>9} {'call closes at piece':>21}"
    )
    cases = [("short call", SHORT_CALL), ("1 KB argument", make_text(1024)[0])]
    for label, text in cases:
        pieces = split(text)
        paren = text.index("(", text.index(TOOL_CALL_START))
        closes = next(i for i in range(len(pieces)) if sum(map(len, pieces[: i + 1])) > text.index(")]"))
        legacy_count = 0
        for release_after in (0, tool_parser.DEFAULT_RELEASE_AFTER):
            count, seconds, total = first_fragment(pieces, release_after, repeat)
            legacy_count = legacy_count or count
            chars = sum(map(len, pieces[:count]))
            print(
                f"{label:<16} {release_after:>13} {count:>7} {chars:>6} {chars - paren - 1:>11} "
                f"{count - legacy_count:>12} {seconds * 1e6:>9.1f} {total * 1e6:>9.1f} {closes + 1:>21}"
            )


def run_ours(deltas: list[str]) -> tuple[float, str]:
    parser = tool_parser.StreamParser()
    out: list[dict[str, Any]] = []
    start = time.perf_counter()
    for delta in deltas:
        out += parser.feed(delta)
    out += parser.close()
    elapsed = time.perf_counter() - start
    args = "".join(e["function"].get("arguments", "") for d in out for e in d.get("tool_calls", ()))
    return elapsed, args


class _Vocab:
    """The only tokenizer surface vLLM's lfm2 parser touches."""

    def get_vocab(self) -> dict[str, int]:
        return {TOOL_CALL_START: 10, TOOL_CALL_END: 11}


def make_vllm_runner() -> Any:
    try:
        from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
        from vllm.tool_parsers.lfm2_tool_parser import Lfm2ToolParser
    except Exception as error:  # vLLM missing or broken: bench ours only
        print(f"vLLM not available ({type(error).__name__}: {error}); skipping the comparison")
        return None
    request = ChatCompletionRequest(model="lfm2", messages=[{"role": "user", "content": "hi"}])

    def run(deltas: list[str]) -> tuple[float, str]:
        parser = Lfm2ToolParser(_Vocab())  # type: ignore[arg-type]
        previous = ""
        args: list[str] = []
        start = time.perf_counter()
        for delta in deltas:
            current = previous + delta
            message = parser.extract_tool_calls_streaming(previous, current, delta, [], [], [], request)
            previous = current
            for call in (message.tool_calls if message else None) or []:
                if call.function and call.function.arguments:
                    args.append(call.function.arguments)
        elapsed = time.perf_counter() - start
        return elapsed, "".join(args)

    return run


def check(args: str, expected: dict[str, Any]) -> str:
    try:
        return "ok" if json.loads(args) == expected else "WRONG"
    except ValueError:
        return "INVALID"


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--sizes", default="1,2,4,8,16,32", help="argument sizes in KB")
    cli.add_argument("--vllm-max-kb", type=int, default=32, help="largest size to run through vLLM")
    cli.add_argument("--repeat", type=int, default=5, help="runs of ours per size (best is shown)")
    cli.add_argument("--latency-repeat", type=int, default=200, help="runs per first-fragment case (best is shown)")
    cli.add_argument("--json", default=None, help="also write the measured figures to this file")
    options = cli.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]

    command = " ".join([os.path.relpath(sys.executable), *sys.argv])
    machine = (f"{platform.platform()}, {platform.machine()}, {platform.processor() or '?'}, "
               f"cpu_count={os.cpu_count()}, python {platform.python_version()}")
    print("command:", command)
    print("machine:", machine)
    print("date:", datetime.datetime.now().astimezone().isoformat(timespec="seconds"))
    rows: list[dict[str, Any]] = []
    print(f"input: one call, string argument of N KB, streamed in {DELTA_CHARS}-char deltas\n")
    vllm_run = make_vllm_runner()
    header = f"{'size':>6} {'deltas':>7} {'ours ms':>9} {'us/delta':>9} {'ok':>5}"
    if vllm_run:
        header += f" {'vllm lfm2 ms':>13} {'ok':>7} {'vllm/ours':>10}"
    print(header)
    for kb in sizes:
        text, expected = make_text(kb * 1024)
        deltas = split(text)
        runs = [run_ours(deltas) for _ in range(options.repeat)]
        ours = min(elapsed for elapsed, _ in runs)
        row: dict[str, Any] = {"kb": kb, "deltas": len(deltas), "ours_s": ours, "ours_ok": check(runs[0][1], expected)}
        line = (
            f"{kb:>4}KB {len(deltas):>7} {ours * 1e3:>9.2f} {ours / len(deltas) * 1e6:>9.2f} "
            f"{check(runs[0][1], expected):>5}"
        )
        if vllm_run and kb <= options.vllm_max_kb:
            theirs, their_args = vllm_run(deltas)
            line += f" {theirs * 1e3:>13.1f} {check(their_args, expected):>7} {theirs / ours:>9.0f}x"
            row.update(vllm_s=theirs, vllm_ok=check(their_args, expected))
        rows.append(row)
        print(line, flush=True)
    if options.json:
        with open(options.json, "w") as f:
            json.dump({"command": command, "machine": machine, "date": str(datetime.date.today()),
                       "delta_chars": DELTA_CHARS, "rows": rows}, f, indent=1)
            f.write("\n")
    print_latency(options.latency_repeat)


if __name__ == "__main__":
    main()
