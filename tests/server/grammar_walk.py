"""A stand-in for a random-weight model: walks a grammar by picking uniformly among allowed tokens.

The vocabulary is every printable ASCII character, a few non-ASCII ones, some multi-character
pieces an LLM vocabulary has (`", "`, `True`, `=\\"`), LFM2's two call markers as single tokens
and an end-of-sequence token, so structural tags with `token` formats compile as they do in vLLM.
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from typing import Any

import xgrammar as xgr

EOS = "</s>"
MARKERS = ("<|tool_call_start|>", "<|tool_call_end|>")
PIECES = (", ", '="', "True", "False", "None", '": ', "é", "中", "\n")


@lru_cache(maxsize=1)
def _compiler() -> tuple[xgr.GrammarCompiler, list[str]]:
    vocab = [EOS, *MARKERS, *(chr(c) for c in range(0x20, 0x7F)), *PIECES]
    info = xgr.TokenizerInfo(vocab, vocab_type=xgr.VocabType.RAW, stop_token_ids=[0])
    return xgr.GrammarCompiler(info, cache_enabled=False), vocab


def compile_tag(tag: dict[str, Any]) -> Any:
    return _compiler()[0].compile_structural_tag(json.dumps(tag))


def compile_ebnf(grammar: str) -> Any:
    return _compiler()[0].compile_grammar(grammar)


def walk(compiled: Any, rng: random.Random, max_tokens: int = 4000, prefix: tuple[str | int, ...] = ()
         ) -> str | None:
    """Text of one random walk to the end of sequence; None if it ran out of tokens first.
    `prefix` is what to write first: text, or token ids (it must be allowed)."""
    _, vocab = _compiler()
    matcher = xgr.GrammarMatcher(compiled)
    out = []
    for piece in prefix:
        for token in [piece] if isinstance(piece, int) else [vocab.index(char) for char in piece]:
            assert matcher.accept_token(token), vocab[token]
            out.append(vocab[token])
    mask = xgr.allocate_token_bitmask(1, len(vocab))
    for _ in range(max_tokens):
        matcher.fill_next_token_bitmask(mask)
        allowed = xgr.testing.bitmask_to_bool_mask(mask, len(vocab))[0].nonzero().flatten().tolist()
        token = rng.choice(allowed)
        assert matcher.accept_token(token)
        if token == 0:
            return "".join(out)
        out.append(vocab[token])
    return None


@lru_cache(maxsize=512)
def _compiled(grammar: str) -> Any:
    return compile_ebnf(grammar)


def accepts(grammar: str, text: str) -> bool:
    """Whether the EBNF grammar matches `text` exactly."""
    matcher = xgr.GrammarMatcher(_compiled(grammar))
    return bool(matcher.accept_string(text) and matcher.accept_token(0))
