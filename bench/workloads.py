"""The request bodies the serving benchmarks send: plain chat with a fixed output length, and forced
LFM2 tool calls with a long string argument.

Both servers get identical bodies. Sampling is spelled out (LFM2's recommended values) so neither
server's defaults apply. A forced call is the exact LFM2 call text as a regex through vLLM's
`structured_outputs` extension (a random-weight model writes nothing useful on its own);
`tool_choice` is "auto", which is what makes vLLM run its `lfm2` parser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SAMPLING = {"temperature": 0.3, "top_p": 1.0, "min_p": 0.15, "repetition_penalty": 1.05}
PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."
TOOL_PROMPT = "Save the meeting notes to notes/report.txt."
TOOL_SIZES = (2048, 3072, 4096)  # bytes of the string argument, cycled
WRITE_FILE = {
    "type": "function",
    "function": {
        "name": "write_file",
        "description": "Write a text file.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    },
}
_WORDS = (
    "the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog", "while", "seven", "wizards",
    "quietly", "judge", "boxing", "matches", "under", "a", "pale", "moon", "and", "the", "harbor", "bells",
    "ring", "twice",
)


def model_path(arg: str) -> str:
    """A benchmark's `--model`: a model directory, or 'tiny' (built locally, cached)."""
    if arg != "tiny":
        return arg
    from server.checkpoints.tiny_model import ensure_tiny_model

    return str(ensure_tiny_model())


def word_bias(model_dir: str, limit: int = 300) -> dict[str, float]:
    """`logit_bias` that keeps a random-weight model on whole-word tokens.

    Left alone it mostly picks byte tokens that are not whole UTF-8 characters, which decode to no
    text, so neither server streams anything for them. With every step decoding to a word, every
    step is a chunk on both servers, which is the load a real model puts on a frontend.
    """
    vocab = json.loads((Path(model_dir) / "tokenizer.json").read_text())["model"]["vocab"]
    ids = sorted(i for token, i in vocab.items() if re.fullmatch("\u0120?[a-z]{2,}", token))
    return {str(i): 100.0 for i in ids[:limit]}


def plain(model: str, tokens: int, bias: dict[str, float] | None = None) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": PROMPT}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": tokens,
        "min_tokens": tokens,
        "ignore_eos": True,
        "logit_bias": bias or {},
        **SAMPLING,
    }


def argument_text(size: int) -> str:
    words: list[str] = []
    length = 0
    i = 0
    while length < size:
        word = _WORDS[(i * 7 + i // len(_WORDS)) % len(_WORDS)]
        words.append(word)
        length += len(word) + 1
        i += 1
    return " ".join(words)[:size].rstrip()


def call_text(size: int) -> str:
    return (f'<|tool_call_start|>[write_file(path="notes/report.txt", content="{argument_text(size)}")]'
            "<|tool_call_end|>")


def expected_arguments(size: int) -> dict[str, str]:
    return {"path": "notes/report.txt", "content": argument_text(size)}


def tool(model: str, size: int, max_tokens: int) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": TOOL_PROMPT}],
        "tools": [WRITE_FILE],
        "tool_choice": "auto",
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": max_tokens,
        "structured_outputs": {"regex": regex_literal(call_text(size))},
        **SAMPLING,
    }


def regex_literal(text: str) -> str:
    """A regex matching exactly `text`. Not `re.escape`: it escapes spaces too, and xgrammar logs a
    warning line for every escaped space, in both servers, on every request."""
    return re.sub(r"([\\.^$*+?{}\[\]|()])", r"\\\1", text)


def call_ok(calls: dict[int, dict[str, str]], size: int) -> bool:
    """Exactly one call, to write_file, whose arguments are the forced ones."""
    if len(calls) != 1 or calls.get(0, {}).get("name") != "write_file":
        return False
    try:
        return bool(json.loads(calls[0]["arguments"]) == expected_arguments(size))
    except ValueError:
        return False
